/**
 * MacroHost: the library a compiler driver imports. It starts a host process, loads libraries,
 * expands macro calls and survives whatever a macro does; see supervisor.ts for the crash path.
 */
import type { Disposable, Event } from 'vscode-jsonrpc/node';
import type { ExpandAttributeParams, ExpandDeriveParams, ExpandInlineParams, ExpandResult, PostProcessParams, PostProcessResult } from '../protocol/expand.js';
import type { InitializeResult } from '../protocol/handshake.js';
import type { LibraryInfo, ListMacrosResult } from '../protocol/library.js';
import type { ExpandSourceParams, ExpandSourceResult } from '../protocol/expand-source.js';
import { ExpandAttributeRequest, ExpandDeriveRequest, ExpandInlineRequest, ListMacrosRequest, PostProcessRequest } from '../protocol/methods.js';
import type { LoadLibraryOptions } from './library-registry.js';
import type { HostCrashError } from './errors.js';
import type { ExpansionCache, ExpansionCacheStats } from './expansion-cache/expansion-cache.js';
import { HostExpansionCache } from './expansion-cache/host-cache.js';
import { normalizeOptions, type MacroHostOptions } from './options.js';
import { Supervisor, type MacroCall, type RestartEvent } from './supervisor.js';

export type { Disposable, Event };

/**
 * A supervised macro host process.
 *
 * Expand calls never reject because of the host: a crash, a timeout, a quarantined macro or a host
 * that can no longer be restarted all answer `{ outcome: 'bail' }` with one error diagnostic whose
 * `code` says which ('host-crash', 'timeout', 'quarantined', 'host-unavailable'). They reject only
 * with MacroHostRequestError, when the host refuses the call (unknown macro, bad params…), or with
 * HostClosedError after close(). Other calls reject with HostCrashError, HostUnavailableError,
 * MacroHostRequestError or HostClosedError.
 */
export class MacroHost {
	readonly #supervisor: Supervisor;
	// ---- Expansion cache integration (client/expansion-cache/host-cache.ts): undefined when off ----
	readonly #cache: HostExpansionCache | undefined;
	#closing: Promise<void> | undefined;

	private constructor(supervisor: Supervisor, cache: ExpansionCache | undefined) {
		this.#supervisor = supervisor;
		const direct = { expandInline: this.#expandInline, expandAttribute: this.#expandAttribute, expandDerive: this.#expandDerive };
		this.#cache = cache === undefined ? undefined : new HostExpansionCache(cache, direct, () => this.libraries);
	}

	/**
	 * Spawns a host and initializes it. Rejects with a TypeError for a bad option and with
	 * HostStartError when the host cannot start.
	 */
	static async start(options?: MacroHostOptions): Promise<MacroHost> {
		const normalized = normalizeOptions(options);
		return new MacroHost(await Supervisor.start(normalized), normalized.expansionCache);
	}

	/** Process id of the current host; undefined while it is being restarted, or once closed. */
	get pid(): number | undefined {
		return this.#supervisor.pid;
	}

	/** Process id of the warm standby host, while one runs (see the `warmStandby` option). */
	get standbyPid(): number | undefined {
		return this.#supervisor.standbyPid;
	}

	/**
	 * Resolves true once the warm standby is ready to take over after a crash (initialized, libraries
	 * loaded); false when there is none (the option is off, or it failed to start).
	 */
	standbyReady(): Promise<boolean> {
		return this.#supervisor.standbyReady();
	}

	/** How many times the host was restarted after a crash. */
	get restarts(): number {
		return this.#supervisor.restarts;
	}

	/** Fires after each restart, with the crash that caused it. */
	get onRestart(): Event<RestartEvent> {
		return this.#supervisor.onRestart;
	}

	/** Fires on each host death, naming the request it interrupted. */
	get onCrash(): Event<HostCrashError> {
		return this.#supervisor.onCrash;
	}

	/** The current host's answer to `initialize`. */
	get serverInfo(): InitializeResult {
		return this.#supervisor.initializeResult!;
	}

	/** The libraries loaded so far, in load order (each is reloaded into a restarted host). */
	get libraries(): LibraryInfo[] {
		return this.#supervisor.libraries;
	}

	/** Loads a shared library; rejects with MacroHostRequestError (data: LibraryLoadErrorData) when it cannot. */
	async loadLibrary(path: string, options?: LoadLibraryOptions): Promise<LibraryInfo> {
		const info = await this.#supervisor.loadLibrary(path, options);
		await this.#cache?.noteLoaded(info);
		return info;
	}

	/** Everything loaded, as the host sees it. */
	listMacros(): Promise<ListMacrosResult> {
		return this.#supervisor.request(ListMacrosRequest.type);
	}

	/** Expands `name!(args)` (from the expansion cache when it is on and has the call). */
	expandInline(params: ExpandInlineParams): Promise<ExpandResult> {
		return this.#cache?.expandInline(params) ?? this.#expandInline(params);
	}

	/** Expands `#[name(args)] item` (from the expansion cache when it is on and has the call). */
	expandAttribute(params: ExpandAttributeParams): Promise<ExpandResult> {
		return this.#cache?.expandAttribute(params) ?? this.#expandAttribute(params);
	}

	/** Expands `#[derive(A, B)] item`: the outputs are concatenated and the diagnostics merged (from the expansion cache when it is on and has the call). */
	expandDerive(params: ExpandDeriveParams): Promise<ExpandResult> {
		return this.#cache?.expandDerive(params) ?? this.#expandDerive(params);
	}

	/** What the expansion cache did; undefined when it is off. */
	get expansionCacheStats(): ExpansionCacheStats | undefined {
		return this.#cache?.cache.stats;
	}

	readonly #expandInline = (params: ExpandInlineParams): Promise<ExpandResult> =>
		this.#supervisor.expand(ExpandInlineRequest.type, params, macroCall('inline', [params?.name], params));

	readonly #expandAttribute = (params: ExpandAttributeParams): Promise<ExpandResult> =>
		this.#supervisor.expand(ExpandAttributeRequest.type, params, macroCall('attribute', [params?.name], params));

	readonly #expandDerive = (params: ExpandDeriveParams): Promise<ExpandResult> => {
		const names = Array.isArray(params?.derives) ? params.derives : [];
		return this.#supervisor.expand(ExpandDeriveRequest.type, params, macroCall('derive', names, params));
	};

	/** True when the host expands whole sources (`expandSource`, protocol/expand-source.ts). */
	get expandsSources(): boolean {
		return this.#supervisor.initializeResult?.capabilities.expandSource === true;
	}

	/**
	 * Expands a whole source in the host (protocol/expand-source.ts), calls included, bypassing the
	 * expansion cache. The request timeout applies to each call inside it, as in a batch. A crash or timeout
	 * while it runs rejects (HostCrashError, and the host restarts as for any request): the caller then
	 * expands that source call by call, where the crash names its call.
	 */
	expandSource(params: ExpandSourceParams): Promise<ExpandSourceResult> {
		return this.#supervisor.expandSource(params);
	}

	/** Runs a library's post-process pass over the aux data its macros produced. */
	postProcess(params: PostProcessParams): Promise<PostProcessResult> {
		return this.#supervisor.request(PostProcessRequest.type, params);
	}

	/**
	 * Lets the calls already made finish, then shuts the host down and waits for the process to end.
	 * Idempotent; later calls reject with HostClosedError.
	 */
	close(): Promise<void> {
		if (this.#cache === undefined) return this.#supervisor.close();
		// The same promise every time (close() is idempotent), after the cache's uploads.
		this.#closing ??= this.#cache.cache.close().then(() => this.#supervisor.close());
		return this.#closing;
	}
}

/** What the supervisor needs to know about an expand call; malformed params are left for the host to refuse. */
function macroCall(
	kind: MacroCall['kind'],
	names: readonly unknown[],
	params: { library?: unknown; callSite?: unknown } | undefined,
): MacroCall {
	return {
		kind,
		names: names.map((name) => String(name)),
		library: typeof params?.library === 'string' ? params.library : undefined,
		callSite: isSpan(params?.callSite) ? params.callSite : undefined,
	};
}

function isSpan(value: unknown): value is { start: number; end: number } {
	if (value === null || typeof value !== 'object') return false;
	const { start, end } = value as { start?: unknown; end?: unknown };
	return typeof start === 'number' && typeof end === 'number';
}
