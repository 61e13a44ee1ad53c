/**
 * The flat token stream: the one form a stream has on the wire, in the host and across the ABI.
 *
 * Why flat: a stream of 200,000 tokens as 200,000 JSON objects costs an allocation and a parse per
 * token at every hop. Instead a stream is one UTF-8 text plus one array of u32 records, six per
 * token, in exactly the layout of `mh_token` in sdk/c/macro_host.h, so the host hands the array to
 * the library as one pointer.
 *
 *   source:  add!(a, 1)                      args of the call: `a , 1`
 *   text:    "a,1"
 *   records: [0, 1, 0, 1, 5, 6,              IDENT   "a"  text 0..1  span 5..6, joint (',' follows)
 *             1, 0, 1, 1, 6, 7,              PUNCT   ","  text 1..2  span 6..7
 *             2, 0, 2, 1, 8, 9]              LITERAL "1"  text 2..3  span 8..9
 *
 * Offsets and lengths count UTF-8 bytes of `text`; spans count UTF-8 bytes of the source file.
 * In JSON bodies `records` is a plain number array; in msgpack bodies it is a Uint32Array.
 */

/** A flat token stream on the wire. */
export interface TokenStream {
	/** The tokens' text, back to back (each token's text is a slice of it, addressed in UTF-8 bytes). */
	text: string;
	/** RECORD_WIDTH u32 numbers per token: kind, flags, textOffset, textLength, spanStart, spanEnd. */
	records: number[] | Uint32Array;
}

/** Number of u32 fields in one token record. */
export const RECORD_WIDTH = 6;

/** Index of each field inside a record. */
export namespace RecordField {
	export const kind = 0;
	export const flags = 1;
	export const textOffset = 2;
	export const textLength = 3;
	export const spanStart = 4;
	export const spanEnd = 5;
}

/** Token kinds (the `kind` field); equal to MH_TOKEN_* in the C header. */
export namespace TokenKind {
	export const ident = 0;
	export const punct = 1;
	export const literal = 2;
}
export type TokenKind = 0 | 1 | 2;

/** Token flag bits (the `flags` field); equal to MH_TOKEN_FLAG_* in the C header. */
export namespace TokenFlags {
	/** No whitespace between this token and the next. */
	export const joint = 1;
}

/** Span value of a generated token: it maps to the call site (MH_SPAN_CALL_SITE). */
export const SPAN_CALL_SITE = 0xffffffff;

/** Number of tokens in a stream. */
export function tokenCount(stream: TokenStream): number {
	return (stream.records.length / RECORD_WIDTH) | 0;
}

/** An empty stream. */
export function emptyTokenStream(): TokenStream {
	return { text: '', records: [] };
}

/** True when `value` has the shape of a TokenStream (not yet checked against its text: see validateTokenStream). */
export function isTokenStream(value: unknown): value is TokenStream {
	if (value === null || typeof value !== 'object') return false;
	const v = value as { text?: unknown; records?: unknown };
	return typeof v.text === 'string' && (Array.isArray(v.records) || v.records instanceof Uint32Array);
}

/**
 * Checks a stream's records against its text. `textBytes` is the UTF-8 length of `text`.
 * Returns undefined when the stream is sound, else a sentence saying what is wrong.
 */
export function validateTokenStream(stream: TokenStream, textBytes: number, what = 'token stream'): string | undefined {
	const r = stream.records;
	if (r.length % RECORD_WIDTH !== 0) {
		return `${what}: records has ${r.length} numbers, not a multiple of ${RECORD_WIDTH}`;
	}
	// One loop per record type keeps each loop's element loads monomorphic: on a 200,000-token stream
	// that is several times faster than one loop over both.
	return r instanceof Uint32Array ? validateTypedRecords(r, textBytes, what) : validateArrayRecords(r, textBytes, what);
}

// The hot loops below copy every constant they use into a local first: a namespace member
// (RecordField.kind) is a property load on each iteration that V8 does not fold, and on a
// 200,000-token stream the loops ran about 4 times slower with them.

/** Typed records are u32 by construction: only kinds and text ranges need checking. */
function validateTypedRecords(r: Uint32Array, textBytes: number, what: string): string | undefined {
	const width = RECORD_WIDTH;
	const kindAt = RecordField.kind;
	const offsetAt = RecordField.textOffset;
	const lengthAt = RecordField.textLength;
	const maxKind = TokenKind.literal;
	const n = r.length;
	for (let i = 0; i < n; i += width) {
		const kind = r[i + kindAt];
		// Both fields are below 2^32, so the sum is exact in a double.
		const end = r[i + offsetAt] + r[i + lengthAt];
		if (kind > maxKind || end > textBytes) return describeRecordProblem(r, i, textBytes, what);
	}
	return undefined;
}

function validateArrayRecords(r: number[], textBytes: number, what: string): string | undefined {
	const width = RECORD_WIDTH;
	const kindAt = RecordField.kind;
	const offsetAt = RecordField.textOffset;
	const lengthAt = RecordField.textLength;
	const maxKind = TokenKind.literal;
	for (let i = 0; i < r.length; i += width) {
		for (let f = 0; f < width; f++) {
			const n = r[i + f];
			// Exactly the u32s survive `>>> 0` unchanged: not a number, a fraction, a negative or 2^32 and up all change.
			if (n >>> 0 !== n) {
				return `${what}: token ${i / RECORD_WIDTH} field ${f} is ${JSON.stringify(n)}, not a u32`;
			}
		}
		const kind = r[i + kindAt];
		const end = r[i + offsetAt] + r[i + lengthAt];
		if (kind > maxKind || end > textBytes) return describeRecordProblem(r, i, textBytes, what);
	}
	return undefined;
}

/** The sentence for a record whose kind or text range is wrong (off the hot loop). */
function describeRecordProblem(r: ArrayLike<number>, i: number, textBytes: number, what: string): string {
	const kind = r[i + RecordField.kind];
	if (kind > TokenKind.literal) return `${what}: token ${i / RECORD_WIDTH} has unknown kind ${kind}`;
	const end = r[i + RecordField.textOffset] + r[i + RecordField.textLength];
	return `${what}: token ${i / RECORD_WIDTH} text ends at byte ${end}, past the text's ${textBytes} bytes`;
}
