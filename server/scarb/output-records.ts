/**
 * What a Scarb macro's output is turned into and matched against: our records, written into a
 * buffer reused from call to call, and the input the macro was given (its pieces, as the v2 token
 * array the host built).
 */
import { RECORD_WIDTH, RecordField, SPAN_CALL_SITE, TokenFlags } from '../../protocol/token-stream.js';

/**
 * What output tokens are matched against: the input the macro was given, as pieces (see
 * ScarbInputBuilder): its tokens and the trivia between them, in span order.
 */
export interface InputMatcher {
	/** The pieces as the v2 token array the macro was given: TokenTreeWord.count u32 words a piece. */
	readonly pieceWords: Uint32Array;
	/** Per piece: an input token's kind, or MATCHED_TRIVIA. */
	readonly pieceKinds: Uint8Array;
	/** How many pieces there are. */
	readonly pieceCount: number;
	/** The text most pieces point into; a piece outside it is one byte, a space or a parenthesis. */
	readonly pieceText: Buffer;
	/** The address of pieceText's first byte. */
	readonly pieceTextAddress: number;
	/** The first piece whose span starts at `spanStart` or after. */
	firstPieceFrom(spanStart: number): number;
	/** The piece an output token is (same span, same bytes), or -1; `hint` is the piece tried first. */
	find(spanStart: number, spanEnd: number, output: Buffer, from: number, to: number, hint: number): number;
	/** Whether the bytes of pieces [from, to) are `output` from `at` on. */
	sameBytes(from: number, to: number, output: Buffer, at: number): boolean;
	/** Whether the host memory [start, end) (pieces' text) equals `output` from `at` on; false for memory of no piece. */
	sameMemory(start: number, end: number, output: Buffer, at: number): boolean;
}

// Record fields as module constants: a namespace member is a property load on every use in a hot loop.
const KIND_AT = RecordField.kind;
const FLAGS_AT = RecordField.flags;
const OFFSET_AT = RecordField.textOffset;
const LENGTH_AT = RecordField.textLength;
const START_AT = RecordField.spanStart;
const END_AT = RecordField.spanEnd;
const JOINT = TokenFlags.joint;

/**
 * Output records, grown as needed and reused from call to call (one per expander); JOINT is set
 * from adjacency, as the tokenizer sets it.
 */
export class OutputRecords {
	private records = new Uint32Array(1024 * RECORD_WIDTH);
	/** Records written so far. */
	count = 0;

	/** Starts a new output. */
	reset(): void {
		this.count = 0;
	}

	/** The buffer, with room for `more` records after the first `count`. */
	reserve(more: number): Uint32Array {
		const needed = (this.count + more) * RECORD_WIDTH;
		if (needed > this.records.length) {
			const grown = new Uint32Array(Math.max(needed, this.records.length * 2));
			grown.set(this.records.subarray(0, this.count * RECORD_WIDTH));
			this.records = grown;
		}
		return this.records;
	}

	/** One token; `spanStart` -1 puts it at the call site. */
	push(kind: number, offset: number, length: number, spanStart: number, spanEnd: number): void {
		const r = this.reserve(1);
		const i = this.count++ * RECORD_WIDTH;
		// A token is JOINT when the next one starts right where it ends (nothing between them).
		if (i > 0 && r[i - RECORD_WIDTH + OFFSET_AT] + r[i - RECORD_WIDTH + LENGTH_AT] === offset) r[i - RECORD_WIDTH + FLAGS_AT] = JOINT;
		r[i + KIND_AT] = kind;
		r[i + FLAGS_AT] = 0;
		r[i + OFFSET_AT] = offset;
		r[i + LENGTH_AT] = length;
		r[i + START_AT] = spanStart < 0 ? SPAN_CALL_SITE : spanStart;
		r[i + END_AT] = spanStart < 0 ? SPAN_CALL_SITE : spanEnd;
	}

	/** The records written, as a view of the buffer: good until the next reset. */
	view(): Uint32Array {
		return this.records.subarray(0, this.count * RECORD_WIDTH);
	}
}
