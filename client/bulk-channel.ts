/**
 * The client's side of bulk streams (protocol/bulk.ts): a private directory of slot files for one
 * host, large request streams written into a slot instead of the message, and large answers read
 * back from it.
 *
 * A slot belongs to one request from the moment its streams are written until its response is read,
 * so the host never sees a slot change under it, and a slot is reused afterwards (its pages stay
 * allocated and mapped). Streams are copied into the slot's mapping and answers out of it
 * (protocol/node/mapped-file.ts, loaded with koffi only when a host takes the offer). At most {@link MAX_SLOTS} requests
 * hold one at a time; beyond that, and whenever a write fails (a full /dev/shm, say), a stream goes
 * inline, as it would without bulk streams. Nothing here throws into the transport.
 *
 * The directory is removed when the host is disposed, and on exit; a client killed outright leaves
 * it behind, and the next client on the machine removes directories whose owner is gone.
 */
import { accessSync, closeSync, constants, ftruncateSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from 'vscode-jsonrpc';
import {
	ANSWER_SLOT_BASE,
	alignBulk,
	BULK_RECORD_BYTES,
	checkBulkRef,
	isBulkTokenStream,
	REQUEST_STREAM_FIELDS,
	RESULT_STREAM_FIELD,
	slotFileName,
	type BulkOffer,
	type BulkRef,
	type BulkTokenStream,
} from '../protocol/bulk.js';
import { BATCH_PROGRESS_BYTES, BATCH_PROGRESS_FILE } from '../protocol/batch.js';
import type { Diagnostic, ExpandResult } from '../protocol/expand.js';
import type { MappedFile } from '../protocol/node/mapped-file.js';
import { RECORD_WIDTH, type TokenStream } from '../protocol/token-stream.js';
import { onClientExit } from './exit-cleanup.js';
import { isProcessRunning } from './process-liveness.js';

/** Most requests holding a slot at once: each slot is a file in memory as large as the largest stream sent through it. */
export const MAX_SLOTS = 8;

/** A slot kept after use is cut back to nothing when it grew past this, so one huge call does not pin its memory. */
const KEEP_SLOT_BYTES = 32 * 1024 * 1024;

/** Directory names: `macro-host-<client pid>-<random>`, so a stale one names its owner. */
const DIR_PREFIX = 'macro-host-';

/** Where bulk streams go and from what size. */
export interface BulkSettings {
	/** The directory the per-host directories are made in. */
	root: string;
	/** Streams of at least this many bytes (records plus text) travel through a slot. */
	minBytes: number;
}

/** The default root: /dev/shm (memory) when it is a writable directory, else the system's temporary directory. */
export function defaultBulkRoot(): string {
	try {
		if (statSync('/dev/shm').isDirectory()) {
			accessSync('/dev/shm', constants.W_OK);
			return '/dev/shm';
		}
	} catch {
		// No /dev/shm (macOS), or not ours to write.
	}
	return tmpdir();
}

interface Slot {
	readonly n: number;
	readonly file: MappedFile;
	/** The end of the largest stream written or read, to know when to cut the file back. */
	size: number;
}

type MappedFileModule = typeof import('../protocol/node/mapped-file.js');

/** The slot files of one host. */
export class BulkChannel {
	readonly offer: BulkOffer;
	#enabled = false;
	#disposed = false;
	readonly #free: Slot[] = [];
	readonly #byRequest = new Map<number | string, Slot>();
	#created = 0;
	// koffi and the mapping code, imported in the background from the start, awaited before the offer.
	readonly #module: Promise<MappedFileModule | string>;
	#mapping: MappedFileModule | undefined;
	// Removes the directory if the client exits before this channel is disposed.
	readonly #cancelExitCleanup: () => void;

	private constructor(dir: string, minBytes: number) {
		this.offer = { dir, minBytes };
		this.#cancelExitCleanup = onClientExit(() => removeDir(dir));
		this.#module = import('../protocol/node/mapped-file.js').then(
			(module) => module.mappingUnsupported() ?? module,
			(error: unknown) => `the mapping code failed to load (${describeError(error)})`,
		);
	}

	/** A channel in a new private directory under `settings.root`, or why there can be none. */
	static create(settings: BulkSettings): BulkChannel | string {
		removeStaleDirs(settings.root);
		try {
			const dir = mkdtempSync(join(settings.root, `${DIR_PREFIX}${process.pid}-`));
			// Where the host notes the call of a batch it runs (protocol/batch.ts); zero: no batch yet.
			writeFileSync(join(dir, BATCH_PROGRESS_FILE), Buffer.alloc(BATCH_PROGRESS_BYTES), { mode: 0o600 });
			return new BulkChannel(dir, settings.minBytes);
		} catch (error) {
			return `cannot make a directory in ${settings.root} (${describeError(error)})`;
		}
	}

	/** Resolves once the channel can map slots; a string says why it cannot (then it offers nothing). */
	async ready(): Promise<string | undefined> {
		const module = await this.#module;
		if (typeof module === 'string') return module;
		this.#mapping = module;
		return undefined;
	}

	/**
	 * The batch and the call in it the host noted last (protocol/batch.ts), read after the host died;
	 * undefined when the file cannot be read (the channel is gone, or there never was one).
	 */
	batchProgress(): { id: number; index: number } | undefined {
		try {
			const bytes = readFileSync(join(this.offer.dir, BATCH_PROGRESS_FILE));
			if (bytes.length < BATCH_PROGRESS_BYTES) return undefined;
			// The host stored two u32 in the machine's byte order; a copy is aligned for the view.
			const word = new Uint32Array(Uint8Array.from(bytes.subarray(0, BATCH_PROGRESS_BYTES)).buffer);
			return { id: word[0], index: word[1] };
		} catch {
			return undefined;
		}
	}

	/** Turns sending through slots on, once the host said it can read them (capabilities.bulk). */
	enable(on: boolean): void {
		this.#enabled = on && !this.#disposed && this.#mapping !== undefined;
	}

	/** A request with its large streams written into a slot and replaced by references; any other message as it is. */
	outgoing(message: Message): Message {
		if (!this.#enabled) return message;
		const m = message as { id?: number | string; method?: string; params?: unknown };
		if (m.id === undefined || m.method === undefined || !isObject(m.params)) return message;
		const params = m.params;
		let large: (typeof REQUEST_STREAM_FIELDS)[number][] | undefined;
		for (const field of REQUEST_STREAM_FIELDS) {
			if (this.#isLarge(params[field])) (large ??= []).push(field);
		}
		if (large === undefined) return message;
		const slot = this.#takeSlot();
		if (slot === undefined) return message;
		const copy: Record<string, unknown> = { ...params };
		try {
			const refs = this.#write(slot, large.map((field) => params[field] as TokenStream));
			large.forEach((field, i) => {
				copy[field] = { bulk: refs[i] } satisfies BulkTokenStream;
			});
		} catch {
			// A full or vanished directory: this request goes inline, as without bulk streams.
			this.#release(slot);
			return message;
		}
		this.#byRequest.set(m.id, slot);
		return { ...message, params: copy } as Message;
	}

	/** A response with its tokens read back from the request's slot (which is then free again); any other message as it is. */
	incoming(message: Message): Message {
		const m = message as { id?: number | string | null; method?: string; result?: unknown };
		if (m.method !== undefined || m.id === undefined || m.id === null) return message;
		const slot = this.#byRequest.get(m.id);
		if (slot === undefined) return this.#enabled ? this.#fromAnswerFile(message) : message;
		this.#byRequest.delete(m.id);
		try {
			const tokens = isObject(m.result) ? m.result[RESULT_STREAM_FIELD] : undefined;
			if (!isBulkTokenStream(tokens)) return message;
			return withTokens(message, this.#read(slot, tokens));
		} finally {
			this.#release(slot);
		}
	}

	/** A response to a request that went inline, with large tokens read from the answer file the host made (then deleted). */
	#fromAnswerFile(message: Message): Message {
		const result = (message as { result?: unknown }).result;
		const tokens = isObject(result) ? result[RESULT_STREAM_FIELD] : undefined;
		if (!isBulkTokenStream(tokens)) return message;
		const n = (tokens.bulk as { slot?: unknown } | null)?.slot;
		let stream: TokenStream | string;
		if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < ANSWER_SLOT_BASE) {
			stream = `result.tokens.bulk.slot is ${JSON.stringify(n)}, but the request was sent inline, so the answer must be in an answer file (slot ${ANSWER_SLOT_BASE} or above)`;
		} else {
			const path = join(this.offer.dir, slotFileName(n));
			let fd: number | undefined;
			try {
				fd = openSync(path, 'r+');
				const answer: Slot = { n, file: new this.#mapping!.MappedFile(fd, slotFileName(n)), size: 0 };
				stream = this.#read(answer, tokens);
				answer.file.unmap();
			} catch (error) {
				stream = `result.tokens could not be read from ${path} (${describeError(error)})`;
			} finally {
				if (fd !== undefined) closeSync(fd);
				removeFile(path);
			}
		}
		return withTokens(message, stream);
	}

	/** Forgets every request (the host is gone: they are re-sent to the next one), closes the files and removes the directory. */
	dispose(): void {
		if (this.#disposed) return;
		this.#disposed = true;
		this.#enabled = false;
		for (const slot of [...this.#free, ...this.#byRequest.values()]) {
			try {
				slot.file.unmap();
				closeSync(slot.file.fd);
			} catch {
				// Already closed.
			}
		}
		this.#free.length = 0;
		this.#byRequest.clear();
		removeDir(this.offer.dir);
		this.#cancelExitCleanup();
	}

	/**
	 * True for a well-formed token stream of at least minBytes (the exact UTF-8 length is only counted
	 * near the line). A malformed one stays inline, where the host's checks name what is wrong with it:
	 * copied into a slot, a number that is not a u32 would silently wrap.
	 */
	#isLarge(value: unknown): boolean {
		if (!isObject(value) || typeof value.text !== 'string') return false;
		const records = value.records;
		if (!(records instanceof Uint32Array) && !Array.isArray(records)) return false;
		if (records.length % RECORD_WIDTH !== 0) return false;
		const recordBytes = records.length * 4;
		const min = this.offer.minBytes;
		if (recordBytes + value.text.length * 3 < min) return false;
		if (recordBytes + value.text.length < min && recordBytes + Buffer.byteLength(value.text, 'utf8') < min) return false;
		return records instanceof Uint32Array || allU32(records);
	}

	#takeSlot(): Slot | undefined {
		const free = this.#free.pop();
		if (free !== undefined) return free;
		if (this.#created >= MAX_SLOTS) return undefined;
		const n = this.#created;
		try {
			const fd = openSync(join(this.offer.dir, slotFileName(n)), 'w+', 0o600);
			this.#created++;
			return { n, file: new this.#mapping!.MappedFile(fd, slotFileName(n)), size: 0 };
		} catch {
			return undefined;
		}
	}

	#release(slot: Slot): void {
		if (this.#disposed) return;
		if (slot.size > KEEP_SLOT_BYTES) {
			try {
				// Unmapped first: no view may reach past the new end. The host re-checks the size before each use.
				slot.file.unmap();
				ftruncateSync(slot.file.fd, 0);
				slot.size = 0;
			} catch {
				// Keeping the pages is only a waste.
			}
		}
		this.#free.push(slot);
	}

	/**
	 * Copies streams into the slot, back to back from its start (each at a multiple of 8): records as
	 * u32s, then text as UTF-8. Throws when the slot cannot be grown (the caller sends them inline).
	 */
	#write(slot: Slot, streams: readonly TokenStream[]): BulkRef[] {
		const layout: BulkRef[] = [];
		let end = 0;
		for (const stream of streams) {
			const offset = alignBulk(end);
			const ref = { slot: slot.n, offset, tokens: stream.records.length / RECORD_WIDTH, textBytes: Buffer.byteLength(stream.text, 'utf8') };
			layout.push(ref);
			end = offset + ref.tokens * BULK_RECORD_BYTES + ref.textBytes;
		}
		const bytes = slot.file.forWriting(end);
		const view = Buffer.from(bytes);
		streams.forEach((stream, i) => {
			const { offset, tokens, textBytes } = layout[i];
			// A number array (a JSON client's records) converts in the same copy.
			new Uint32Array(bytes, offset, tokens * RECORD_WIDTH).set(stream.records);
			view.write(stream.text, offset + tokens * BULK_RECORD_BYTES, textBytes, 'utf8');
		});
		if (end > slot.size) slot.size = end;
		return layout;
	}

	/** Copies an answer's tokens out of the slot; a string says why they could not be read. */
	#read(slot: Slot, stream: BulkTokenStream): TokenStream | string {
		const problem = checkBulkRef(stream, 'result.tokens');
		if (problem !== undefined) return problem;
		const ref = stream.bulk;
		if (ref.slot !== slot.n) return `result.tokens.bulk.slot is ${ref.slot}, but the request was sent in slot ${slot.n}`;
		const recordBytes = ref.tokens * BULK_RECORD_BYTES;
		const end = ref.offset + recordBytes + ref.textBytes;
		try {
			const bytes = slot.file.forReading(end);
			// allocUnsafeSlow: overwritten at once, so not zeroed first, and the array's own buffer (it outlives the slot).
			const records = Buffer.allocUnsafeSlow(recordBytes);
			records.set(new Uint8Array(bytes, ref.offset, recordBytes));
			const text = Buffer.from(bytes).toString('utf8', ref.offset + recordBytes, end);
			if (end > slot.size) slot.size = end;
			return { text, records: new Uint32Array(records.buffer, records.byteOffset, ref.tokens * RECORD_WIDTH) };
		} catch (error) {
			return `result.tokens could not be read from ${join(this.offer.dir, slotFileName(slot.n))} (${error instanceof Error ? error.message : String(error)})`;
		}
	}
}

/**
 * The result of a response whose large tokens could not be read back. The transport only reports
 * it; the supervisor answers the call with a bail that says why (client/messages.ts).
 */
export class UnreadableAnswer {
	constructor(
		/** Why the tokens could not be read. */
		readonly problem: string,
		/** The diagnostics the macro gave with its answer. */
		readonly diagnostics: readonly Diagnostic[],
	) {}
}

/** The response with the tokens read back in place of their reference, or an {@link UnreadableAnswer} when `stream` says why they could not be. */
function withTokens(message: Message, stream: TokenStream | string): Message {
	const result = (message as unknown as { result: ExpandResult }).result;
	if (typeof stream !== 'string') return { ...message, result: { ...result, tokens: stream } } as Message;
	return { ...message, result: new UnreadableAnswer(stream, result.diagnostics ?? []) } as unknown as Message;
}

function removeFile(path: string): void {
	try {
		rmSync(path, { force: true });
	} catch {
		// The directory goes with the host anyway.
	}
}

function removeDir(dir: string): void {
	try {
		rmSync(dir, { recursive: true, force: true });
	} catch {
		// Best effort: the next client removes it as stale.
	}
}

/** A per-host directory's name (mkdtemp adds six characters), with its client's pid. */
const STALE_DIR_NAME = new RegExp(`^${DIR_PREFIX}(\\d+)-[A-Za-z0-9]{6}$`);
const sweptRoots = new Set<string>();
/** Removes, once per root and process, the directories of clients that are gone (killed before they could). */
function removeStaleDirs(root: string): void {
	if (sweptRoots.has(root)) return;
	sweptRoots.add(root);
	let names: string[];
	try {
		names = readdirSync(root);
	} catch {
		return;
	}
	for (const name of names) {
		const match = STALE_DIR_NAME.exec(name);
		if (match !== null && !isProcessRunning(Number(match[1]))) removeDir(join(root, name));
	}
}

function allU32(numbers: readonly unknown[]): boolean {
	for (let i = 0; i < numbers.length; i++) {
		const n = numbers[i];
		if (typeof n !== 'number' || n >>> 0 !== n) return false;
	}
	return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
	return value !== null && typeof value === 'object' && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

function describeError(error: unknown): string {
	return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}
