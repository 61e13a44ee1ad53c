/**
 * The start of a v2 output that gives the macro's input back as it was (an identity; an attribute
 * that keeps its item and adds code after it), turned into our records in one pass over the macro's
 * token array, before any text is copied: output token t is taken for input piece k0 + t while
 *  - it has that piece's span and length (integers, read in place),
 *  - it lies right after token t - 1 in the macro's memory (so the prefix's text is one range, copied
 *    at once), and
 *  - it is a token of its own: as wide as its span, inside the frame, where the tokenizer splits
 *    (judged on the input's bytes, which the caller then checks the prefix's text equals).
 * These are the tests toRecords makes token by token, so the records are the ones it would write;
 * when the text turns out to differ from the input's (a macro that kept spans and widths but changed
 * bytes), the caller drops them and toRecords does the whole output.
 */
import { RECORD_WIDTH, RecordField, TokenFlags } from '../../protocol/token-stream.js';
import { MATCHED_TRIVIA } from './input-streams.js';
import type { InputMatcher, OutputRecords } from './output-records.js';
import type { SpanFrame } from './span-frame.js';
import { TokenTreeWord } from './stable-abi.js';
import { BREAKS } from './token-breaks.js';

/** What {@link takeReturnedPrefix} took. */
export interface ReturnedPrefix {
	/** Output tokens taken (0: none); their records are in `out`, their ends in `ends`. */
	tokens: number;
	/** Byte length of their text. */
	bytes: number;
	/** Where their text starts in the macro's memory (it is one range). */
	address: number;
	/** The piece after the last one taken. */
	nextPiece: number;
}

const NONE: ReturnedPrefix = { tokens: 0, bytes: 0, address: 0, nextPiece: 0 };
const TWO_32 = 0x1_0000_0000;

/**
 * Takes the returned prefix of the `count` output trees in `words` (the macro's token array, read
 * in place), writing records into `out` (reset first) and each token's end into `ends`. `ranges`
 * (emptied first) receives (start address, end address, output offset) triples: the input memory
 * the prefix's text must equal, which the caller compares once it has copied that text.
 */
export function takeReturnedPrefix(
	words: Uint32Array,
	count: number,
	frame: SpanFrame,
	input: InputMatcher,
	out: OutputRecords,
	ends: Uint32Array,
	ranges: number[],
): ReturnedPrefix {
	out.reset();
	ranges.length = 0;
	const treeWords = TokenTreeWord.count;
	const startAt = TokenTreeWord.spanStart;
	const endAt = TokenTreeWord.spanEnd;
	const addressAt = TokenTreeWord.addressLow;
	const lengthAt = TokenTreeWord.lengthLow;
	if (count === 0 || words[TokenTreeWord.tag] !== 0) return NONE;
	const pieces = input.pieceWords;
	const pieceCount = input.pieceCount;
	// The first token's piece, by span and length, looked for where find() looks (piece 0 first); with
	// two candidates, find() decides on the bytes.
	const from = pieceCount > 0 && pieces[startAt] === words[startAt] ? 0 : input.firstPieceFrom(words[startAt]);
	let k0 = -1;
	for (let k = from, p = k * treeWords; k < pieceCount && pieces[p + startAt] === words[startAt]; k++, p += treeWords) {
		if (pieces[p + endAt] !== words[endAt] || pieces[p + lengthAt] !== words[lengthAt]) continue;
		if (k0 >= 0) return NONE;
		k0 = k;
	}
	if (k0 < 0) return NONE;
	const address0 = words[addressAt] + words[addressAt + 1] * TWO_32;
	if (address0 === 0) return NONE;
	// Constants and fields in locals: this loop runs once per token of an identity-like output.
	const kinds = input.pieceKinds;
	const text = input.pieceText;
	const textAddress = input.pieceTextAddress;
	const textLength = text.length;
	const breaks = BREAKS;
	const two32 = TWO_32;
	const trivia = MATCHED_TRIVIA;
	const width = RECORD_WIDTH;
	const flagsAt = RecordField.flags;
	const joint = TokenFlags.joint;
	const base = frame.base;
	const frameWidth = frame.width;
	const last = Math.min(count, pieceCount - k0);
	const r = out.reserve(last);
	let i = 0; // next record's first word
	let prevEnd = -1; // output offset where the last record's text ends
	let total = 0;
	let next = address0; // where the next token must start in the macro's memory
	let prevBreak = 1; // whether the byte before the next token is one the tokenizer splits at (none: the start)
	let rangeStart = -1; // the input memory range being followed, and the output offset it starts at
	let rangeEnd = -1;
	let rangeAt = 0;
	let lastLength = 0; // the last token taken: its length, and whether it wrote a record
	let lastRecorded = false;
	let t = 0;
	for (let w = 0, p = k0 * treeWords; t < last; t++, w += treeWords, p += treeWords) {
		const length = words[w + lengthAt];
		const spanStart = words[w + startAt];
		const spanEnd = words[w + endAt];
		if (words[w] !== 0 || words[w + lengthAt + 1] !== 0 || words[w + addressAt] + words[w + addressAt + 1] * two32 !== next) break;
		if (spanStart !== pieces[p + startAt] || spanEnd !== pieces[p + endAt] || length !== pieces[p + lengthAt]) break;
		if (length === 0 || spanEnd - spanStart !== length || spanEnd > frameWidth) break;
		const ours = pieces[p + addressAt] + pieces[p + addressAt + 1] * two32;
		const distance = ours - textAddress;
		const inText = distance >= 0 && distance < textLength;
		// An int32 (the text is under 2 GiB): indexing with a double is a slow load.
		const offset = inText ? distance | 0 : 0;
		// A piece outside the text is a space or a parenthesis: the tokenizer splits around it.
		if (prevBreak === 0 && inText && breaks[text[offset]] === 0) break;
		if (ours !== rangeEnd) {
			if (rangeStart >= 0) ranges.push(rangeStart, rangeEnd, rangeAt);
			rangeStart = ours;
			rangeAt = total;
		}
		rangeEnd = ours + length;
		const kind = kinds[k0 + t];
		lastRecorded = kind !== trivia;
		if (lastRecorded) {
			if (prevEnd === total) r[i - width + flagsAt] = joint;
			r[i] = kind;
			r[i + 1] = 0;
			r[i + 2] = total;
			r[i + 3] = length;
			r[i + 4] = spanStart + base;
			r[i + 5] = spanEnd + base;
			i += width;
			prevEnd = total + length;
		}
		total += length;
		ends[t] = total;
		next += length;
		lastLength = length;
		prevBreak = inText ? breaks[text[offset + length - 1]] : 1;
	}
	// Where the prefix stops short of the output's end, the tokenizer must split after its last token
	// too; when that hangs on the next token's first byte (the macro's memory), the last token is left
	// to toRecords.
	if (t > 0 && t < count && prevBreak === 0) {
		t--;
		total -= lastLength;
		rangeEnd -= lastLength;
		if (lastRecorded) {
			i -= width;
			// Its JOINT flag, if any, came from the record just dropped.
			if (i > 0) r[i - width + flagsAt] = 0;
		}
	}
	if (t === 0) return NONE;
	if (rangeEnd > rangeStart) ranges.push(rangeStart, rangeEnd, rangeAt);
	out.count = i / width;
	return { tokens: t, bytes: total, address: address0, nextPiece: k0 + t };
}
