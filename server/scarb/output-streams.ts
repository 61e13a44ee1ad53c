/**
 * A Scarb macro's output as our flat tokens. Scarb's output tokens are arbitrary strings (a whole
 * function in one token is fine), so the host:
 * 1. copies every token's text out of the library at once (v2 token text lives in the macro's
 *    per-thread arena and is gone at the next expand_v2 on that thread): tokens that lie back to back
 *    in memory, forwards or backwards (a bump arena allocates downwards), are read through one view;
 * 2. takes runs of Scarb tokens that are input tokens returned as they were straight from the input
 *    (their kinds, their spans), and splits the rest of the text into our tokens with the shared
 *    tokenizer; a run at the very start (an identity, an item kept) is taken while copying, reading
 *    the macro's token array once (returned-prefix.ts);
 * 3. gives each piece the tokenizer made a span inside its source token's span when that Scarb token
 *    came from the input unchanged in width (its span maps into the input and is as wide as its
 *    text), and the call site otherwise. v1 output has no spans: every piece is at the call site.
 * The buffers it copies and builds into are reused from call to call (one set per expander), so a
 * large output allocates nothing on the JS heap per token, nor per call beyond what it hands out.
 */
import { isUtf8 } from 'node:buffer';
import koffi from 'koffi';
import { tokenize } from '../../tokens/tokenizer.js';
import { RECORD_WIDTH, RecordField, SPAN_CALL_SITE, TokenFlags } from '../../protocol/token-stream.js';
import { checkResultSize, MAX_RESULT_TEXT_BYTES, MAX_RESULT_TOKENS } from '../result-checks.js';
import { MATCHED_TRIVIA } from './input-streams.js';
import type { InputMatcher, OutputRecords } from './output-records.js';
import { takeReturnedPrefix } from './returned-prefix.js';
import type { SpanFrame } from './span-frame.js';
import { TOKEN_TREE_BYTES, TokenTreeWord, type RawSlice } from './stable-abi.js';
import { splitsThere } from './token-breaks.js';

/** Output text copied out of the library, with where each Scarb token ends in it and its span. */
export interface CopiedOutput {
	/** Every token's UTF-8 text, back to back. */
	bytes: Buffer;
	/** Per Scarb token: the byte offset in `bytes` where it ends. */
	ends: Uint32Array;
	/**
	 * Per Scarb token j: span start and end, as the macro returned them, at `spans[j * spanStride]`
	 * and the word after. For v2 this is the library's own token array, read in place: good only
	 * until the result is handed to free_result_v2.
	 */
	spans: Uint32Array;
	/** u32 words from one token's span to the next one's. */
	spanStride: number;
	/**
	 * Tokens [0, recorded) are already our records, at the start of the OutputRecords given to the
	 * copy (see returned-prefix.ts); toRecords goes on from there, and from input piece `nextPiece`.
	 */
	recorded: number;
	/** The input piece after the last one the recorded tokens returned. */
	nextPiece: number;
}

/** What {@link copyV2Output} needs to take the output's returned prefix as it copies. */
export interface PrefixTarget {
	frame: SpanFrame;
	input: InputMatcher;
	/** Where its records go: the records toRecords is then given. */
	out: OutputRecords;
}

const TWO_32 = 0x1_0000_0000;
const WORDS = TokenTreeWord.count;

/**
 * The buffers {@link copyV2Output} copies into, reused from call to call (one per expander): an
 * output copied into them is good until the next copy. Spares a large output two allocations.
 */
export class OutputBuffers {
	private ends = new Uint32Array(1024);
	private bytes = Buffer.allocUnsafeSlow(4096);

	/** Room for the ends of `count` tokens (the buffer may be longer). */
	tokens(count: number): Uint32Array {
		if (count > this.ends.length) this.ends = new Uint32Array(Math.max(count, this.ends.length * 2));
		return this.ends;
	}

	/** (start, end, output offset) triples of input memory a returned prefix must equal; reused. */
	readonly ranges: number[] = [];

	/** A buffer of exactly `length` bytes. */
	text(length: number): Buffer {
		if (length > this.bytes.length) this.bytes = Buffer.allocUnsafeSlow(Math.max(length, this.bytes.length * 2));
		return this.bytes.subarray(0, length);
	}
}

/**
 * Copies the text of the v2 output tokens (a StableSlice of StableTokenTree) out of library memory
 * into `into`, or says what is wrong with them. The spans are not copied: the answer reads them in
 * the library's token array, so it must be used before the result goes to free_result_v2. With a
 * `prefix` target, the output's start that returns the input as it was becomes records on the way
 * (one pass over the token array for those tokens, one copy and one compare of their text).
 */
export function copyV2Output(tokens: RawSlice, who: string, into: OutputBuffers, prefix?: PrefixTarget): CopiedOutput | string {
	const count = tokens.len;
	const tooMany = checkResultSize(`${who} output`, count, 'tokens', MAX_RESULT_TOKENS);
	if (tooMany !== undefined) return tooMany;
	if (count === 0) return { bytes: Buffer.alloc(0), ends: new Uint32Array(0), spans: new Uint32Array(0), spanStride: WORDS, recorded: 0, nextPiece: 0 };
	if (tokens.ptr === 0) return `${who} returned ${count} output tokens at a NULL pointer`;
	// Read in place, until free_result_v2.
	const words = new Uint32Array(koffi.view(tokens.ptr, count * TOKEN_TREE_BYTES));
	const ends = into.tokens(count);
	let taken = prefix ? takeReturnedPrefix(words, count, prefix.frame, prefix.input, prefix.out, ends, into.ranges) : undefined;
	// Larger than a result may be: dropped, so the loop below says so where it happens.
	if (taken !== undefined && taken.bytes > MAX_RESULT_TEXT_BYTES) taken = undefined;
	const start = taken?.tokens ?? 0;
	const stride = WORDS;
	const lengthAt = TokenTreeWord.lengthLow;
	const addressAt = TokenTreeWord.addressLow;
	const two32 = TWO_32;
	const maxBytes = MAX_RESULT_TEXT_BYTES;
	// Runs of tokens back to back in memory, as (first token, low address, high address, direction) quads.
	const runs: number[] = [];
	let runFirst = start;
	let low = 0;
	let high = 0;
	let direction = 0;
	let total = taken?.bytes ?? 0;
	for (let k = start, w = start * stride; k < count; k++, w += stride) {
		const length = words[w + lengthAt] + words[w + lengthAt + 1] * two32;
		const address = words[w + addressAt] + words[w + addressAt + 1] * two32;
		if (words[w] !== 0) return `${who} returned output token ${k} with tag ${words[w]}; a StableTokenTree has only Ident (0)`;
		if (length > 0 && address === 0) return `${who} returned output token ${k} with ${length} bytes at a NULL pointer`;
		total += length;
		if (total > maxBytes) return checkResultSize(`${who} output text`, total, 'bytes', maxBytes)!;
		ends[k] = total;
		if (k === start) {
			low = address;
			high = address + length;
			continue;
		}
		if (length === 0) continue;
		if (direction >= 0 && address === high) {
			direction = 1;
			high += length;
		} else if (direction <= 0 && address + length === low) {
			direction = -1;
			low = address;
		} else {
			runs.push(runFirst, low, high, direction);
			runFirst = k;
			low = address;
			high = address + length;
			direction = 0;
		}
	}
	runs.push(runFirst, low, high, direction);
	const bytes = into.text(total);
	for (let r = 0; r < runs.length; r += 4) {
		const last = r + 4 < runs.length ? runs[r + 4] : count;
		copyRun(words, runs[r], last, runs[r + 1], runs[r + 2], runs[r + 3], ends, bytes);
	}
	let recorded = 0;
	if (taken !== undefined && taken.tokens > 0) {
		Buffer.from(koffi.view(taken.address, taken.bytes)).copy(bytes, 0);
		recorded = sameAsInput(into.ranges, prefix!.input, bytes) ? taken.tokens : 0;
	}
	const nextPiece = recorded > 0 ? taken!.nextPiece : 0;
	return { bytes, ends: ends.subarray(0, count), spans: words.subarray(TokenTreeWord.spanStart), spanStride: stride, recorded, nextPiece };
}

/** Whether the prefix's text in `bytes` equals the input memory it returned ((start, end, offset) triples). */
function sameAsInput(ranges: number[], input: InputMatcher, bytes: Buffer): boolean {
	for (let r = 0; r < ranges.length; r += 3) if (!input.sameMemory(ranges[r], ranges[r + 1], bytes, ranges[r + 2])) return false;
	return true;
}

/**
 * Copies tokens [first, last), which lie back to back in library memory at [low, high) (forwards,
 * or backwards when `direction` is -1), through one view.
 */
function copyRun(words: Uint32Array, first: number, last: number, low: number, high: number, direction: number, ends: Uint32Array, out: Buffer): void {
	if (high <= low) return;
	const view = Buffer.from(koffi.view(low, high - low));
	// A forward run is the output text in order already: one copy.
	if (direction >= 0) {
		view.copy(out, first === 0 ? 0 : ends[first - 1]);
		return;
	}
	for (let k = first; k < last; k++) {
		const start = k === 0 ? 0 : ends[k - 1];
		const n = ends[k] - start;
		const at = words[k * WORDS + TokenTreeWord.addressLow] + words[k * WORDS + TokenTreeWord.addressHigh] * TWO_32 - low;
		if (n > 0) view.copy(out, start, at, at + n);
	}
}

/** Copies a v1 output (one C string) out of library memory. */
export function copyV1Output(value: number): CopiedOutput {
	const bytes = value === 0 ? Buffer.alloc(0) : Buffer.from(koffi.decode(value, 'char', -1) as string, 'utf8');
	// One token with no span (v1 output is all at the call site); none when the string is empty.
	const ends = bytes.length === 0 ? new Uint32Array(0) : Uint32Array.of(bytes.length);
	return { bytes, ends, spans: Uint32Array.of(SPAN_CALL_SITE, SPAN_CALL_SITE), spanStride: 2, recorded: 0, nextPiece: 0 };
}

/**
 * Splits copied output into our tokens' records (over `output.bytes` as the text), written into `out` (reset first): the answer is a view of its buffer, good
 * until `out` is used again. `frame` maps the spans back; without one (v1) every token is at the
 * call site. With `input`, a Scarb token that is an input token returned as it was (same span, same
 * bytes, at a place where the tokenizer would split anyway) keeps that token's kind without going
 * through the tokenizer, and returned input trivia is dropped: such tokens are found in runs (the
 * next output token against the next input piece, integers first, bytes a run at a time), so an
 * identity-like output costs a few integer compares per token, not a new tokenizing.
 */
export function toRecords(output: CopiedOutput, frame: SpanFrame | undefined, who: string, out: OutputRecords, input?: InputMatcher): Uint32Array | string {
	const { bytes, ends, spans, spanStride } = output;
	if (!isUtf8(bytes)) return `${who} output text is not valid UTF-8`;
	const count = ends.length;
	// The records of a returned prefix are there already (copyV2Output); anything else is old.
	if (output.recorded === 0) out.reset();
	const matching = input !== undefined && frame !== undefined;
	let pending = -1; // index of the first Scarb token of the run still to tokenize
	let hint = output.nextPiece; // the piece after the last one matched: an output that returns its input goes on there
	for (let j = output.recorded; j < count; ) {
		let piece = -1;
		if (matching && returnable(frame, output, j)) {
			piece = input.find(spans[j * spanStride], spans[j * spanStride + 1], bytes, j === 0 ? 0 : ends[j - 1], ends[j], hint);
		}
		if (piece < 0) {
			if (pending < 0) pending = j;
			j++;
			continue;
		}
		if (pending >= 0) {
			const problem = tokenizeRun(output, frame, pending, j, out, who);
			if (problem !== undefined) return problem;
			pending = -1;
		}
		const next = emitMatchedRun(output, frame!, input!, j, piece, out);
		hint = piece + (next - j);
		j = next;
	}
	if (pending >= 0) {
		const problem = tokenizeRun(output, frame, pending, count, out, who);
		if (problem !== undefined) return problem;
	}
	// No checkOutput pass: every record is sound by construction. Kinds come from the checked input or
	// the tokenizer, text ranges lie inside `bytes`, and a span is the call site or a non-empty range
	// inside the input's frame (as wide as the text: returnable, tokenizeRun).
	return out.view();
}

/**
 * Appends the records of the run of returned input tokens that starts at token `first`, which
 * {@link InputMatcher.find} found to be piece `piece`; returns the index of the token after the run.
 * The run is matched and written in one pass (spans and lengths against the next pieces), then its
 * bytes are compared at once; where they differ (rare: a macro that kept a token's span and width
 * but changed its text), the run is written again up to the first token that differs.
 */
function emitMatchedRun(output: CopiedOutput, frame: SpanFrame, input: InputMatcher, first: number, piece: number, out: OutputRecords): number {
	const { bytes, ends } = output;
	const mark = out.count;
	const next = emitRun(output, frame, input, first, piece, ends.length, out);
	// Token `first` was compared by find: the bytes of the rest.
	if (next - first === 1 || input.sameBytes(piece + 1, piece + (next - first), bytes, ends[first])) return next;
	let last = first + 1;
	while (last < next && input.sameBytes(piece + (last - first), piece + (last - first) + 1, bytes, ends[last - 1])) last++;
	// Written again from the same token: the JOINT flag it set on the record before is the same.
	out.count = mark;
	return emitRun(output, frame, input, first, piece, last, out);
}

/**
 * Appends the records of a run of returned input tokens, from token `first` (piece `piece`), up to
 * token `limit` at most; returns the index of the token after the last one taken. Token `first`
 * passed returnable and find; each later one must be the next piece by span and length, and pass
 * returnable too (its start is where the one before ended, already checked): the run ends where one
 * is not. Trivia pieces add no record. Written inline, with every constant in a local: this loop runs
 * once per token of an identity-like output, and reads the macro's token array and ours in place.
 */
function emitRun(output: CopiedOutput, frame: SpanFrame, input: InputMatcher, first: number, piece: number, limit: number, out: OutputRecords): number {
	const { bytes, ends, spans, spanStride } = output;
	const pieces = input.pieceWords;
	const kinds = input.pieceKinds;
	const treeWords = TokenTreeWord.count;
	const startAt = TokenTreeWord.spanStart;
	const endAt = TokenTreeWord.spanEnd;
	const lengthAt = TokenTreeWord.lengthLow;
	const width = RECORD_WIDTH;
	const flagsAt = RecordField.flags;
	const offsetAt = RecordField.textOffset;
	const lengthField = RecordField.textLength;
	const joint = TokenFlags.joint;
	const trivia = MATCHED_TRIVIA;
	const base = frame.base;
	const frameWidth = frame.width;
	const last = Math.min(limit, first + (input.pieceCount - piece));
	const r = out.reserve(last - first);
	let i = out.count * width;
	// Where the last record's text ends: a record that starts there makes it JOINT.
	let prevEnd = i > 0 ? r[i - width + offsetAt] + r[i - width + lengthField] : -1;
	let from = first === 0 ? 0 : ends[first - 1];
	let t = first;
	for (let k = piece, p = piece * treeWords, s = first * spanStride; t < last; t++, k++, p += treeWords, s += spanStride) {
		const to = ends[t];
		const spanStart = spans[s];
		const spanEnd = spans[s + 1];
		if (t > first) {
			if (spanStart !== pieces[p + startAt] || spanEnd !== pieces[p + endAt] || to - from !== pieces[p + lengthAt]) break;
			if (!(spanEnd - spanStart === to - from && to !== from && spanEnd <= frameWidth && splitsThere(bytes, to))) break;
		}
		const kind = kinds[k];
		if (kind !== trivia) {
			if (prevEnd === from) r[i - width + flagsAt] = joint;
			r[i] = kind;
			r[i + 1] = 0;
			r[i + 2] = from;
			r[i + 3] = to - from;
			r[i + 4] = spanStart + base;
			r[i + 5] = spanEnd + base;
			i += width;
			prevEnd = to;
		}
		from = to;
	}
	out.count = i / width;
	return t;
}

/**
 * Whether Scarb output token j may be taken for an input token: its span maps into the input and
 * is as wide as its (non-empty) text, and the tokenizer would split at both its ends.
 */
function returnable(frame: SpanFrame, output: CopiedOutput, j: number): boolean {
	const { bytes, ends, spans, spanStride } = output;
	const from = j === 0 ? 0 : ends[j - 1];
	const to = ends[j];
	const spanStart = spans[j * spanStride];
	const spanEnd = spans[j * spanStride + 1];
	return spanEnd - spanStart === to - from && to !== from && frame.tokenSourceStart(spanStart, spanEnd) >= 0 && splitsThere(bytes, from) && splitsThere(bytes, to);
}

/**
 * Tokenizes the text of Scarb tokens [first, last) and appends the pieces: a piece inside one Scarb
 * token whose span maps into the input and is as wide as its text keeps a span inside it, any other
 * piece is at the call site.
 */
function tokenizeRun(output: CopiedOutput, frame: SpanFrame | undefined, first: number, last: number, out: OutputRecords, who: string): string | undefined {
	const { bytes, ends, spans, spanStride } = output;
	const base = first === 0 ? 0 : ends[first - 1];
	const { stream, errors } = tokenize(bytes.toString('utf8', base, ends[last - 1]));
	if (errors.length > 0) {
		const e = errors[0];
		return `${who} output is not Cairo the host can split into tokens: ${e.message} at output byte ${base + e.start}`;
	}
	const records = stream.records;
	let j = first;
	for (let i = 0; i < records.length; i += RECORD_WIDTH) {
		const from = base + records[i + RecordField.textOffset];
		const length = records[i + RecordField.textLength];
		while (ends[j] <= from) j++;
		const tokenStart = j === 0 ? 0 : ends[j - 1];
		const spanStart = spans[j * spanStride];
		const spanEnd = spans[j * spanStride + 1];
		let source = -1;
		if (frame !== undefined && from + length <= ends[j] && spanEnd - spanStart === ends[j] - tokenStart) {
			const start = frame.tokenSourceStart(spanStart, spanEnd);
			if (start >= 0) source = start + (from - tokenStart);
		}
		out.push(records[i + RecordField.kind], from, length, source, source + length);
	}
	return undefined;
}
