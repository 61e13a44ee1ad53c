/**
 * One build's hosts, started only when a call misses. A session loads the project's libraries: a
 * library the cache has seen (by the hash of its file) and that declares no fingerprint is known
 * without a host, from its library record (local, or from the remote cache); any other starts the pool. Calls go through a
 * {@link CachingCaller}; the first one that misses starts the pool, which then loads every library
 * of the session. So a build whose calls all hit starts no host at all (unless a library has a
 * fingerprint to ask for, or a post-process step to run).
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PostProcessParams, PostProcessResult } from '../../protocol/expand.js';
import type { LibraryInfo } from '../../protocol/library.js';
import type { MacroCaller } from '../../expansion/expansion-engine.js';
import { HostPool } from '../host-pool.js';
import type { LoadLibraryOptions } from '../library-registry.js';
import type { MacroHostOptions } from '../options.js';
import { CachingCaller, type CacheableLibrary, type CallSender } from './caching-caller.js';
import type { ExpansionCache } from './expansion-cache.js';
import { FileExpansions, type KeyedPackage } from './file-expansions.js';
import { hashLibraryFile } from './library-identity.js';

/** Options of an {@link ExpansionSession}. */
export interface ExpansionSessionOptions {
	/** How many hosts the pool runs once started (at least 2 with checkDeterminism). */
	readonly size: number;
	/** Options of every host. */
	readonly host?: MacroHostOptions;
	/** The cache; undefined when it is off. */
	readonly cache: ExpansionCache | undefined;
	/** Expand every call in two hosts and compare. @default false */
	readonly checkDeterminism?: boolean;
}

/** A build's on-demand pool and cache; see the module comment. */
export class ExpansionSession {
	readonly #options: ExpansionSessionOptions;
	readonly #paths: Array<{ path: string; options: LoadLibraryOptions | undefined }> = [];
	readonly #cacheable = new Map<string, CacheableLibrary>();
	#pool: Promise<HostPool> | undefined;
	/** The pool once it has started and loaded the session's libraries. */
	#running: HostPool | undefined;
	/** Every library loaded, by id. */
	readonly libraries = new Map<string, LibraryInfo>();

	constructor(options: ExpansionSessionOptions) {
		this.#options = { ...options, size: options.checkDeterminism ? Math.max(2, options.size) : options.size };
	}

	/** How many hosts the pool runs (or would run). */
	get size(): number {
		return this.#options.size;
	}

	/** How many host processes this session started: 0 when the pool never started. */
	get hostsStarted(): number {
		return this.#pool === undefined ? 0 : this.#options.size;
	}

	/** Loads a library: from its record when the cache knows it and it has no fingerprint, else into the pool. Rejects as HostPool.loadLibrary does. */
	async loadLibrary(path: string, options?: LoadLibraryOptions): Promise<LibraryInfo> {
		const cache = this.#options.cache;
		const id = realpathOrResolved(path);
		const fileHash = cache === undefined ? undefined : await hashLibraryFile(id).catch(() => undefined);
		const record = fileHash === undefined || this.#pool !== undefined ? undefined : await cache!.readLibrary(fileHash);
		let info: LibraryInfo;
		if (record !== undefined && !record.hasFingerprint) {
			const { hasFingerprint: _, ...rest } = record;
			info = { ...rest, library: id };
			this.#paths.push({ path, options });
		} else {
			const pool = await this.#started();
			info = await pool.loadLibrary(path, options);
			this.#paths.push({ path, options });
			if (fileHash !== undefined) {
				const { library: _id, fingerprint, ...rest } = info;
				await cache!.writeLibrary(fileHash, { ...rest, hasFingerprint: fingerprint !== undefined });
			}
		}
		this.libraries.set(info.library, info);
		if (fileHash !== undefined) {
			const identity = { fileHash, abi: info.abi, abiVersion: info.abiVersion, ...(info.fingerprint === undefined ? {} : { fingerprint: info.fingerprint }) };
			this.#cacheable.set(info.library, { identity, cacheable: true });
		}
		return info;
	}

	/** Keeps the calls of a library out of the cache (its package opted out). */
	excludeFromCache(libraryId: string): void {
		const known = this.#cacheable.get(libraryId);
		if (known !== undefined) this.#cacheable.set(libraryId, { ...known, cacheable: false });
	}

	/** A caller for a piece of work (a file): cache first, then a host of the pool. */
	caller(): MacroCaller {
		return new CachingCaller({
			cache: this.#options.cache,
			library: (id) => this.#cacheable.get(id),
			sender: this.#sender,
			checkDeterminism: this.#options.checkDeterminism,
		});
	}

	/**
	 * Whole-file entries for `packages` (file-expansions.ts), keyed with the driver `options` that change an
	 * expansion; undefined when the cache is off, under the determinism check (every call must reach two hosts), or
	 * when a package's library is not known to the cache.
	 */
	fileExpansions(packages: readonly KeyedPackage[], options: Readonly<Record<string, unknown>>): FileExpansions | undefined {
		const cache = this.#options.cache;
		if (cache === undefined || this.#options.checkDeterminism || !packages.every((p) => this.#cacheable.has(p.library))) return undefined;
		return new FileExpansions(cache, packages, this.#cacheable, options);
	}

	/**
	 * Starts the pool now, for a build that will need it whatever happens (the cache is off): its hosts
	 * then boot while the project is resolved and built, instead of after. A failure to start surfaces
	 * at the first use, as it would have.
	 */
	prestart(): void {
		this.#started().catch(() => undefined);
	}

	/**
	 * The running pool, when whole sources may go to its hosts (HostPool.expandSource): the cache is off
	 * (what it keeps is each call's result), calls need not reach two hosts, and every host serves them.
	 */
	sourceExpander(): HostPool | undefined {
		const pool = this.#running;
		if (this.#options.cache !== undefined || this.#options.checkDeterminism || pool === undefined || !pool.expandsSources) return undefined;
		return pool;
	}

	/** Runs a library's post-process step (starting the pool if needed). */
	async postProcess(params: PostProcessParams): Promise<PostProcessResult> {
		return (await this.#started()).postProcess(params);
	}

	/** Waits for the cache's uploads and closes the pool, if it started. */
	async close(): Promise<void> {
		await this.#options.cache?.close();
		const pool = await this.#pool?.catch(() => undefined);
		await pool?.close();
	}

	readonly #sender: CallSender = {
		// Once the pool runs, a call goes to it at once (no promise of ours in between).
		once: (send) => (this.#running !== undefined ? this.#running.withLease(send) : this.#started().then((pool) => pool.withLease(send))),
		twice: async (send) => {
			const pool = await this.#started();
			const lease = pool.lease();
			const other = pool.acquire(pool.hosts.indexOf(lease.host));
			try {
				return await Promise.all([send(lease), send(pool.hostAt(other))]);
			} finally {
				pool.releaseIndex(other);
				lease.release();
			}
		},
	};

	/** The pool, started once with every library of the session loaded. */
	#started(): Promise<HostPool> {
		this.#pool ??= (async () => {
			const pool = await HostPool.start({ size: this.#options.size, host: this.#options.host });
			try {
				for (const { path, options } of this.#paths) await pool.loadLibrary(path, options);
			} catch (error) {
				await pool.close();
				throw error;
			}
			this.#running = pool;
			return pool;
		})();
		return this.#pool;
	}
}

function realpathOrResolved(path: string): string {
	try {
		return realpathSync(resolve(path));
	} catch {
		return resolve(path);
	}
}
