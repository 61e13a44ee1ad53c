/**
 * Builds one flat TokenStream out of token ranges of other streams, without one object per token.
 *
 * Records are copied into a growable Uint32Array; for each range, the text its tokens occupy is taken
 * once as one slice and the text offsets rebased onto the new text. Spans are copied unchanged, so a
 * token that came from the source still points at its place in the file, and a generated one still
 * maps to its call site. Offsets count UTF-8 bytes: a stream whose text is ASCII (nearly all code) is
 * sliced as a string, where bytes and string indices agree; any other is encoded once and sliced as bytes.
 */
import { RECORD_WIDTH, RecordField, type TokenStream } from '../protocol/token-stream.js';
import { allocRecords } from '../tokens/record-pool.js';
import { textReader } from '../tokens/token-text.js';

/** Concatenates token ranges into a new compact stream; build() hands it over once. */
export class TokenStreamBuilder {
	// Pooled (tokens/record-pool.ts): a driver makes a few builders per macro call.
	private records: Uint32Array = EMPTY;
	private count = 0;
	// Slices of ASCII texts as strings, of other texts as UTF-8 bytes.
	private readonly chunks: (string | Buffer)[] = [];
	private hasBytes = false;
	private textBytes = 0;

	/** Number of tokens appended so far. */
	get length(): number {
		return this.count;
	}

	/** Appends tokens [from, to) of `stream`. */
	appendRange(stream: TokenStream, from: number, to: number): this {
		if (to <= from) return this;
		const r = stream.records;
		// The byte window the range's text occupies: usually contiguous, copied as one slice.
		let low = Infinity;
		let high = 0;
		for (let i = from; i < to; i++) {
			const o = i * RECORD_WIDTH;
			const start = r[o + RecordField.textOffset];
			const end = start + r[o + RecordField.textLength];
			if (start < low) low = start;
			if (end > high) high = end;
		}
		const rebase = this.textBytes - low;
		// One reader per stream, however many ranges are taken from it (a source file is sliced many times).
		const bytes = textReader(stream).bytes;
		if (bytes === undefined) this.chunks.push(stream.text.slice(low, high));
		else {
			this.chunks.push(bytes.subarray(low, high));
			this.hasBytes = true;
		}
		this.textBytes += high - low;
		this.reserve(to - from);
		const out = this.records;
		for (let i = from; i < to; i++) {
			const o = i * RECORD_WIDTH;
			const w = this.count * RECORD_WIDTH;
			for (let f = 0; f < RECORD_WIDTH; f++) out[w + f] = r[o + f];
			out[w + RecordField.textOffset] += rebase;
			this.count++;
		}
		return this;
	}

	/** Appends a whole stream. */
	appendStream(stream: TokenStream): this {
		return this.appendRange(stream, 0, (stream.records.length / RECORD_WIDTH) | 0);
	}

	/** Sets or clears the joint flag of the last token appended (no-op when empty). */
	setLastJoint(isJoint: boolean): this {
		if (this.count === 0) return this;
		const o = (this.count - 1) * RECORD_WIDTH + RecordField.flags;
		this.records[o] = isJoint ? this.records[o] | 1 : this.records[o] & ~1;
		return this;
	}

	/** The stream built: its records are the builder's own (no copy), so the builder is empty again afterwards. */
	build(): TokenStream {
		const chunks = this.chunks;
		let text: string;
		if (!this.hasBytes) text = chunks.length === 1 ? (chunks[0] as string) : chunks.join('');
		else text = Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'latin1') : c)), this.textBytes).toString('utf8');
		const records = this.records.subarray(0, this.count * RECORD_WIDTH);
		this.records = EMPTY;
		this.count = 0;
		this.chunks.length = 0;
		this.hasBytes = false;
		this.textBytes = 0;
		return { text, records };
	}

	private reserve(tokens: number): void {
		const need = (this.count + tokens) * RECORD_WIDTH;
		if (need <= this.records.length) return;
		const grown = allocRecords(Math.max(need, this.records.length * 2, 16 * RECORD_WIDTH));
		grown.set(this.records.subarray(0, this.count * RECORD_WIDTH));
		this.records = grown;
	}
}

const EMPTY = new Uint32Array(0);

/** Tokens [from, to) of `stream` as a compact stream of their own (the wire then carries only their text). */
export function compactTokens(stream: TokenStream, from: number, to: number): TokenStream {
	return new TokenStreamBuilder().appendRange(stream, from, to).build();
}
