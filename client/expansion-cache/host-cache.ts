/**
 * The expansion cache in front of one MacroHost (its `expansionCache` option). It keeps the identity
 * of each library the host loads (the hash of its file, its ABI, its fingerprint), names the library
 * of a call that does not (when one library provides the macro), and sends misses to the host.
 */
import type { ExpandAttributeParams, ExpandDeriveParams, ExpandInlineParams, ExpandResult } from '../../protocol/expand.js';
import type { LibraryInfo, MacroKind } from '../../protocol/library.js';
import type { MacroCaller } from '../../expansion/expansion-engine.js';
import { CachingCaller, type CacheableLibrary } from './caching-caller.js';
import type { ExpansionCache } from './expansion-cache.js';
import { hashLibraryFile } from './library-identity.js';

/** A MacroHost's cache; see the module comment. */
export class HostExpansionCache implements MacroCaller {
	readonly #known = new Map<string, CacheableLibrary>();
	readonly #caller: CachingCaller;

	constructor(
		readonly cache: ExpansionCache,
		direct: MacroCaller,
		private readonly libraries: () => readonly LibraryInfo[],
	) {
		this.#caller = new CachingCaller({
			cache,
			library: (id) => this.#known.get(id),
			sender: { once: (send) => send(direct) },
		});
	}

	/** Records a library the host loaded; a file that cannot be read leaves its calls uncached. */
	async noteLoaded(info: LibraryInfo): Promise<void> {
		const fileHash = await hashLibraryFile(info.library).catch(() => undefined);
		if (fileHash === undefined) return;
		const identity = { fileHash, abi: info.abi, abiVersion: info.abiVersion, ...(info.fingerprint === undefined ? {} : { fingerprint: info.fingerprint }) };
		this.#known.set(info.library, { identity, cacheable: true });
	}

	expandInline(params: ExpandInlineParams): Promise<ExpandResult> {
		return this.#caller.expandInline(this.#withLibrary('inline', params?.name, params));
	}

	expandAttribute(params: ExpandAttributeParams): Promise<ExpandResult> {
		return this.#caller.expandAttribute(this.#withLibrary('attribute', params?.name, params));
	}

	expandDerive(params: ExpandDeriveParams): Promise<ExpandResult> {
		return this.#caller.expandDerive(this.#withLibrary('derive', params?.derives?.[0], params));
	}

	/** The params with `library` set when they name none and exactly one loaded library provides the macro. */
	#withLibrary<P extends { library?: string }>(kind: MacroKind, name: unknown, params: P): P {
		if (params === null || typeof params !== 'object' || params.library !== undefined) return params;
		const providers = this.libraries().filter((l) => l.macros.some((m) => m.kind === kind && m.name === name));
		return providers.length === 1 ? { ...params, library: providers[0].library } : params;
	}
}
