/**
 * The local expansion cache: one file per entry under `<dir>/entries/<first two hex digits>/<key>`,
 * and one file per library under `<dir>/libraries/<file hash>.json` (what loading it said: its
 * macros, whether it has a post-process step or a fingerprint), so that a build whose calls all hit
 * needs no host even to learn which macros a library provides.
 *
 * Concurrent builds share the directory: every file is written beside its name and renamed onto it
 * (client/packages/atomic-file.ts), so a reader sees no file or a whole one, and two writers of one
 * key write the same bytes. A hit refreshes the file's mtime (at most once an hour), which is what
 * `macro-host cache prune` orders entries by.
 */
import { closeSync, fstatSync, futimesSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LibraryInfo } from '../../protocol/library.js';
import { tempName } from '../packages/atomic-file.js';

/** The folder of entries inside an expansion cache directory. */
export const ENTRIES_DIR = 'entries';
/** The folder of library records inside an expansion cache directory. */
export const LIBRARIES_DIR = 'libraries';

// A hit stamps its entry only when the stamp is older than this: one write per entry per hour at most.
const STAMP_INTERVAL_MS = 60 * 60 * 1000;

/** What a library record keeps: the LibraryInfo a host gave, less its id (a path) and its fingerprint (asked on every load). */
export type LibraryRecord = Omit<LibraryInfo, 'library' | 'fingerprint'> & {
	/** True when the library declares a fingerprint: a host must then be asked for its current value. */
	hasFingerprint: boolean;
};

/** The local store; see the module comment. */
export class LocalExpansionStore {
	constructor(readonly dir: string) {}

	/** Path of an entry. */
	entryPath(key: string): string {
		return join(this.dir, ENTRIES_DIR, key.slice(0, 2), key);
	}

	/** The bytes of an entry, or undefined when there is none (or it cannot be read). */
	async read(key: string): Promise<Buffer | undefined> {
		return readWhole(this.entryPath(key), true);
	}

	/** Writes an entry atomically. */
	async write(key: string, bytes: Uint8Array): Promise<void> {
		await writeAtomically(this.entryPath(key), bytes);
	}

	/** Removes an entry (one found corrupted). */
	async remove(key: string): Promise<void> {
		await rm(this.entryPath(key), { force: true });
	}

	/** The record of a library file, or undefined. */
	async readLibrary(fileHash: string): Promise<LibraryRecord | undefined> {
		const bytes = readWhole(this.libraryPath(fileHash), false);
		return bytes === undefined ? undefined : parseLibraryRecord(bytes);
	}

	/** Writes the record of a library file. */
	async writeLibrary(fileHash: string, record: LibraryRecord): Promise<void> {
		const path = this.libraryPath(fileHash);
		await writeAtomically(path, Buffer.from(JSON.stringify(record)));
	}

	private libraryPath(fileHash: string): string {
		return join(this.dir, LIBRARIES_DIR, `${fileHash}.json`);
	}
}

/**
 * A whole file, or undefined when it is missing or cannot be read; `stamp` refreshes an old mtime (a use).
 * Synchronous on purpose: an entry is a few hundred bytes, and four promise-based file operations per hit
 * cost more than the read itself (a build of 10,000 hits spent most of its time waiting for the thread pool).
 */
function readWhole(path: string, stamp: boolean): Buffer | undefined {
	let fd: number;
	try {
		fd = openSync(path, 'r');
	} catch {
		return undefined;
	}
	try {
		const bytes = readFileSync(fd);
		if (stamp && Date.now() - fstatSync(fd).mtimeMs > STAMP_INTERVAL_MS) {
			const now = new Date();
			try {
				futimesSync(fd, now, now);
			} catch {
				// A read-only cache still serves hits.
			}
		}
		return bytes;
	} catch {
		return undefined;
	} finally {
		closeSync(fd);
	}
}

// Directories made by this process: a build writes thousands of entries into 256 shard directories.
const madeDirs = new Set<string>();

/** Writes a file beside its name and renames it on (synchronous for the reason {@link readWhole} gives). */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
	const dir = dirname(path);
	if (!madeDirs.has(dir)) {
		mkdirSync(dir, { recursive: true });
		madeDirs.add(dir);
	}
	const temp = tempName(path);
	try {
		writeFileSync(temp, bytes);
		renameSync(temp, path);
	} catch (error) {
		rmSync(temp, { force: true });
		// The directory may have been pruned meanwhile: made again on the next write.
		madeDirs.delete(dir);
		throw error;
	}
}

/** A library record from its bytes; undefined when they are not one. */
export function parseLibraryRecord(bytes: Uint8Array): LibraryRecord | undefined {
	try {
		const record = JSON.parse(Buffer.from(bytes).toString('utf8')) as LibraryRecord;
		return Array.isArray(record?.macros) && typeof record.hasFingerprint === 'boolean' && typeof record.abi === 'string' ? record : undefined;
	} catch {
		return undefined;
	}
}
