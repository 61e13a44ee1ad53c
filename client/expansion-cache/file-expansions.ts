/**
 * Whole files from the expansion cache. A build with nothing changed would otherwise read one entry per macro call
 * (10,000 file reads, or 10,000 remote requests, for a project of 10,000 calls); a file whose text, project macros
 * and driver options are as they were is answered with one entry instead: its expanded text, its diagnostics (spans
 * are offsets into that same text) and its aux data.
 *
 * The soundness rule is the per-call one, applied to every call of the file: a file is stored only when each of its
 * calls went to a library whose calls may be cached and came back with a cacheable result (no bail, no crash, no
 * diagnostic the host made). A file with any other call goes through the per-call cache again next time, so its
 * failing call is expanded again and its cacheable ones still hit.
 *
 * The key is a sha256 over the file's text, the driver options that change an expansion, and every macro package of
 * the project as the registry sees it: its name and version, its library's identity (the file's hash, ABI and
 * fingerprint) and its macros. Aux data names its library by the library file's hash, so a value written on one
 * machine reads on another, where the same library has another path.
 */
import { createHash } from 'node:crypto';
import type { ExpandAttributeParams, ExpandDeriveParams, ExpandInlineParams, ExpandResult } from '../../protocol/expand.js';
import type { MacroInfo } from '../../protocol/library.js';
import type { DriverDiagnostic } from '../../expansion/diagnostics.js';
import type { AuxEntry, MacroCaller, SourceExpansion } from '../../expansion/expansion-engine.js';
import type { CacheableLibrary } from './caching-caller.js';
import { CACHE_FORMAT_VERSION } from './call-key.js';
import { isCacheableResult, type ExpansionCache } from './expansion-cache.js';

/** A macro package as the file key sees it. */
export interface KeyedPackage {
	readonly name: string;
	readonly version: string;
	/** The library id of this session. */
	readonly library: string;
	readonly macros: readonly MacroInfo[];
}

/** What a file entry holds. */
interface StoredFile {
	v: number;
	kind: 'file';
	text: string;
	expansions: number;
	diagnostics: DriverDiagnostic[];
	/** Aux data in call order, each with the hash of its library's file. */
	aux: { libraryHash: string; value: unknown }[];
}

/** Whole-file entries for one build; made by ExpansionSession.fileExpansions. */
export class FileExpansions {
	readonly #projectKey: string;

	/**
	 * @param libraries the cache's view of each library of the session, by id
	 * @param options the driver options that change what a file expands to (the recursion limit, …)
	 */
	constructor(
		private readonly cache: ExpansionCache,
		packages: readonly KeyedPackage[],
		private readonly libraries: ReadonlyMap<string, CacheableLibrary>,
		options: Readonly<Record<string, unknown>>,
	) {
		const keyed = packages.map((p) => {
			const library = libraries.get(p.library)!;
			return { name: p.name, version: p.version, identity: library.identity, cacheable: library.cacheable, macros: p.macros };
		});
		this.#projectKey = JSON.stringify({ v: CACHE_FORMAT_VERSION, kind: 'file', options, packages: keyed });
	}

	/**
	 * The expansion of `text`: the stored one when there is one, else `run`'s over a caller that watches every call,
	 * stored when every call was cacheable.
	 */
	async expand(text: string, caller: MacroCaller, run: (caller: MacroCaller) => Promise<SourceExpansion>): Promise<SourceExpansion> {
		const key = createHash('sha256').update(this.#projectKey).update('\0').update(text).digest('hex');
		const stored = await this.cache.lookupFile(key, (bytes) => this.#decode(bytes));
		if (stored !== undefined) return stored;
		const watched = new WatchingCaller(caller, this.libraries);
		const expansion = await run(watched);
		if (watched.allCacheable) {
			const bytes = this.#encode(expansion);
			if (bytes !== undefined) await this.cache.storeFile(key, bytes);
		}
		return expansion;
	}

	#encode(expansion: SourceExpansion): Uint8Array | undefined {
		const aux: StoredFile['aux'] = [];
		for (const entry of expansion.aux) {
			const library = this.libraries.get(entry.library);
			if (library === undefined) return undefined;
			aux.push({ libraryHash: library.identity.fileHash, value: entry.value });
		}
		const stored: StoredFile = { v: CACHE_FORMAT_VERSION, kind: 'file', text: expansion.text, expansions: expansion.expansions, diagnostics: expansion.diagnostics, aux };
		return Buffer.from(JSON.stringify(stored), 'utf8');
	}

	/** Throws an Error naming what is wrong when the bytes are not a file entry of this format. */
	#decode(bytes: Uint8Array): SourceExpansion {
		let stored: StoredFile;
		try {
			stored = JSON.parse(Buffer.from(bytes).toString('utf8')) as StoredFile;
		} catch (error) {
			throw new Error(`the entry is not JSON (${(error as Error).message})`);
		}
		if (stored === null || typeof stored !== 'object' || stored.v !== CACHE_FORMAT_VERSION || stored.kind !== 'file') {
			throw new Error(`the entry is not a file entry of cache format ${CACHE_FORMAT_VERSION}`);
		}
		if (typeof stored.text !== 'string' || !Number.isInteger(stored.expansions) || !Array.isArray(stored.diagnostics) || !Array.isArray(stored.aux)) {
			throw new Error('the file entry is missing its text, expansions, diagnostics or aux data');
		}
		const aux: AuxEntry[] = stored.aux.map((entry) => {
			const library = this.#libraryWithHash(entry?.libraryHash);
			if (library === undefined) throw new Error(`its aux data names a library (file hash ${String(entry?.libraryHash)}) this build did not load`);
			return { library, value: entry.value };
		});
		return { text: stored.text, expansions: stored.expansions, diagnostics: stored.diagnostics, aux };
	}

	#libraryWithHash(fileHash: unknown): string | undefined {
		for (const [id, library] of this.libraries) if (library.identity.fileHash === fileHash) return id;
		return undefined;
	}
}

/** A caller that passes every call on and notes whether each one could be cached. */
class WatchingCaller implements MacroCaller {
	allCacheable = true;

	constructor(
		private readonly caller: MacroCaller,
		private readonly libraries: ReadonlyMap<string, CacheableLibrary>,
	) {}

	expandInline(params: ExpandInlineParams): Promise<ExpandResult> {
		return this.#watch(params.library, this.caller.expandInline(params));
	}

	expandAttribute(params: ExpandAttributeParams): Promise<ExpandResult> {
		return this.#watch(params.library, this.caller.expandAttribute(params));
	}

	expandDerive(params: ExpandDeriveParams): Promise<ExpandResult> {
		return this.#watch(params.library, this.caller.expandDerive(params));
	}

	async #watch(libraryId: string | undefined, call: Promise<ExpandResult>): Promise<ExpandResult> {
		const result = await call;
		const library = libraryId === undefined ? undefined : this.libraries.get(libraryId);
		if (library?.cacheable !== true || !isCacheableResult(result)) this.allCacheable = false;
		return result;
	}
}
