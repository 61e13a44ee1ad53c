/**
 * Our flat token streams as Scarb's host builds a macro's input (v2: scarb/src/compiler/plugin/
 * proc_macro/v2/types.rs, TokenStreamBuilder; v1: the same text as one string):
 * - every token is its own text, and the trivia between two tokens is a token of its own: the text
 *   the stream holds between them when it has any (split after the first newline, as Cairo splits
 *   a token's trailing trivia from the next one's leading trivia), else one space where the JOINT
 *   flag is clear (a compacted stream kept no trivia text);
 * - an inline call's arguments, and an attribute's arguments when there are any, are wrapped in
 *   `(` `)`, since Scarb passes the parenthesised argument list node;
 * - spans are moved into the call's {@link SpanFrame}; a generated token gets the adapted call site.
 *
 * One pass over the records, into reusable flat buffers: a token's text is never copied, the v2
 * token array points into the stream's UTF-8 text (or at a constant ` ()`), and the v1 string is one
 * buffer. The host keeps every buffer alive until the library returns; the copies Scarb's ABI hands
 * back to the host inside the result wrapper (`input`, `input_attr`) are these buffers, which the
 * next call reuses: there is nothing else to free.
 */
import koffi from 'koffi';
import type { Span } from '../../protocol/expand.js';
import { RECORD_WIDTH, RecordField, SPAN_CALL_SITE, TokenFlags, TokenKind, type TokenStream } from '../../protocol/token-stream.js';
import type { MappedTokenStream } from '../library-model.js';
import { SpanFrame } from './span-frame.js';
import { TOKEN_TREE_BYTES, type RawTokenStreamV1, type RawTokenStreamV2 } from './stable-abi.js';

/** Which buffer a piece of input text lies in. */
const FROM_TEXT = 0;
const FROM_CONSTANT = 1;
// The text of synthesized tokens: a space, `(` and `)`, at offsets 0, 1 and 2.
const CONSTANT = Buffer.allocUnsafeSlow(3).fill(' ()', 0, 3, 'latin1');
const SPACE = 0;
const OPEN = 1;
const CLOSE = 2;
const NEWLINE = 0x0a;
const TWO_32 = 0x1_0000_0000;
/** {@link ScarbInputBuilder.match}: the output token is trivia of the input. */
export const MATCHED_TRIVIA = 3;
const NO_METADATA = { original_file_path: 0, file_id: 0, edition: 0 };

/**
 * The frame of a call, from the stream that is its input (an inline call's arguments, else the
 * item): it starts at the input's first source offset (the `(` before an inline call's arguments)
 * and is as wide as the input; an input with no source spans at all has a frame of width 0.
 */
export function frameOf(stream: TokenStream | undefined, callSite: Span | undefined, delimited: boolean): SpanFrame {
	const r = stream?.records ?? [];
	const n = r.length;
	let first = -1;
	for (let i = RecordField.spanStart; i < n; i += RECORD_WIDTH) {
		if (r[i] !== SPAN_CALL_SITE) {
			first = r[i];
			break;
		}
	}
	if (first === -1) return new SpanFrame(0, 0, callSite);
	let last = first;
	for (let i = n - RECORD_WIDTH + RecordField.spanEnd; i >= 0; i -= RECORD_WIDTH) {
		if (r[i] !== SPAN_CALL_SITE) {
			last = r[i];
			break;
		}
	}
	if (!delimited) return new SpanFrame(first, Math.max(0, last - first), callSite);
	const base = Math.max(0, first - 1);
	return new SpanFrame(base, Math.max(0, last + 1 - base), callSite);
}

/** Builds one input slot's stream (the item, or an attribute's arguments); one instance per slot, reused. */
export class ScarbInputBuilder {
	private text = Buffer.allocUnsafeSlow(4096);
	private textAddress = addressOf(this.text);
	/** Three u32 per piece: which buffer, byte offset, byte length. */
	private pieces = new Uint32Array(3 * 1024);
	/** Two u32 per piece: adapted span start and end. */
	private spans = new Uint32Array(2 * 1024);
	/** Per piece: the token kind of an input token or of an added `(` `)`, or MATCHED_TRIVIA. */
	private kinds = new Uint8Array(1024);
	private count = 0;
	private bytes = 0;
	private lastMatch = -1;
	private trees = Buffer.allocUnsafeSlow(TOKEN_TREE_BYTES * 1024);
	private treeWords = new Uint32Array(this.trees.buffer, this.trees.byteOffset, this.trees.length / 4);
	private flat = Buffer.allocUnsafeSlow(4096);

	/** Lays out `stream` (absent: empty) in `frame`; `delimited` wraps it in `(` `)`. Call before the views below. */
	build(stream: TokenStream | undefined, frame: SpanFrame, delimited: boolean): this {
		this.count = 0;
		this.bytes = 0;
		this.lastMatch = -1;
		const r = stream?.records ?? [];
		const n = r.length / RECORD_WIDTH;
		if (n > 0 || delimited) this.reserve(3 * n + 2);
		if (stream) this.encodeText(stream);
		if (delimited) this.push(FROM_CONSTANT, OPEN, 1, 0, Math.min(1, frame.width), TokenKind.punct);
		let prevEnd = 0;
		let prevSpanEnd = SPAN_CALL_SITE;
		let prevJoint = true;
		for (let t = 0; t < n; t++) {
			const i = t * RECORD_WIDTH;
			const offset = r[i + RecordField.textOffset];
			const length = r[i + RecordField.textLength];
			const start = r[i + RecordField.spanStart];
			const end = r[i + RecordField.spanEnd];
			if (t > 0) this.trivia(prevEnd, offset, prevJoint, prevSpanEnd, start, frame);
			this.push(FROM_TEXT, offset, length, frame.adaptStart(start), frame.adaptEnd(end), r[i + RecordField.kind]);
			prevEnd = offset + length;
			prevSpanEnd = end;
			prevJoint = (r[i + RecordField.flags] & TokenFlags.joint) !== 0;
		}
		if (delimited) this.push(FROM_CONSTANT, CLOSE, 1, Math.max(0, frame.width - 1), frame.width, TokenKind.punct);
		return this;
	}

	/** The built stream as a v2 StableTokenStream: a token array pointing into the host's buffers. */
	v2(): RawTokenStreamV2 {
		// An empty slice still points somewhere valid and aligned, as a Rust Vec's does: the macro makes a
		// Rust slice of it, and a NULL one is undefined behaviour there.
		if (this.count === 0) return { tokens: { ptr: addressOf(this.trees), len: 0 }, metadata: NO_METADATA, size_hint: 0 };
		const words = this.treeWords;
		const pieces = this.pieces;
		const spans = this.spans;
		// Addresses as two u32 halves: the low half plus an offset carries into the high half at most once.
		const textLow = this.textAddress % TWO_32;
		const textHigh = (this.textAddress - textLow) / TWO_32;
		const constantLow = CONSTANT_ADDRESS % TWO_32;
		const constantHigh = (CONSTANT_ADDRESS - constantLow) / TWO_32;
		const stride = TOKEN_TREE_BYTES / 4;
		for (let k = 0, w = 0, p = 0; k < this.count; k++, w += stride, p += 3) {
			const fromText = pieces[p] === FROM_TEXT;
			let low = (fromText ? textLow : constantLow) + pieces[p + 1];
			let high = fromText ? textHigh : constantHigh;
			if (low >= TWO_32) {
				low -= TWO_32;
				high++;
			}
			words[w] = 0; // StableTokenTree::Ident
			words[w + 1] = 0;
			words[w + 2] = spans[2 * k];
			words[w + 3] = spans[2 * k + 1];
			words[w + 4] = low;
			words[w + 5] = high;
			words[w + 6] = pieces[p + 2];
			words[w + 7] = 0;
		}
		return { tokens: { ptr: addressOf(this.trees), len: this.count }, metadata: NO_METADATA, size_hint: this.bytes };
	}

	/** The built stream as a v1 StableTokenStream: its text as one NUL-terminated string. */
	v1(): RawTokenStreamV1 {
		const length = this.flatten();
		this.flat[length] = 0;
		return { value: addressOf(this.flat), metadata: { original_file_path: 0, file_id: 0 } };
	}

	/** The built stream's text, as the macro sees it (what "output equal to the input" compares with). */
	textBytes(): Buffer {
		return this.flat.subarray(0, this.flatten());
	}

	/** Byte length of the built stream's text. */
	get byteLength(): number {
		return this.bytes;
	}

	// The text the stream holds between two tokens, or one space where JOINT is clear.
	private trivia(prevEnd: number, offset: number, prevJoint: boolean, prevSpanEnd: number, start: number, frame: SpanFrame): void {
		const real = prevSpanEnd !== SPAN_CALL_SITE && start !== SPAN_CALL_SITE && prevSpanEnd <= start;
		const spanStart = real ? frame.adaptStart(prevSpanEnd) : frame.adaptedCallSite.start;
		const spanEnd = real ? frame.adaptStart(start) : frame.adaptedCallSite.end;
		if (offset > prevEnd) {
			// Cairo's trailing trivia ends with the first newline; what follows leads the next token.
			let split = offset;
			for (let b = prevEnd; b < offset; b++) {
				if (this.text[b] === NEWLINE) {
					split = b + 1;
					break;
				}
			}
			const middle = Math.min(spanEnd, spanStart + (split - prevEnd));
			this.push(FROM_TEXT, prevEnd, split - prevEnd, spanStart, split === offset ? spanEnd : middle, MATCHED_TRIVIA);
			if (split < offset) this.push(FROM_TEXT, split, offset - split, middle, spanEnd, MATCHED_TRIVIA);
		} else if (!prevJoint) {
			this.push(FROM_CONSTANT, SPACE, 1, spanStart, spanEnd, MATCHED_TRIVIA);
		}
	}

	/**
	 * What an output token of the last built stream is when the macro returned an input token as it
	 * was (same adapted span, same bytes): that token's kind, or MATCHED_TRIVIA; -1 when it is not one.
	 * Lets the output skip the tokenizer for text it already knows. Pieces are in span order.
	 */
	match(spanStart: number, spanEnd: number, output: Buffer, from: number, to: number): number {
		const spans = this.spans;
		// Output usually returns the input in order: try the piece after the last match first.
		let k = this.lastMatch + 1;
		if (k >= this.count || spans[2 * k] !== spanStart) {
			let low = 0;
			let high = this.count;
			while (low < high) {
				const mid = (low + high) >>> 1;
				if (spans[2 * mid] < spanStart) low = mid + 1;
				else high = mid;
			}
			k = low;
		}
		// Pieces of zero width share a start with the next one: look at the few that start here.
		for (; k < this.count && spans[2 * k] === spanStart; k++) {
			if (spans[2 * k + 1] !== spanEnd || this.pieces[3 * k + 2] !== to - from) continue;
			if (sameBytes(this.pieces[3 * k] === FROM_TEXT ? this.text : CONSTANT, this.pieces[3 * k + 1], output, from, to)) {
				this.lastMatch = k;
				return this.kinds[k];
			}
		}
		return -1;
	}

	private push(from: number, offset: number, length: number, spanStart: number, spanEnd: number, kind: number): void {
		const k = this.count++;
		this.kinds[k] = kind;
		this.pieces[3 * k] = from;
		this.pieces[3 * k + 1] = offset;
		this.pieces[3 * k + 2] = length;
		this.spans[2 * k] = spanStart;
		this.spans[2 * k + 1] = Math.max(spanStart, spanEnd);
		this.bytes += length;
	}

	private encodeText(stream: TokenStream): void {
		const utf8 = (stream as Partial<MappedTokenStream>).utf8;
		const length = utf8 ? utf8.byteLength : Buffer.byteLength(stream.text, 'utf8');
		if (length > this.text.length) {
			this.text = Buffer.allocUnsafeSlow(Math.max(length, this.text.length * 2));
			this.textAddress = addressOf(this.text);
		}
		if (utf8) this.text.set(utf8);
		else this.text.write(stream.text, 0, length, 'utf8');
	}

	// Copies the pieces back to back into `flat` (plus room for a NUL); returns the byte length.
	private flatten(): number {
		if (this.bytes + 1 > this.flat.length) this.flat = Buffer.allocUnsafeSlow(Math.max(this.bytes + 1, this.flat.length * 2));
		let at = 0;
		for (let k = 0; k < this.count; k++) {
			const source = this.pieces[3 * k] === FROM_TEXT ? this.text : CONSTANT;
			const offset = this.pieces[3 * k + 1];
			at += source.copy(this.flat, at, offset, offset + this.pieces[3 * k + 2]);
		}
		return at;
	}

	private reserve(pieces: number): void {
		if (3 * pieces > this.pieces.length) {
			this.pieces = new Uint32Array(Math.max(3 * pieces, this.pieces.length * 2));
			this.spans = new Uint32Array(Math.max(2 * pieces, this.spans.length * 2));
			this.kinds = new Uint8Array(Math.max(pieces, this.kinds.length * 2));
		}
		if (pieces * TOKEN_TREE_BYTES > this.trees.length) {
			this.trees = Buffer.allocUnsafeSlow(Math.max(pieces * TOKEN_TREE_BYTES, this.trees.length * 2));
			this.treeWords = new Uint32Array(this.trees.buffer, this.trees.byteOffset, this.trees.length / 4);
		}
	}
}

const CONSTANT_ADDRESS = addressOf(CONSTANT);

/** Whether `b[from, to)` equals `a` from `offset`; short runs compare in a loop (cheaper than a native call). */
function sameBytes(a: Buffer, offset: number, b: Buffer, from: number, to: number): boolean {
	if (to - from > 32) return b.compare(a, offset, offset + (to - from), from, to) === 0;
	for (let i = from, j = offset; i < to; i++, j++) if (a[j] !== b[i]) return false;
	return true;
}

/** The address of a buffer's first byte, as a number (user-space addresses fit in 2^53). */
function addressOf(buffer: Buffer): number {
	return Number(koffi.address(buffer));
}
