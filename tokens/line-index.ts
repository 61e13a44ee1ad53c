/**
 * Maps UTF-8 byte offsets of a source to 1-based line and column, as diagnostics print them.
 *
 * The line-start table is built once per source (one pass); each lookup is a binary search plus a
 * walk along one line. Columns count characters (Unicode code points) from 1, as rustc does, so a
 * multi-byte character before the offset counts once.
 */

/** A resolved position. */
export interface LineColumn {
	/** 1-based line number. */
	line: number;
	/** 1-based column, counted in characters. */
	column: number;
	/** The whole line, without its line break (for caret rendering). */
	lineText: string;
}

/** The line table of one source text. */
export class LineIndex {
	/** UTF-8 byte offset where each line starts. */
	private readonly lineStartBytes: number[] = [0];
	/** UTF-16 index where each line starts (same lines). */
	private readonly lineStartIndices: number[] = [0];
	/** UTF-8 length of the whole text. */
	readonly byteLength: number;

	constructor(readonly text: string) {
		let byte = 0;
		for (let i = 0; i < text.length; i++) {
			const c = text.charCodeAt(i);
			if (c < 0x80) {
				byte++;
				if (c === 0x0a) {
					this.lineStartBytes.push(byte);
					this.lineStartIndices.push(i + 1);
				}
			} else if (c < 0x800) {
				byte += 2;
			} else if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
				byte += 4;
				i++;
			} else {
				byte += 3;
			}
		}
		this.byteLength = byte;
	}

	/** Number of lines (a text ending in a newline has an empty last line). */
	get lineCount(): number {
		return this.lineStartBytes.length;
	}

	/**
	 * Line and column of a byte offset. Offsets past the end clamp to the end; an offset inside a
	 * multi-byte character resolves to that character.
	 */
	lookup(byteOffset: number): LineColumn {
		const offset = Math.max(0, Math.min(byteOffset, this.byteLength));
		const starts = this.lineStartBytes;
		let lo = 0;
		let hi = starts.length - 1;
		while (lo < hi) {
			const mid = (lo + hi + 1) >> 1;
			if (starts[mid] <= offset) lo = mid;
			else hi = mid - 1;
		}
		const text = this.text;
		const lineStart = this.lineStartIndices[lo];
		const lineEnd = lo + 1 < starts.length ? this.lineStartIndices[lo + 1] - 1 : text.length;
		let byte = starts[lo];
		let column = 1;
		let i = lineStart;
		while (i < lineEnd) {
			const c = text.charCodeAt(i);
			const width = c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1)) ? 4 : 3;
			if (byte + width > offset) break;
			byte += width;
			i += width === 4 ? 2 : 1;
			column++;
		}
		let lineText = text.slice(lineStart, lineEnd);
		if (lineText.endsWith('\r')) lineText = lineText.slice(0, -1);
		return { line: lo + 1, column, lineText };
	}
}

function isLowSurrogate(c: number): boolean {
	return c >= 0xdc00 && c <= 0xdfff;
}
