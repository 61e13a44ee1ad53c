/**
 * The expansion cache: a local store (local-store.ts), and optionally a remote one (remote-store.ts)
 * behind it. A lookup tries the local store, then the remote; a remote hit is written locally. A
 * result is stored only when it is worth keeping: a failed call (a bail, a crash, a timeout, any
 * diagnostic the host made) never is.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { ExpandResult } from '../../protocol/expand.js';
import { invalidOption, rejectUnknownKeys, validateInteger, validateNonEmptyString, validateObject } from '../option-validation.js';
import { decodeEntry, encodeEntry } from './entry-codec.js';
import { CACHE_FORMAT_VERSION } from './call-key.js';
import { LocalExpansionStore, parseLibraryRecord, type LibraryRecord } from './local-store.js';
import { RemoteExpansionStore } from './remote-store.js';

/** The environment variable that names a remote cache when no option does. */
export const REMOTE_CACHE_ENV = 'MACRO_HOST_REMOTE_CACHE';

/** The folder of the expansion cache inside the build cache directory, by default. */
export const EXPANSIONS_DIR = 'expansions';

/** A remote cache, as the `remote` option gives it. */
export interface RemoteCacheOptions {
	/** Base URL of a Bazel-layout HTTP cache (`<url>/ac/…`, `<url>/cas/…`). */
	readonly url: string;
	/** Upload what this client computes; false for read-only clients. @default true */
	readonly upload?: boolean;
	/** Time limit of one request, in milliseconds. @default 2000 */
	readonly timeoutMs?: number;
}

/** The `expansionCache` option (false turns the cache off). */
export interface ExpansionCacheOptions {
	/**
	 * The local cache directory.
	 * @default `<build cache directory>/expansions` (`~/.cache/macro-host/expansions`)
	 */
	readonly dir?: string;
	/**
	 * A remote cache: a URL, or a URL with settings.
	 * @default the MACRO_HOST_REMOTE_CACHE environment variable; none when unset
	 */
	readonly remote?: string | RemoteCacheOptions;
}

/** What a cache did in one session. */
export interface ExpansionCacheStats {
	/** Calls answered by the local store. */
	hits: number;
	/** Calls answered by the remote store (and written locally). */
	remoteHits: number;
	/** Cacheable calls that had to be expanded. */
	misses: number;
	/** Results written. */
	stored: number;
	/** Whole files answered at once (their calls are counted in hits or remoteHits too). */
	fileHits: number;
}

/** Where the defaults of {@link ExpansionCache.open} come from. */
export interface ExpansionCacheContext {
	/** The build cache directory: the local store is its `expansions/` unless `dir` is given. */
	readonly buildCacheDir: string;
	/** Receives warnings (remote unavailable, a corrupted entry). */
	readonly onWarning: (message: string) => void;
	/** @default process.env */
	readonly env?: NodeJS.ProcessEnv;
}

/** The expansion cache of one session; see the module comment. */
export class ExpansionCache {
	readonly stats: ExpansionCacheStats = { hits: 0, remoteHits: 0, misses: 0, stored: 0, fileHits: 0 };

	private constructor(
		readonly local: LocalExpansionStore,
		readonly remote: RemoteExpansionStore | undefined,
		private readonly onWarning: (message: string) => void,
	) {}

	/** Opens the cache `options` describe (undefined: the defaults); undefined when they are `false`. Throws a TypeError for a bad option. */
	static open(options: false | ExpansionCacheOptions | undefined, context: ExpansionCacheContext): ExpansionCache | undefined {
		if (options === false) return undefined;
		const { dir, remote } = validateCacheOptions(options ?? {});
		const remoteOptions = typeof remote === 'string' ? { url: remote } : (remote ?? envRemote(context.env ?? process.env));
		const local = new LocalExpansionStore(dir ?? join(context.buildCacheDir, EXPANSIONS_DIR));
		const store = remoteOptions === undefined ? undefined : new RemoteExpansionStore({ ...remoteOptions, onWarning: context.onWarning });
		return new ExpansionCache(local, store, context.onWarning);
	}

	/** The result stored for `key`, its spans moved to a call starting at `base`; undefined on a miss. */
	async lookup(key: string, base: number): Promise<ExpandResult | undefined> {
		const found = await this.#find(key, 'entry', (bytes) => decodeEntry(bytes, base));
		if (found === undefined) this.stats.misses++;
		else if (found.remote) this.stats.remoteHits++;
		else this.stats.hits++;
		return found?.value;
	}

	/**
	 * A whole file's expansion stored under `key` (see file-expansions.ts), read with `decode`; undefined on a miss.
	 * A hit counts each of the file's calls as hit, and the file in `fileHits`.
	 */
	async lookupFile<T extends { readonly expansions: number }>(key: string, decode: (bytes: Uint8Array) => T): Promise<T | undefined> {
		const found = await this.#find(key, 'file entry', decode);
		if (found === undefined) return undefined;
		if (found.remote) this.stats.remoteHits += found.value.expansions;
		else this.stats.hits += found.value.expansions;
		this.stats.fileHits++;
		return found.value;
	}

	/** Stores a whole file's expansion (its caller checked that every call in it was cacheable). */
	async storeFile(key: string, bytes: Uint8Array): Promise<void> {
		await this.#write(key, bytes);
	}

	/**
	 * Local first, then remote; a remote value is kept locally. A value `decode` refuses is a warning: a local one is
	 * removed and the remote asked, a remote one is a miss.
	 */
	async #find<T>(key: string, what: string, decode: (bytes: Uint8Array) => T): Promise<{ value: T; remote: boolean } | undefined> {
		const local = await this.local.read(key);
		if (local !== undefined) {
			try {
				return { value: decode(local), remote: false };
			} catch (error) {
				// A corrupted local entry (a disk error, a foreign file) is removed and computed again.
				this.onWarning(`the expansion cache ${what} ${this.local.entryPath(key)} is corrupted (${(error as Error).message}); it is removed and computed again`);
				await this.local.remove(key);
			}
		}
		const remote = await this.remote?.read(key);
		if (remote === undefined) return undefined;
		try {
			const value = decode(remote);
			await this.local.write(key, remote).catch(() => undefined);
			return { value, remote: true };
		} catch (error) {
			this.onWarning(`the remote cache ${what} ${this.remote!.url}/ac/${key} is not valid (${(error as Error).message}); it is computed here`);
			return undefined;
		}
	}

	/** Stores a result when it is cacheable ({@link isCacheableResult}); a local write failure is a warning, never an error. */
	async store(key: string, base: number, result: ExpandResult): Promise<void> {
		if (!isCacheableResult(result)) return;
		const bytes = encodeEntry(result, base);
		if (bytes === undefined) return;
		if (await this.#write(key, bytes)) this.stats.stored++;
	}

	/** Writes locally (a failure is a warning) and uploads; true when the local write worked. */
	async #write(key: string, bytes: Uint8Array): Promise<boolean> {
		let written = true;
		try {
			await this.local.write(key, bytes);
		} catch (error) {
			written = false;
			this.onWarning(`cannot write the expansion cache entry ${this.local.entryPath(key)}: ${(error as Error).message}`);
		}
		this.remote?.write(key, bytes);
		return written;
	}

	/**
	 * The record of a library file: local first, then remote (under the key {@link libraryRecordKey}),
	 * a remote one written locally. Undefined when neither has it.
	 */
	async readLibrary(fileHash: string): Promise<LibraryRecord | undefined> {
		const local = await this.local.readLibrary(fileHash);
		if (local !== undefined || this.remote === undefined) return local;
		const bytes = await this.remote.read(libraryRecordKey(fileHash));
		const record = bytes === undefined ? undefined : parseLibraryRecord(bytes);
		if (record !== undefined) await this.local.writeLibrary(fileHash, record).catch(() => undefined);
		return record;
	}

	/** Writes the record of a library file locally (a failure only costs a host start next time) and uploads it. */
	async writeLibrary(fileHash: string, record: LibraryRecord): Promise<void> {
		await this.local.writeLibrary(fileHash, record).catch(() => undefined);
		this.remote?.write(libraryRecordKey(fileHash), Buffer.from(JSON.stringify(record)));
	}

	/** Waits for the remote uploads still running. */
	async flush(): Promise<void> {
		await this.remote?.flush();
	}

	/** Waits for the uploads and closes the remote's connections (the cache still serves local hits). */
	async close(): Promise<void> {
		await this.remote?.close();
	}
}

/** The remote key of a library record: a hash apart from every call key. */
export function libraryRecordKey(fileHash: string): string {
	return createHash('sha256').update(`macro-host library record v${CACHE_FORMAT_VERSION}\0${fileHash}`).digest('hex');
}

/** False for a result that must not be cached: a bail (a macro's error, a crash, a timeout…) or one carrying a diagnostic the host made. */
export function isCacheableResult(result: ExpandResult): boolean {
	return result.outcome !== 'bail' && result.diagnostics.every((d) => d.code === undefined);
}

function envRemote(env: NodeJS.ProcessEnv): RemoteCacheOptions | undefined {
	const url = env[REMOTE_CACHE_ENV];
	return url === undefined || url === '' ? undefined : { url };
}

function validateCacheOptions(options: ExpansionCacheOptions): ExpansionCacheOptions {
	if (options === null || typeof options !== 'object' || Array.isArray(options)) invalidOption('expansionCache', 'false or an object', options);
	rejectUnknownKeys('expansionCache', options, ['dir', 'remote']);
	if (options.dir !== undefined) validateNonEmptyString('expansionCache.dir', options.dir);
	const remote = options.remote;
	if (remote === undefined || typeof remote === 'string') return options;
	validateObject('expansionCache.remote', remote);
	rejectUnknownKeys('expansionCache.remote', remote, ['url', 'upload', 'timeoutMs']);
	validateNonEmptyString('expansionCache.remote.url', remote.url);
	if (remote.upload !== undefined && typeof remote.upload !== 'boolean') invalidOption('expansionCache.remote.upload', 'a boolean', remote.upload);
	if (remote.timeoutMs !== undefined) validateInteger('expansionCache.remote.timeoutMs', remote.timeoutMs, 1, 'milliseconds');
	return options;
}
