/**
 * The host's side of bulk streams (protocol/bulk.ts): reads a request's large streams from the
 * client's slot files in place, and writes a large answer back into the request's slot (or, for a
 * request that came inline, into an answer file of its own).
 *
 * Each slot file is mapped once (protocol/node/mapped-file.ts, which also says why stores into it
 * cannot fault) and views of the mapping are what streams hold: a stream's records go to the library
 * at the address they lie at, with no copy, and an answer is copied once, from library memory into
 * the slot. A mapping is only replaced when a later request needs bytes past its end; requests are
 * served one at a time and nothing keeps a view past its request (the wasm worker gets copies), so no
 * view outlives its mapping.
 */
import { isUtf8 } from 'node:buffer';
import { closeSync, openSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { BATCH_PROGRESS_BYTES, BATCH_PROGRESS_FILE } from '../protocol/batch.js';
import { ANSWER_SLOT_BASE, bulkSize, slotFileName, type BulkOffer, type BulkRef, type BulkTokenStream } from '../protocol/bulk.js';
import { MappedFile, MappedFileError, mappingUnsupported } from '../protocol/node/mapped-file.js';
import { RECORD_WIDTH } from '../protocol/token-stream.js';
import type { Expansion, MappedTokenStream, TokenSink } from './library-model.js';

/** An expansion whose tokens travel through a slot. */
export type WireExpansion = Omit<Expansion, 'tokens' | 'written'> & { tokens: BulkTokenStream };

/** A bulk stream that cannot be read; dispatch answers it with InvalidParams. */
export class BulkReadError extends Error {
	override readonly name = 'BulkReadError';
}

/** The slot files of one session. */
export class BulkSlots {
	private readonly slots = new Map<number, MappedFile>();
	// Answer files made so far; each gets the next number from ANSWER_SLOT_BASE.
	private answers = 0;
	// The batch progress word (protocol/batch.ts): undefined until first asked for, null when there is none.
	private progress: { file: MappedFile; word: Uint32Array } | null | undefined;

	private constructor(
		readonly dir: string,
		readonly minBytes: number,
		private readonly log: (line: string) => void,
	) {}

	/** The slots of the directory the client offered, or why the host cannot use it. */
	static open(offer: BulkOffer, log: (line: string) => void): BulkSlots | string {
		const unsupported = mappingUnsupported();
		if (unsupported !== undefined) return unsupported;
		if (!isAbsolute(offer.dir)) return `${JSON.stringify(offer.dir)} is not an absolute path`;
		try {
			if (!statSync(offer.dir).isDirectory()) return `${offer.dir} is not a directory`;
		} catch (error) {
			return `${offer.dir} cannot be read (${describeError(error)})`;
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
		let bytes: ArrayBuffer;
		try {
			bytes = this.slot(ref.slot, field).forReading(end);
		} catch (error) {
			if (error instanceof MappedFileError) throw new BulkReadError(`${field}: ${error.message}`);
			throw error;
		}
		const recordsEnd = ref.offset + ref.tokens * RECORD_WIDTH * 4;
		const utf8 = new Uint8Array(bytes, recordsEnd, ref.textBytes);
		if (!isUtf8(utf8)) throw new BulkReadError(`${field}: the text in ${slotFileName(ref.slot)} (bytes ${recordsEnd}..${end}) is not valid UTF-8`);
		return mappedStream(new Uint32Array(bytes, ref.offset, ref.tokens * RECORD_WIDTH), utf8);
	}

	/**
	 * The sink of one request: it writes a large output from library memory into `slot`, or into a new
	 * answer file when the request came without one (see Expander's TokenSink).
	 */
	sink(slot: number | undefined): RequestSink {
		return new RequestSink(this.minBytes, (records, text) => this.write(slot, records, text));
	}

	/**
	 * The expansion as the wire carries it: tokens a sink wrote become a BulkTokenStream, and tokens
	 * still in memory (a derive's merged output, a wasm macro's) are written into `slot` (a new answer
	 * file when undefined) when they are at least `minBytes` large; anything else, or a failed write,
	 * goes inline.
	 */
	answer(expansion: Expansion, slot: number | undefined, sink?: RequestSink): Expansion | WireExpansion {
		if (expansion.written !== undefined) {
			const { written, ...rest } = expansion;
			return { ...rest, tokens: { bulk: written } };
		}
		const tokens = expansion.tokens;
		// A write the sink already tried and gave up on is not tried again: the tokens go inline.
		if (tokens === undefined || sink?.tried) return expansion;
		const records = tokens.records;
		// Text is at most 3 bytes per UTF-16 unit: a cheap upper bound settles most small answers.
		if (records.byteLength + tokens.text.length * 3 < this.minBytes) return expansion;
		const text = Buffer.from(tokens.text, 'utf8');
		if (records.byteLength + text.length < this.minBytes) return expansion;
		const ref = this.write(slot, records, text);
		return ref === undefined ? expansion : { ...expansion, tokens: { bulk: ref } };
	}

	/**
	 * The progress word of the client's batch progress file (protocol/batch.ts), mapped on first use;
	 * undefined (and a line in the log, once) when there is no such file.
	 */
	batchProgress(): Uint32Array | undefined {
		if (this.progress === undefined) {
			let fd: number | undefined;
			try {
				fd = openSync(join(this.dir, BATCH_PROGRESS_FILE), 'r+');
				const file = new MappedFile(fd, BATCH_PROGRESS_FILE);
				this.progress = { file, word: new Uint32Array(file.forWriting(BATCH_PROGRESS_BYTES), 0, 2) };
			} catch (error) {
				if (fd !== undefined) closeSync(fd);
				this.progress = null;
				this.log(`no batch progress file in ${this.dir} (${describeError(error)}); a crash during a batch cannot name its call`);
			}
		}
		return this.progress?.word;
	}

	/** Closes every slot and the progress file (a new initialize replaced the session's directory). */
	dispose(): void {
		if (this.progress) {
			this.progress.file.unmap();
			closeSync(this.progress.file.fd);
			this.progress = null;
		}
		for (const slot of this.slots.values()) {
			slot.unmap();
			closeSync(slot.fd);
		}
		this.slots.clear();
	}

	/**
	 * Copies records, then text, to the start of `slot`, or of a new answer file when it is undefined;
	 * undefined (and a line in the log) when it cannot.
	 */
	private write(slot: number | undefined, records: Uint32Array, text: Uint8Array): BulkRef | undefined {
		const size = records.byteLength + text.byteLength;
		let file: MappedFile | undefined;
		let n = slot;
		try {
			if (n === undefined) {
				n = ANSWER_SLOT_BASE + this.answers++;
				// A file of its own, made here and deleted by the client once read: nothing else may have it.
				file = new MappedFile(openSync(join(this.dir, slotFileName(n)), 'wx+', 0o600), slotFileName(n));
			}
			const bytes = (file ?? this.slot(n, 'the answer')).forWriting(size);
			new Uint32Array(bytes, 0, records.length).set(records);
			new Uint8Array(bytes, records.byteLength, text.byteLength).set(text);
			return { slot: n, offset: 0, tokens: records.length / RECORD_WIDTH, textBytes: text.byteLength };
		} catch (error) {
			this.log(`could not write an answer of ${size} bytes into ${slotFileName(n!)} (${describeError(error)}); sending it inline`);
			// An answer file that could not be filled is nobody's: the client never hears of it.
			if (file !== undefined) rmSync(join(this.dir, slotFileName(n!)), { force: true });
			return undefined;
		} finally {
			if (file !== undefined) {
				file.unmap();
				closeSync(file.fd);
			}
		}
	}

	private slot(n: number, what: string): MappedFile {
		let slot = this.slots.get(n);
		if (slot !== undefined) return slot;
		const path = join(this.dir, slotFileName(n));
		let fd: number;
		try {
			fd = openSync(path, 'r+');
		} catch (error) {
			throw new BulkReadError(`${what}: cannot open the slot file ${path} (${describeError(error)})`);
		}
		slot = new MappedFile(fd, slotFileName(n));
		this.slots.set(n, slot);
		return slot;
	}
}

/** The TokenSink of one request, which remembers whether it was asked to write. */
export class RequestSink implements TokenSink {
	tried = false;

	constructor(
		readonly minBytes: number,
		private readonly writeTokens: (records: Uint32Array, text: Uint8Array) => BulkRef | undefined,
	) {}

	write(records: Uint32Array, text: Uint8Array): BulkRef | undefined {
		this.tried = true;
		return this.writeTokens(records, text);
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

function describeError(error: unknown): string {
	if (error instanceof MappedFileError) return error.code;
	return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}
