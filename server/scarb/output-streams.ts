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
import { tokenize } from '../../client/tokenizer.js';
import { RECORD_WIDTH, RecordField, SPAN_CALL_SITE } from '../../protocol/token-stream.js';
import type { FlatTokenStream } from '../library-model.js';
import { checkOutput, checkResultSize, MAX_RESULT_TEXT_BYTES, MAX_RESULT_TOKENS } from '../result-checks.js';
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
	const words = new Uint32Array(koffi.view(tokens.ptr, count * TOKEN_TREE_BYTES).slice(0));
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
	const address = (k: number): number => words[k * stride + 4] + words[k * stride + 5] * TWO_32;
	const length = (k: number): number => ends[k] - (k === 0 ? 0 : ends[k - 1]);
	let low = address(first);
	let high = low + length(first);
	let direction = 0;
	let last = first + 1;
	for (; last < count; last++) {
		const a = address(last);
		const n = length(last);
		if (n === 0) continue;
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
		for (let k = first; k < last; k++) {
			const n = length(k);
			if (n > 0) view.copy(out, ends[k] - n, address(k) - low, address(k) - low + n);
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

/**
 * Splits copied output into our tokens, checked as every library's output is. `frame` maps the
 * spans back; without one (v1) every token is at the call site.
 */
export function toFlatTokens(output: CopiedOutput, frame: SpanFrame | undefined, who: string): FlatTokenStream | string {
	let text: string;
	try {
		text = utf8.decode(output.bytes);
	} catch {
		return `${who} output text is not valid UTF-8`;
	}
	const { stream, errors } = tokenize(text);
	if (errors.length > 0) {
		const e = errors[0];
		return `${who} output is not Cairo the host can split into tokens: ${e.message} at output byte ${e.start}`;
	}
	const records = stream.records;
	const { ends, spans } = output;
	let j = 0;
	for (let i = 0; i < records.length; i += RECORD_WIDTH) {
		const from = records[i + RecordField.textOffset];
		const to = from + records[i + RecordField.textLength];
		while (ends[j] <= from) j++;
		const tokenStart = j === 0 ? 0 : ends[j - 1];
		let start = SPAN_CALL_SITE;
		let end = SPAN_CALL_SITE;
		if (frame !== undefined && to <= ends[j]) {
			const spanStart = spans[2 * j];
			const spanEnd = spans[2 * j + 1];
			const source = spanEnd - spanStart === ends[j] - tokenStart ? frame.tokenSourceStart(spanStart, spanEnd) : -1;
			if (source >= 0) {
				start = source + (from - tokenStart);
				end = source + (to - tokenStart);
			}
		}
		records[i + RecordField.spanStart] = start;
		records[i + RecordField.spanEnd] = end;
	}
	return checkOutput(records, output.bytes.length, who) ?? { text, records };
}
