/**
 * The memory of one call into a library of our ABI, as raw bytes at the ABI's offsets: the
 * mh_request the host writes before each call, and the mh_result header it copies out of library
 * memory after it. Why not koffi's struct conversion: converting a JS object into an mh_request and
 * an mh_result back into nested objects cost about 5 µs a call, and a view of library memory
 * (`koffi.view`) about 3 µs more, which is most of what a 20-token call costs the host. Here the
 * request lives in one buffer allocated once, and results are copied out with `memcpy`: small
 * copies into buffers the host owns, no external ArrayBuffer per read.
 *
 * Offsets come from koffi's own layout of the structs (abi.ts), so they match the C compiler's.
 */
import koffi from 'koffi';
import { getLibc } from '../libc.js';
import { MhRequest, MhResult, MhSpan, MhStr, MhTokenStream, type Address, type RawResult, type RawTokenStream } from './abi.js';

/** A stream as the request carries it: where its records and text are, and how many of each. */
export interface StreamMemory {
	/** Records (off-heap memory: its address must not move during the call); null when there are none. */
	tokens: Uint8Array | Uint32Array | null;
	/** Number of tokens. */
	len: number;
	/** UTF-8 text (off-heap memory); null when empty. */
	text: Uint8Array | null;
	textLen: number;
}

const POINTER_BYTES = koffi.sizeof('void *');
const SIZE_BYTES = koffi.sizeof('size_t');

/** Offsets of mh_request's fields. */
const REQUEST = {
	size: koffi.sizeof(MhRequest),
	kind: koffi.offsetof(MhRequest, 'kind'),
	namePtr: koffi.offsetof(MhRequest, 'name') + koffi.offsetof(MhStr, 'ptr'),
	nameLen: koffi.offsetof(MhRequest, 'name') + koffi.offsetof(MhStr, 'len'),
	args: koffi.offsetof(MhRequest, 'args'),
	item: koffi.offsetof(MhRequest, 'item'),
	callStart: koffi.offsetof(MhRequest, 'call_site') + koffi.offsetof(MhSpan, 'start'),
	callEnd: koffi.offsetof(MhRequest, 'call_site') + koffi.offsetof(MhSpan, 'end'),
};

/** Offsets inside an mh_token_stream. */
const STREAM = {
	tokens: koffi.offsetof(MhTokenStream, 'tokens'),
	len: koffi.offsetof(MhTokenStream, 'len'),
	text: koffi.offsetof(MhTokenStream, 'text'),
	textLen: koffi.offsetof(MhTokenStream, 'text_len'),
};

/** Offsets of mh_result's fields. */
const RESULT = {
	size: koffi.sizeof(MhResult),
	outcome: koffi.offsetof(MhResult, 'outcome'),
	tokens: koffi.offsetof(MhResult, 'tokens'),
	auxPtr: koffi.offsetof(MhResult, 'aux_data') + koffi.offsetof(MhStr, 'ptr'),
	auxLen: koffi.offsetof(MhResult, 'aux_data') + koffi.offsetof(MhStr, 'len'),
	diagnostics: koffi.offsetof(MhResult, 'diagnostics'),
	diagnosticsLen: koffi.offsetof(MhResult, 'diagnostics_len'),
};

/** The one mh_request of the host, rewritten for each call. */
export class RequestMemory {
	/** Off-heap, so its address stays put. */
	readonly bytes = Buffer.allocUnsafeSlow(REQUEST.size);

	/** Fills the request; the buffers it points at must stay alive (and unmoved) until the call returns. */
	write(kind: number, name: Buffer, args: StreamMemory | undefined, item: StreamMemory | undefined, callStart: number, callEnd: number): Buffer {
		const b = this.bytes;
		b.fill(0);
		b.writeUInt32LE(kind, REQUEST.kind);
		writePointer(b, REQUEST.namePtr, name.length > 0 ? name : null);
		writeSize(b, REQUEST.nameLen, name.length);
		if (args !== undefined) writeStream(b, REQUEST.args, args);
		if (item !== undefined) writeStream(b, REQUEST.item, item);
		b.writeUInt32LE(callStart, REQUEST.callStart);
		b.writeUInt32LE(callEnd, REQUEST.callEnd);
		return b;
	}
}

/** Copies mh_results out of library memory. */
export class ResultReader {
	readonly #header = Buffer.allocUnsafeSlow(RESULT.size);
	readonly #memcpy = getLibc().memcpy;

	/** The mh_result at `pointer`, as koffi would decode it (addresses as bigint, NULL as null). */
	header(pointer: bigint): RawResult {
		const h = this.#header;
		this.#memcpy(h, pointer, RESULT.size);
		return {
			outcome: h.readUInt32LE(RESULT.outcome),
			tokens: readStream(h, RESULT.tokens),
			aux_data: { ptr: readPointer(h, RESULT.auxPtr), len: readSize(h, RESULT.auxLen) },
			diagnostics: readPointer(h, RESULT.diagnostics),
			diagnostics_len: readSize(h, RESULT.diagnosticsLen),
		};
	}

	/** A copy of `len` records (24 bytes each) at `pointer`, in memory from Node's buffer pool (no zero fill, no external buffer of its own when small). */
	records(pointer: bigint, len: number): Uint32Array {
		const bytes = len * 24;
		const copy = Buffer.allocUnsafe(bytes);
		// The pool hands out 8-byte aligned slices, so the view needs no copy of its own.
		this.#memcpy(copy, pointer, bytes);
		return new Uint32Array(copy.buffer, copy.byteOffset, len * 6);
	}

	/** A copy of `len` bytes at `pointer` (a string of the result). */
	bytes(pointer: bigint, len: number): Buffer {
		const copy = Buffer.allocUnsafe(len);
		this.#memcpy(copy, pointer, len);
		return copy;
	}
}

function writeStream(b: Buffer, at: number, stream: StreamMemory): void {
	writePointer(b, at + STREAM.tokens, stream.len > 0 ? stream.tokens : null);
	writeSize(b, at + STREAM.len, stream.len);
	writePointer(b, at + STREAM.text, stream.textLen > 0 ? stream.text : null);
	writeSize(b, at + STREAM.textLen, stream.textLen);
}

function readStream(h: Buffer, at: number): RawTokenStream {
	return { tokens: readPointer(h, at + STREAM.tokens), len: readSize(h, at + STREAM.len), text: readPointer(h, at + STREAM.text), text_len: readSize(h, at + STREAM.textLen) };
}

function writePointer(b: Buffer, at: number, memory: Uint8Array | Uint32Array | null): void {
	const address = memory === null ? 0n : koffi.address(memory);
	if (POINTER_BYTES === 8) b.writeBigUInt64LE(address, at);
	else b.writeUInt32LE(Number(address), at);
}

function writeSize(b: Buffer, at: number, value: number): void {
	if (SIZE_BYTES === 8) b.writeBigUInt64LE(BigInt(value), at);
	else b.writeUInt32LE(value, at);
}

function readPointer(h: Buffer, at: number): Address {
	const address = POINTER_BYTES === 8 ? h.readBigUInt64LE(at) : BigInt(h.readUInt32LE(at));
	return address === 0n ? null : address;
}

function readSize(h: Buffer, at: number): number | bigint {
	if (SIZE_BYTES !== 8) return h.readUInt32LE(at);
	// Sizes beyond 2^53 are garbage a check will refuse; kept as bigint so that no digit is lost in the message.
	const low = h.readUInt32LE(at);
	const high = h.readUInt32LE(at + 4);
	return high < 0x200000 ? high * 0x1_0000_0000 + low : h.readBigUInt64LE(at);
}
