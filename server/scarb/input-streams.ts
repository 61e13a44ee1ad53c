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
 * One pass over the records writes the v2 token array itself, into reusable buffers: a token's text
 * is never copied, the array points into the stream's UTF-8 text (or at a constant ` ()`), and the
 * v1 string is one buffer. The same array is what output is matched against (its spans and lengths,
 * then the bytes it points at). The host keeps every buffer alive until the library returns; the copies Scarb's ABI hands
 * back to the host inside the result wrapper (`input`, `input_attr`) are these buffers, which the
 * next call reuses: there is nothing else to free.
 */
import koffi from 'koffi';
import type { Span } from '../../protocol/expand.js';
import { RECORD_WIDTH, RecordField, SPAN_CALL_SITE, TokenFlags, TokenKind, type TokenStream } from '../../protocol/token-stream.js';
import type { MappedTokenStream } from '../library-model.js';
import { SpanFrame } from './span-frame.js';
import { TOKEN_TREE_BYTES, TokenTreeWord, type RawTokenStreamV1, type RawTokenStreamV2 } from './stable-abi.js';

/** Which buffer a piece of input text lies in: the stream's text, or CONSTANT. */
const IN_TEXT = 0;
const IN_CONSTANT = 1;
const TWO_32 = 0x1_0000_0000;
// The text of synthesized tokens: a space, `(` and `)`, at offsets 0, 1 and 2.
const CONSTANT = unstraddledBuffer(3).fill(' ()', 0, 3, 'latin1');
const SPACE = 0;
const OPEN = 1;
const CLOSE = 2;
const NEWLINE = 0x0a;
// A StableTokenTree as u32 words (the length's high half is always 0 here).
const WORDS = TokenTreeWord.count;
const SPAN_START = TokenTreeWord.spanStart;
const SPAN_END = TokenTreeWord.spanEnd;
const ADDRESS_LOW = TokenTreeWord.addressLow;
const ADDRESS_HIGH = TokenTreeWord.addressHigh;
const LENGTH = TokenTreeWord.lengthLow;
/** {@link ScarbInputBuilder.pieceKinds}: the piece is trivia of the input (it adds no record when returned). */
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
	private text = unstraddledBuffer(4096);
	private textAddress = addressOf(this.text);
	/**
	 * The v2 token array, written as the pieces are laid out (no second pass): per piece one
	 * StableTokenTree of eight u32 (tag 0, padding, span start and end, the text's address as two
	 * halves, its length as a u64). Matching output reads the pieces' spans and lengths back from it.
	 */
	private trees = Buffer.alloc(TOKEN_TREE_BYTES * 1024);
	private words = new Uint32Array(this.trees.buffer, this.trees.byteOffset, this.trees.length / 4);
	/** Per piece: the token kind of an input token or of an added `(` `)`, or MATCHED_TRIVIA. */
	private kinds = new Uint8Array(1024);
	/** Records of a stream that came as a plain array, copied so the hot loop reads one array type. */
	private scratch = new Uint32Array(6 * 1024);
	private count = 0;
	private bytes = 0;
	private flat = Buffer.allocUnsafeSlow(4096);
	// The text's address as u32 halves, for the token array.
	private textLow = 0;
	private textHigh = 0;

	/** Lays out `stream` (absent: empty) in `frame`; `delimited` wraps it in `(` `)`. Call before the views below. */
	build(stream: TokenStream | undefined, frame: SpanFrame, delimited: boolean): this {
		this.count = 0;
		this.bytes = 0;
		const n = stream === undefined ? 0 : stream.records.length / RECORD_WIDTH;
		if (n > 0 || delimited) this.reserve(3 * n + 2);
		if (stream) this.encodeText(stream);
		this.textLow = this.textAddress % TWO_32;
		this.textHigh = (this.textAddress - this.textLow) / TWO_32;
		if (delimited) this.push(IN_CONSTANT, OPEN, 1, 0, Math.min(1, frame.width), TokenKind.punct);
		if (n > 0) this.tokens(this.typed(stream!.records), n, frame);
		if (delimited) this.push(IN_CONSTANT, CLOSE, 1, Math.max(0, frame.width - 1), frame.width, TokenKind.punct);
		return this;
	}

	/** The built stream as a v2 StableTokenStream: a token array pointing into the host's buffers. */
	v2(): RawTokenStreamV2 {
		// An empty slice still points somewhere valid and aligned, as a Rust Vec's does: the macro makes a
		// Rust slice of it, and a NULL one is undefined behaviour there.
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

	/** The built stream's pieces: its v2 token array as u32 words (see {@link TokenTreeWord}). */
	get pieceWords(): Uint32Array {
		return this.words;
	}

	/** Per piece of the built stream: the token kind of an input token or of an added `(` `)`, or MATCHED_TRIVIA. */
	get pieceKinds(): Uint8Array {
		return this.kinds;
	}

	/** How many pieces the built stream has. */
	get pieceCount(): number {
		return this.count;
	}

	/** The text the built stream's pieces point into (all but the added spaces and parentheses). */
	get pieceText(): Buffer {
		return this.text;
	}

	/** The address of {@link pieceText}'s first byte. */
	get pieceTextAddress(): number {
		return this.textAddress;
	}

	/** The first piece of the built stream whose span starts at `spanStart` or after (pieces are in span order). */
	firstPieceFrom(spanStart: number): number {
		const words = this.words;
		let low = 0;
		let high = this.count;
		while (low < high) {
			const mid = (low + high) >>> 1;
			if (words[mid * WORDS + SPAN_START] < spanStart) low = mid + 1;
			else high = mid;
		}
		return low;
	}

	/**
	 * The piece an output token of the last built stream is when the macro returned an input token
	 * as it was (same adapted span, same bytes), or -1. Pieces are in span order; piece `hint` is
	 * tried first (output usually returns the input in order: the piece after the last match).
	 */
	find(spanStart: number, spanEnd: number, output: Buffer, from: number, to: number, hint: number): number {
		const words = this.words;
		const count = this.count;
		let k = hint;
		if (k >= count || words[k * WORDS + SPAN_START] !== spanStart) k = this.firstPieceFrom(spanStart);
		// Pieces of zero width share a start with the next one: look at the few that start here.
		for (; k < count && words[k * WORDS + SPAN_START] === spanStart; k++) {
			if (words[k * WORDS + SPAN_END] !== spanEnd || words[k * WORDS + LENGTH] !== to - from) continue;
			if (this.sameBytes(k, k + 1, output, from)) return k;
		}
		return -1;
	}

	// The hot loop of build: one piece per token, and the trivia between two tokens. The common
	// pieces are written inline, with every field and constant in a local (a field or a namespace
	// member read in the loop is a load per token); trivia that splits at a newline goes through
	// trivia(). Words 0, 1 and 7 of a tree are zero from allocation on and never written.
	private tokens(r: Uint32Array, n: number, frame: SpanFrame): void {
		const width = RECORD_WIDTH;
		const kindAt = RecordField.kind;
		const flagsAt = RecordField.flags;
		const offsetAt = RecordField.textOffset;
		const lengthAt = RecordField.textLength;
		const startAt = RecordField.spanStart;
		const endAt = RecordField.spanEnd;
		const callSite = SPAN_CALL_SITE;
		const joint = TokenFlags.joint;
		const newline = NEWLINE;
		const trivia = MATCHED_TRIVIA;
		const base = frame.base;
		const siteStart = frame.adaptedCallSite.start;
		const siteEnd = frame.adaptedCallSite.end;
		const textLow = this.textLow;
		const textHigh = this.textHigh;
		const text = this.text;
		const words = this.words;
		const kinds = this.kinds;
		let k = this.count;
		let bytes = this.bytes;
		let prevEnd = 0;
		let prevSpanEnd = callSite;
		let prevJoint = true;
		for (let i = 0; i < n * width; i += width) {
			const offset = r[i + offsetAt];
			const length = r[i + lengthAt];
			const start = r[i + startAt];
			const end = r[i + endAt];
			if (i > 0 && (offset > prevEnd || !prevJoint)) {
				let simple = true;
				for (let b = prevEnd; b < offset - 1; b++) {
					if (text[b] === newline) {
						simple = false;
						break;
					}
				}
				if (simple) {
					// One piece: the trivia text (a newline only at its end), or a space.
					const real = prevSpanEnd !== callSite && start !== callSite && prevSpanEnd <= start;
					const spanStart = real ? (prevSpanEnd > base ? prevSpanEnd - base : 0) : siteStart;
					const spanEnd = real ? (start > base ? start - base : 0) : siteEnd;
					const inText = offset > prevEnd;
					if (inText) writeTree(words, k, spanStart, spanEnd, textLow + prevEnd, textHigh, offset - prevEnd);
					else writeTree(words, k, spanStart, spanEnd, CONSTANT_LOW + SPACE, CONSTANT_HIGH, 1);
					kinds[k++] = trivia;
					bytes += inText ? offset - prevEnd : 1;
				} else {
					this.count = k;
					this.bytes = bytes;
					this.trivia(prevEnd, offset, prevJoint, prevSpanEnd, start, frame);
					k = this.count;
					bytes = this.bytes;
				}
			}
			const spanStart = start === callSite ? siteStart : start > base ? start - base : 0;
			const spanEnd = end === callSite ? siteEnd : end > base ? end - base : 0;
			writeTree(words, k, spanStart, spanEnd, textLow + offset, textHigh, length);
			kinds[k++] = r[i + kindAt];
			bytes += length;
			prevEnd = offset + length;
			prevSpanEnd = end;
			prevJoint = (r[i + flagsAt] & joint) !== 0;
		}
		this.count = k;
		this.bytes = bytes;
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
			this.push(IN_TEXT, prevEnd, split - prevEnd, spanStart, split === offset ? spanEnd : middle, MATCHED_TRIVIA);
			if (split < offset) this.push(IN_TEXT, split, offset - split, middle, spanEnd, MATCHED_TRIVIA);
		} else if (!prevJoint) {
			this.push(IN_CONSTANT, SPACE, 1, spanStart, spanEnd, MATCHED_TRIVIA);
		}
	}

	/** Appends a piece (outside the hot loop of tokens()): its text at `offset` in the stream's text or in CONSTANT, as `constant` says. */
	private push(constant: number, offset: number, length: number, spanStart: number, spanEnd: number, kind: number): void {
		const k = this.count++;
		this.kinds[k] = kind;
		if (constant === IN_TEXT) writeTree(this.words, k, spanStart, spanEnd, this.textLow + offset, this.textHigh, length);
		else writeTree(this.words, k, spanStart, spanEnd, CONSTANT_LOW + offset, CONSTANT_HIGH, length);
		this.bytes += length;
	}

	/** Whether the bytes of pieces [from, to) are `output` from `at` on (`output` holds that many bytes). */
	sameBytes(from: number, to: number, output: Buffer, at: number): boolean {
		const words = this.words;
		// Pieces that lie back to back in memory are compared as one range.
		for (let k = from; k < to; ) {
			const start = this.pieceAddress(k);
			let end = start + words[k * WORDS + LENGTH];
			for (k++; k < to && this.pieceAddress(k) === end; k++) end += words[k * WORDS + LENGTH];
			if (!this.sameMemory(start, end, output, at)) return false;
			at += end - start;
		}
		return true;
	}

	/** Whether the host memory [start, end) (in the text or in CONSTANT) equals `output` from `at` on. */
	sameMemory(start: number, end: number, output: Buffer, at: number): boolean {
		const offset = start - this.textAddress;
		if (offset >= 0 && end - this.textAddress <= this.text.length) return sameRange(this.text, offset, offset + (end - start), output, at);
		if (start >= CONSTANT_ADDRESS && end <= CONSTANT_ADDRESS + CONSTANT.length) return sameRange(CONSTANT, start - CONSTANT_ADDRESS, end - CONSTANT_ADDRESS, output, at);
		// A range across both buffers (adjacent in memory): not compared whole; the caller then compares piece by piece.
		return false;
	}

	/** The address of piece k's text, as the token array holds it. */
	private pieceAddress(k: number): number {
		return this.words[k * WORDS + ADDRESS_LOW] + this.words[k * WORDS + ADDRESS_HIGH] * TWO_32;
	}

	private typed(records: number[] | Uint32Array): Uint32Array {
		if (records instanceof Uint32Array) return records;
		if (records.length > this.scratch.length) this.scratch = new Uint32Array(Math.max(records.length, this.scratch.length * 2));
		this.scratch.set(records);
		return this.scratch;
	}

	private encodeText(stream: TokenStream): void {
		const utf8 = (stream as Partial<MappedTokenStream>).utf8;
		const length = utf8 ? utf8.byteLength : Buffer.byteLength(stream.text, 'utf8');
		if (length > this.text.length) {
			this.text = unstraddledBuffer(Math.max(length, this.text.length * 2));
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
			const start = this.pieceAddress(k);
			const length = this.words[k * WORDS + LENGTH];
			const offset = start - this.textAddress;
			if (offset >= 0 && offset + length <= this.text.length) at += this.text.copy(this.flat, at, offset, offset + length);
			else at += CONSTANT.copy(this.flat, at, start - CONSTANT_ADDRESS, start - CONSTANT_ADDRESS + length);
		}
		return at;
	}

	private reserve(pieces: number): void {
		if (pieces > this.kinds.length) this.kinds = new Uint8Array(Math.max(pieces, this.kinds.length * 2));
		if (pieces * TOKEN_TREE_BYTES > this.trees.length) {
			// Zero-filled: a tree's tag, padding and length's high half stay 0 and are never written.
			this.trees = Buffer.alloc(Math.max(pieces * TOKEN_TREE_BYTES, this.trees.length * 2));
			this.words = new Uint32Array(this.trees.buffer, this.trees.byteOffset, this.trees.length / 4);
		}
	}
}

const CONSTANT_ADDRESS = addressOf(CONSTANT);
const CONSTANT_LOW = CONSTANT_ADDRESS % TWO_32;
const CONSTANT_HIGH = (CONSTANT_ADDRESS - CONSTANT_LOW) / TWO_32;

/**
 * Writes tree k of the v2 token array (all but the words that stay zero). The address comes as two
 * u32 halves, the low one plus an offset into a buffer that does not cross a 4 GiB boundary (see
 * unstraddledBuffer): the sum is the low half, with nothing to carry.
 */
function writeTree(words: Uint32Array, k: number, spanStart: number, spanEnd: number, low: number, high: number, length: number): void {
	const at = k * WORDS;
	words[at + SPAN_START] = spanStart;
	words[at + SPAN_END] = spanEnd > spanStart ? spanEnd : spanStart;
	words[at + ADDRESS_LOW] = low;
	words[at + ADDRESS_HIGH] = high;
	words[at + LENGTH] = length;
}

/**
 * A buffer of `length` bytes that does not cross a 4 GiB boundary, so the address of any byte in it
 * is its first byte's high half, and low half plus the offset: the token array is written with no
 * carry per piece. (A buffer of this size crosses one about once in 40,000 allocations.)
 */
function unstraddledBuffer(length: number): Buffer {
	// Held until a good one comes, so the allocator does not hand the same block back.
	const crossing: Buffer[] = [];
	for (;;) {
		const buffer = Buffer.allocUnsafeSlow(length);
		if ((addressOf(buffer) % TWO_32) + length <= TWO_32) return buffer;
		crossing.push(buffer);
	}
}

/** Whether `a[start, end)` equals `b` from `at`; short ranges compare in a loop (cheaper than a native call). */
function sameRange(a: Buffer, start: number, end: number, b: Buffer, at: number): boolean {
	if (end - start > 32) return a.compare(b, at, at + (end - start), start, end) === 0;
	for (let i = start, j = at; i < end; i++, j++) if (a[i] !== b[j]) return false;
	return true;
}

/** The address of a buffer's first byte, as a number (user-space addresses fit in 2^53). */
function addressOf(buffer: Buffer): number {
	return Number(koffi.address(buffer));
}
