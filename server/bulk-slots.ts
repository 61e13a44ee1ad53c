/**
 * The host's side of bulk streams (protocol/bulk.ts): reads a request's large streams from the
 * client's slot files in place, and writes a large answer back into the request's slot.
 *
 * Reading maps each slot file once (read-only, shared) and hands out views of the mapping: a
 * stream's records go to the library at the address they lie at, with no copy. A mapping is only
 * replaced (unmapped) when a later request needs bytes past its end; requests are served one at a
 * time and nothing keeps a view past its request (the wasm worker gets copies), so no view outlives
 * its mapping. Writing uses pwrite, not the mapping: on a full memory file system a write through a
 * mapping is a SIGBUS, a pwrite is an ENOSPC the host can answer inline instead.
 */
import { isUtf8 } from 'node:buffer';
import { closeSync, fstatSync, openSync, statSync, writevSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import koffi from 'koffi';
import { bulkSize, slotFileName, type BulkOffer, type BulkRef, type BulkTokenStream } from '../protocol/bulk.js';
import { RECORD_WIDTH } from '../protocol/token-stream.js';
import type { Expansion, MappedTokenStream, TokenSink } from './expander.js';

/** An expansion whose tokens travel through a slot. */
export type WireExpansion = Omit<Expansion, 'tokens' | 'written'> & { tokens: BulkTokenStream };
import { getLibc, LibcConstants, MAP_FAILED } from './libc.js';

/** One slot file, open and mapped. */
interface Slot {
	fd: number;
	/** The mapping's address and length; length 0 when nothing is mapped yet. */
	address: number | bigint;
	length: number;
	/** The mapping as an ArrayBuffer (koffi.view): views of it are what streams hold. */
	bytes: ArrayBuffer | undefined;
}

/** A bulk stream that cannot be read; dispatch answers it with InvalidParams. */
export class BulkReadError extends Error {
	override readonly name = 'BulkReadError';
}

/** The slot files of one session. */
export class BulkSlots {
	private readonly slots = new Map<number, Slot>();

	private constructor(
		readonly dir: string,
		readonly minBytes: number,
		private readonly log: (line: string) => void,
	) {}

	/** The slots of the directory the client offered, or why the host cannot use it. */
	static open(offer: BulkOffer, log: (line: string) => void): BulkSlots | string {
		if (process.platform !== 'linux' && process.platform !== 'darwin') return `mapping files is not supported on ${process.platform}`;
		if (!isAbsolute(offer.dir)) return `${JSON.stringify(offer.dir)} is not an absolute path`;
		try {
			if (!statSync(offer.dir).isDirectory()) return `${offer.dir} is not a directory`;
		} catch (error) {
			return `${offer.dir} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
		}
		return new BulkSlots(offer.dir, offer.minBytes, log);
	}

	/**
	 * The stream a BulkTokenStream names, in place: its records and its UTF-8 text are views of the
	 * slot's mapping, handed to the library as they are. The text as a string is decoded only if
	 * something asks for it (a wasm call). `field` names it in errors ("params.args"). Throws BulkReadError.
	 */
	read(stream: BulkTokenStream, field: string): MappedTokenStream {
		const ref = stream.bulk;
		if (ref.tokens === 0 && ref.textBytes === 0) return mappedStream(new Uint32Array(0), new Uint8Array(0));
		const end = ref.offset + bulkSize(ref.tokens, ref.textBytes);
		const bytes = this.mapped(ref.slot, end, field);
		const recordsEnd = ref.offset + ref.tokens * RECORD_WIDTH * 4;
		const utf8 = new Uint8Array(bytes, recordsEnd, ref.textBytes);
		if (!isUtf8(utf8)) throw new BulkReadError(`${field}: the text in ${slotFileName(ref.slot)} (bytes ${recordsEnd}..${end}) is not valid UTF-8`);
		return mappedStream(new Uint32Array(bytes, ref.offset, ref.tokens * RECORD_WIDTH), utf8);
	}

	/** A sink that writes a large output from library memory into `slot` (see Expander's TokenSink). */
	sink(slot: number): TokenSink {
		return { minBytes: this.minBytes, write: (records, text) => this.write(slot, records, text) };
	}

	/**
	 * The expansion as the wire carries it: tokens a sink wrote become a BulkTokenStream, and tokens
	 * still in memory (a derive's merged output, a wasm macro's) are written into `slot` when they are
	 * at least `minBytes` large; anything else, or a failed write, goes inline.
	 */
	answer(expansion: Expansion, slot: number): Expansion | WireExpansion {
		if (expansion.written !== undefined) {
			const { written, ...rest } = expansion;
			return { ...rest, tokens: { bulk: written } };
		}
		const tokens = expansion.tokens;
		if (tokens === undefined) return expansion;
		const records = tokens.records;
		// Text is at most 3 bytes per UTF-16 unit: a cheap upper bound settles most small answers.
		if (records.byteLength + tokens.text.length * 3 < this.minBytes) return expansion;
		const text = Buffer.from(tokens.text, 'utf8');
		if (records.byteLength + text.length < this.minBytes) return expansion;
		const ref = this.write(slot, records, text);
		return ref === undefined ? expansion : { ...expansion, tokens: { bulk: ref } };
	}

	/** Writes records, then text, at the start of `slot`; undefined (and a line in the log) when the write fails. */
	private write(slot: number, records: Uint32Array, text: Uint8Array): BulkRef | undefined {
		const ref: BulkRef = { slot, offset: 0, tokens: records.length / RECORD_WIDTH, textBytes: text.byteLength };
		try {
			const fd = this.slot(slot, 'the answer').fd;
			writeAll(fd, [new Uint8Array(records.buffer, records.byteOffset, records.byteLength), text]);
			return ref;
		} catch (error) {
			this.log(`could not write ${bulkSize(ref.tokens, ref.textBytes)} bytes of an answer into ${slotFileName(slot)} (${describeError(error)}); sending it inline`);
			return undefined;
		}
	}

	/** Unmaps and closes every slot (the host is ending, or a test is done with it). */
	dispose(): void {
		for (const slot of this.slots.values()) this.unmap(slot);
		for (const slot of this.slots.values()) closeSync(slot.fd);
		this.slots.clear();
	}

	/** The slot's mapping, covering at least `end` bytes; throws BulkReadError when the file is shorter. */
	private mapped(n: number, end: number, field: string): ArrayBuffer {
		const slot = this.slot(n, field);
		if (slot.bytes !== undefined && end <= slot.length) return slot.bytes;
		const size = fstatSync(slot.fd).size;
		if (end > size) {
			throw new BulkReadError(`${field}: the stream ends at byte ${end} of ${slotFileName(n)}, which has only ${size} bytes`);
		}
		// The whole file, so a request's other stream in the same slot is covered by the same mapping.
		this.unmap(slot);
		const libc = getLibc();
		const address = libc.mmap(size, LibcConstants.PROT_READ, LibcConstants.MAP_SHARED, slot.fd);
		if (BigInt(address) === MAP_FAILED) throw new BulkReadError(`${field}: cannot map ${slotFileName(n)}: ${libc.lastError()}`);
		slot.address = address;
		slot.length = size;
		slot.bytes = koffi.view(address, size);
		return slot.bytes;
	}

	private slot(n: number, what: string): Slot {
		let slot = this.slots.get(n);
		if (slot !== undefined) return slot;
		const path = join(this.dir, slotFileName(n));
		let fd: number;
		try {
			fd = openSync(path, 'r+');
		} catch (error) {
			throw new BulkReadError(`${what}: cannot open the slot file ${path} (${describeError(error)})`);
		}
		slot = { fd, address: 0, length: 0, bytes: undefined };
		this.slots.set(n, slot);
		return slot;
	}

	private unmap(slot: Slot): void {
		if (slot.bytes === undefined) return;
		getLibc().munmap(slot.address, slot.length);
		slot.bytes = undefined;
		slot.length = 0;
	}
}

/** A stream over mapped bytes, its text decoded on first use. */
function mappedStream(records: Uint32Array, utf8: Uint8Array): MappedTokenStream {
	let text: string | undefined;
	return {
		records,
		utf8,
		get text(): string {
			text ??= Buffer.from(utf8.buffer, utf8.byteOffset, utf8.byteLength).toString('utf8');
			return text;
		},
	};
}

/** Writes every part, back to back from byte 0; writev may write less than asked, so it goes on until done or an error. */
function writeAll(fd: number, parts: Uint8Array[]): void {
	let position = 0;
	for (const part of parts) {
		for (let done = 0; done < part.byteLength; ) {
			const n = writevSync(fd, [part.subarray(done)], position);
			done += n;
			position += n;
		}
	}
}

function describeError(error: unknown): string {
	return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}
