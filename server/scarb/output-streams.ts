/**
 * A Scarb macro's output as our flat tokens. Scarb's output tokens are arbitrary strings (a whole
 * function in one token is fine), so the host:
 * 1. copies every token's text out of the library at once (v2 token text lives in the macro's
 *    per-thread arena and is gone at the next expand_v2 on that thread): tokens that lie back to back
 *    in memory, forwards or backwards (a bump arena allocates downwards), are read through one view;
 * 2. splits the whole text into our tokens with the shared tokenizer (one pass);
 * 3. gives each piece a span inside its source token's span when that Scarb token came from the
 *    input unchanged in width (its span maps into the input and is as wide as its text), and the call
 *    site otherwise. v1 output has no spans: every piece is at the call site.
 */
import koffi from 'koffi';
import { tokenize } from '../../tokens/tokenizer.js';
import { RECORD_WIDTH, RecordField, SPAN_CALL_SITE, TokenFlags } from '../../protocol/token-stream.js';
import type { FlatTokenStream } from '../library-model.js';
import { checkOutput, checkResultSize, MAX_RESULT_TEXT_BYTES, MAX_RESULT_TOKENS } from '../result-checks.js';
import { MATCHED_TRIVIA } from './input-streams.js';
import type { SpanFrame } from './span-frame.js';
import { TOKEN_TREE_BYTES, type RawSlice } from './stable-abi.js';

/** Output text copied out of the library, with where each Scarb token ends in it and its span. */
export interface CopiedOutput {
	/** Every token's UTF-8 text, back to back. */
	bytes: Buffer;
	/** Per Scarb token: the byte offset in `bytes` where it ends. */
	ends: Uint32Array;
	/** Per Scarb token: span start and end, as the macro returned them. */
	spans: Uint32Array;
}

const TWO_32 = 0x1_0000_0000;

/** Copies the v2 output tokens (a StableSlice of StableTokenTree) out of library memory, or says what is wrong with them. */
export function copyV2Output(tokens: RawSlice, who: string): CopiedOutput | string {
	const count = tokens.len;
	const tooMany = checkResultSize(`${who} output`, count, 'tokens', MAX_RESULT_TOKENS);
	if (tooMany !== undefined) return tooMany;
	if (count === 0) return { bytes: Buffer.alloc(0), ends: new Uint32Array(0), spans: new Uint32Array(0) };
	if (tokens.ptr === 0) return `${who} returned ${count} output tokens at a NULL pointer`;
	// Read in place: everything needed is taken out below, before free_result_v2 runs.
	const words = new Uint32Array(koffi.view(tokens.ptr, count * TOKEN_TREE_BYTES));
	const stride = TOKEN_TREE_BYTES / 4;
	const ends = new Uint32Array(count);
	const spans = new Uint32Array(2 * count);
	let total = 0;
	for (let k = 0, w = 0; k < count; k++, w += stride) {
		const length = words[w + 6] + words[w + 7] * TWO_32;
		if (words[w] !== 0) return `${who} returned output token ${k} with tag ${words[w]}; a StableTokenTree has only Ident (0)`;
		if (length > 0 && words[w + 4] === 0 && words[w + 5] === 0) return `${who} returned output token ${k} with ${length} bytes at a NULL pointer`;
		total += length;
		if (total > MAX_RESULT_TEXT_BYTES) return checkResultSize(`${who} output text`, total, 'bytes', MAX_RESULT_TEXT_BYTES)!;
		ends[k] = total;
		spans[2 * k] = words[w + 2];
		spans[2 * k + 1] = words[w + 3];
	}
	const bytes = Buffer.allocUnsafe(total);
	let k = 0;
	while (k < count) k = copyRun(words, k, count, ends, bytes);
	return { bytes, ends, spans };
}

/**
 * Copies the run of tokens from `first` that lie back to back in memory (forwards or backwards)
 * through one view; returns the index after the run.
 */
function copyRun(words: Uint32Array, first: number, count: number, ends: Uint32Array, out: Buffer): number {
	const stride = TOKEN_TREE_BYTES / 4;
	let low = words[first * stride + 4] + words[first * stride + 5] * TWO_32;
	let high = low + ends[first] - (first === 0 ? 0 : ends[first - 1]);
	let direction = 0;
	let last = first + 1;
	for (let w = last * stride; last < count; last++, w += stride) {
		const n = ends[last] - ends[last - 1];
		if (n === 0) continue;
		const a = words[w + 4] + words[w + 5] * TWO_32;
		if (direction >= 0 && a === high) {
			direction = 1;
			high += n;
		} else if (direction <= 0 && a + n === low) {
			direction = -1;
			low = a;
		} else break;
	}
	if (high > low) {
		const view = Buffer.from(koffi.view(low, high - low));
		// A forward run is the output text in order already: one copy.
		if (direction >= 0) {
			view.copy(out, first === 0 ? 0 : ends[first - 1]);
			return last;
		}
		for (let k = first; k < last; k++) {
			const start = k === 0 ? 0 : ends[k - 1];
			const n = ends[k] - start;
			const at = words[k * stride + 4] + words[k * stride + 5] * TWO_32 - low;
			if (n > 0) view.copy(out, start, at, at + n);
		}
	}
	return last;
}

/** Copies a v1 output (one C string) out of library memory. */
export function copyV1Output(value: number): CopiedOutput {
	const bytes = value === 0 ? Buffer.alloc(0) : Buffer.from(koffi.decode(value, 'char', -1) as string, 'utf8');
	// One token with no span: v1 output is all at the call site.
	return { bytes, ends: Uint32Array.of(bytes.length), spans: Uint32Array.of(SPAN_CALL_SITE, SPAN_CALL_SITE) };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What an output token may be matched against: the input the macro was given (see ScarbInputBuilder.match). */
export interface InputMatcher {
	match(spanStart: number, spanEnd: number, output: Buffer, from: number, to: number): number;
}

/**
 * Splits copied output into our tokens, checked as every library's output is. `frame` maps the
 * spans back; without one (v1) every token is at the call site. With `input`, a Scarb token that is
 * an input token returned as it was (same span, same bytes, at a place where the tokenizer would
 * split anyway) keeps that token's kind without going through the tokenizer, and returned input
 * trivia is dropped: an identity-like output costs a comparison per token, not a new tokenizing.
 */
export function toFlatTokens(output: CopiedOutput, frame: SpanFrame | undefined, who: string, input?: InputMatcher): FlatTokenStream | string {
	let text: string;
	try {
		text = utf8.decode(output.bytes);
	} catch {
		return `${who} output text is not valid UTF-8`;
	}
	const { bytes, ends, spans } = output;
	const out = new RecordBuilder(Math.min(ends.length + 16, bytes.length + 1));
	let pending = -1; // index of the first Scarb token of the run still to tokenize
	for (let j = 0; j < ends.length; j++) {
		const from = j === 0 ? 0 : ends[j - 1];
		const to = ends[j];
		const kind = input !== undefined && frame !== undefined ? matchToken(input, frame, output, j, from, to) : -1;
		if (kind < 0) {
			if (pending < 0) pending = j;
			continue;
		}
		if (pending >= 0) {
			const problem = tokenizeRun(output, frame, pending, j, out, who);
			if (problem !== undefined) return problem;
			pending = -1;
		}
		if (kind !== MATCHED_TRIVIA) {
			const source = frame!.tokenSourceStart(spans[2 * j], spans[2 * j + 1]);
			out.push(kind, from, to - from, source, source + (to - from));
		}
	}
	if (pending >= 0) {
		const problem = tokenizeRun(output, frame, pending, ends.length, out, who);
		if (problem !== undefined) return problem;
	}
	const records = out.finish();
	return checkOutput(records, bytes.length, who) ?? { text, records };
}

/** The kind of Scarb output token j when it is a returned input token at a safe split, else -1. */
function matchToken(input: InputMatcher, frame: SpanFrame, output: CopiedOutput, j: number, from: number, to: number): number {
	const spanStart = output.spans[2 * j];
	const spanEnd = output.spans[2 * j + 1];
	if (spanEnd - spanStart !== to - from || to === from || frame.tokenSourceStart(spanStart, spanEnd) < 0) return -1;
	if (!splitsThere(output.bytes, from) || !splitsThere(output.bytes, to)) return -1;
	return input.match(spanStart, spanEnd, output.bytes, from, to);
}

/**
 * True when the tokenizer splits tokens at byte `at` whatever surrounds it: at either end of the
 * text, or next to whitespace or a delimiter that is always a token of its own (`( ) [ ] { } , ;`).
 */
function splitsThere(bytes: Buffer, at: number): boolean {
	return at === 0 || at === bytes.length || isBreak(bytes[at - 1]) || isBreak(bytes[at]);
}

function isBreak(byte: number): boolean {
	switch (byte) {
		case 0x20: case 0x09: case 0x0a: case 0x0d: // whitespace
		case 0x28: case 0x29: case 0x5b: case 0x5d: case 0x7b: case 0x7d: case 0x2c: case 0x3b: // ( ) [ ] { } , ;
			return true;
		default:
			return false;
	}
}

/**
 * Tokenizes the text of Scarb tokens [first, last) and appends the pieces: a piece inside one Scarb
 * token whose span maps into the input and is as wide as its text keeps a span inside it, any other
 * piece is at the call site.
 */
function tokenizeRun(output: CopiedOutput, frame: SpanFrame | undefined, first: number, last: number, out: RecordBuilder, who: string): string | undefined {
	const { bytes, ends, spans } = output;
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
		let source = -1;
		if (frame !== undefined && from + length <= ends[j] && spans[2 * j + 1] - spans[2 * j] === ends[j] - tokenStart) {
			const start = frame.tokenSourceStart(spans[2 * j], spans[2 * j + 1]);
			if (start >= 0) source = start + (from - tokenStart);
		}
		out.push(records[i + RecordField.kind], from, length, source, source + length);
	}
	return undefined;
}

/** Output records, grown as needed; JOINT is set at the end from adjacency, as the tokenizer sets it. */
class RecordBuilder {
	private records: Uint32Array;
	private count = 0;

	constructor(capacity: number) {
		this.records = new Uint32Array(Math.max(1, capacity) * RECORD_WIDTH);
	}

	/** One token; `spanStart` -1 puts it at the call site. */
	push(kind: number, offset: number, length: number, spanStart: number, spanEnd: number): void {
		if ((this.count + 1) * RECORD_WIDTH > this.records.length) {
			const grown = new Uint32Array(this.records.length * 2);
			grown.set(this.records);
			this.records = grown;
		}
		const i = this.count++ * RECORD_WIDTH;
		const r = this.records;
		r[i + RecordField.kind] = kind;
		r[i + RecordField.flags] = 0;
		r[i + RecordField.textOffset] = offset;
		r[i + RecordField.textLength] = length;
		r[i + RecordField.spanStart] = spanStart < 0 ? SPAN_CALL_SITE : spanStart;
		r[i + RecordField.spanEnd] = spanStart < 0 ? SPAN_CALL_SITE : spanEnd;
	}

	/** The records; a token is JOINT when the next one starts right where it ends (nothing between them). */
	finish(): Uint32Array {
		// A copy when the buffer has room to spare: encoders may read a view's whole backing buffer.
		const used = this.count * RECORD_WIDTH;
		const r = used === this.records.length ? this.records : this.records.slice(0, used);
		for (let i = 0; i + RECORD_WIDTH < r.length; i += RECORD_WIDTH) {
			if (r[i + RecordField.textOffset] + r[i + RecordField.textLength] === r[i + RECORD_WIDTH + RecordField.textOffset]) {
				r[i + RecordField.flags] = TokenFlags.joint;
			}
		}
		return r;
	}
}
