/**
 * Bulk streams: large token streams travel through shared files instead of inside the message.
 *
 * Why: a 200,000-token stream is about 6 MB. Inside a message it is copied into the body, through
 * the pipe in 64 KiB pieces, reassembled, and decoded into a fresh array on the other side, in each
 * direction. Through a shared file the client writes its bytes once, the host maps the file and hands
 * the records to the library where they lie, and the reply comes back the same way.
 *
 * How: the client offers a directory it owns in `initialize` (`bulk.dir`, in memory-backed storage
 * such as /dev/shm); a host that can map files answers `capabilities.bulk: true`. From then on, a
 * stream of at least `bulk.minBytes` bytes (records plus text) may be sent as a {@link BulkTokenStream}:
 * `{ "bulk": { "slot": 0, "offset": 0, "tokens": 200000, "textBytes": 1088890 } }` names a slot file
 * in that directory (`slot-0`) and where in it the stream lies: `tokens` records of 24 bytes
 * (little-endian u32s, the layout of the flat stream) at `offset`, then `textBytes` bytes of UTF-8
 * text. The slot belongs to the request until its response arrives: the host reads the request's
 * streams from it and, when the answer's tokens are large too, writes them back into the same slot and
 * answers with a BulkTokenStream there. A large answer to a request that came inline goes into an
 * answer file the host makes for it (`slot-<n>` with n ≥ {@link ANSWER_SLOT_BASE}), which the client
 * reads once and deletes. Every other stream, and everything when the capability is off, travels
 * inline as before.
 */
import { RECORD_WIDTH, type TokenStream } from './token-stream.js';

/** Where one stream lies in a slot file. */
export interface BulkRef {
	/** The slot file, `slot-<n>` in the session's bulk directory. */
	slot: number;
	/** Byte offset of the records (a multiple of {@link BULK_ALIGN}). */
	offset: number;
	/** Number of tokens: the records take `tokens * 24` bytes from `offset`. */
	tokens: number;
	/** Bytes of UTF-8 text right after the records. */
	textBytes: number;
}

/** A token stream sent through a slot file instead of inline. */
export interface BulkTokenStream {
	bulk: BulkRef;
}

/**
 * A token stream as the wire carries it: inline, or (at least `minBytes` large, in a session with bulk
 * streams) a reference to a slot file. The client's transport resolves references both ways, so what
 * callers of MacroHost see is always a {@link TokenStream}.
 */
export type WireTokenStream = TokenStream | BulkTokenStream;

/** What the client offers in `initialize` (InitializeParams.bulk). */
export interface BulkOffer {
	/** An absolute directory the client created for this host, holding the slot files. */
	dir: string;
	/** Streams below this many bytes (records plus text) stay inline, in both directions. */
	minBytes: number;
}

/** Bytes of one token record on the wire and in a slot (RECORD_WIDTH u32s). */
export const BULK_RECORD_BYTES = RECORD_WIDTH * 4;

/** Every stream in a slot starts at a multiple of this, so its records can be read in place as u32s. */
export const BULK_ALIGN = 8;

/** The default threshold: below it a stream is cheaper inline (measured in docs/performance.md). */
export const DEFAULT_BULK_MIN_BYTES = 32 * 1024;

/**
 * Slot numbers from here up name answer files the host makes, one per answer, for requests that came
 * without a slot; the client's own slots are numbered from 0 and stay far below.
 */
export const ANSWER_SLOT_BASE = 1 << 20;

/** The file name of slot `n` inside the bulk directory. */
export function slotFileName(slot: number): string {
	return `slot-${slot}`;
}

/** `n` rounded up to a multiple of {@link BULK_ALIGN}. */
export function alignBulk(n: number): number {
	return Math.ceil(n / BULK_ALIGN) * BULK_ALIGN;
}

/** True when `value` has the outer shape of a BulkTokenStream (its fields are checked by {@link checkBulkRef}). */
export function isBulkTokenStream(value: unknown): value is BulkTokenStream {
	return value !== null && typeof value === 'object' && 'bulk' in value;
}

/**
 * Checks a BulkTokenStream's fields (not the file: the host checks the range against the file).
 * Returns undefined when they are sound, else what is wrong, naming the field under `field`.
 */
export function checkBulkRef(value: unknown, field: string): string | undefined {
	const ref = (value as { bulk?: unknown }).bulk;
	if (ref === null || typeof ref !== 'object' || Array.isArray(ref)) {
		return `${field}.bulk must be an object {slot, offset, tokens, textBytes}`;
	}
	for (const key of ['slot', 'offset', 'tokens', 'textBytes'] as const) {
		const n = (ref as Record<string, unknown>)[key];
		if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
			return `${field}.bulk.${key} must be a non-negative integer, got ${JSON.stringify(n) ?? 'nothing'}`;
		}
	}
	const { offset } = ref as BulkRef;
	if (offset % BULK_ALIGN !== 0) return `${field}.bulk.offset must be a multiple of ${BULK_ALIGN}, got ${offset}`;
	return undefined;
}

/** Size in bytes a stream would take in a slot (records plus UTF-8 text). */
export function bulkSize(tokens: number, textBytes: number): number {
	return tokens * BULK_RECORD_BYTES + textBytes;
}

/** The request fields that may hold a token stream, and the response field. */
export const REQUEST_STREAM_FIELDS = ['args', 'item'] as const;
export const RESULT_STREAM_FIELD = 'tokens';

/** The slot a request's bulk streams lie in, or undefined when it sent none. */
export function requestSlot(params: unknown): number | undefined {
	if (params === null || typeof params !== 'object') return undefined;
	for (const field of REQUEST_STREAM_FIELDS) {
		const stream = (params as Record<string, unknown>)[field];
		if (isBulkTokenStream(stream) && checkBulkRef(stream, field) === undefined) return stream.bulk.slot;
	}
	return undefined;
}
