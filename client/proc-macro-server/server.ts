/**
 * `runProcMacroServer`: a drop-in for `scarb proc-macro-server`, reading like its steps: start a pool of hosts, serve
 * the lines of the input until it ends (definedMacros loads workspaces into the pool; expand calls run on it, one per
 * host at a time), answer
 * everything read, close the pool.
 *
 * Architecture Invariant: nothing but responses reaches the output. Macros run in host processes whose own stdout is
 * not the output; logs go to `log` (stderr in the CLI).
 */
import { availableParallelism } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { ExpansionCache, type ExpansionCacheOptions } from '../expansion-cache/expansion-cache.js';
import { HostPool } from '../host-pool.js';
import type { MacroHostOptions } from '../options.js';
import { defaultCacheDir, type BuildOptions } from '../packages/options.js';
import { Dispatcher } from './dispatch.js';
import { ExpandHandlers } from './expand-handlers.js';
import { HostSlots } from './host-slots.js';
import { DEFAULT_TRANSPORT_LIMITS, NdjsonTransport, type TransportLimits } from './ndjson-transport.js';
import { WorkspaceMacros } from './workspace-macros.js';

/** Options of {@link runProcMacroServer}. */
export interface ProcMacroServerOptions {
	/**
	 * How many host processes serve expand calls in parallel.
	 * @default the number of CPU cores
	 */
	readonly jobs?: number;
	/** Options of every host (e.g. `requestTimeoutMs`, the per-call time limit: 30 s by default). */
	readonly host?: MacroHostOptions;
	/** How macro packages are built (cache directory, cargo, progress). */
	readonly build?: BuildOptions;
	/**
	 * The expansion cache (docs/caching.md); false turns it off.
	 * @default on, in `<build cache directory>/expansions`, with the remote of MACRO_HOST_REMOTE_CACHE if set
	 */
	readonly expansionCache?: false | ExpansionCacheOptions;
	/** Flow-control bounds of the connection. */
	readonly limits?: Partial<TransportLimits>;
	/**
	 * Where log lines go (each without its newline).
	 * @default writing to process.stderr
	 */
	readonly log?: (message: string) => void;
}

/**
 * Serves the protocol on `input`/`output` until the input ends and every request read has its answer written.
 * Rejects only when the hosts cannot start (HostStartError, or a TypeError for a bad option).
 */
export async function runProcMacroServer(input: Readable, output: Writable, options: ProcMacroServerOptions = {}): Promise<void> {
	const log = options.log ?? ((message: string) => void process.stderr.write(`macro-host proc-macro-server: ${message}\n`));
	const cache = ExpansionCache.open(options.expansionCache, {
		buildCacheDir: options.build?.cacheDir ?? defaultCacheDir(options.build?.env),
		onWarning: (message) => log(`warning: ${message}`),
	});
	const pool = await HostPool.start({ size: options.jobs ?? availableParallelism(), host: options.host });
	try {
		const workspaces = new WorkspaceMacros(pool, options.build ?? {});
		const expand = new ExpandHandlers(new HostSlots(pool), workspaces, cache);
		let transport: NdjsonTransport | undefined;
		const dispatcher = new Dispatcher(
			{
				definedMacros: (params) => workspaces.define(params.workspace),
				expandAttribute: (params) => expand.expandAttribute(params),
				expandDerive: (params) => expand.expandDerive(params),
				expandInline: (params) => expand.expandInline(params),
			},
			(response) => transport!.send(response),
			log,
		);
		transport = new NdjsonTransport(input, output, { onLine: (line) => dispatcher.handleLine(line), log }, { ...DEFAULT_TRANSPORT_LIMITS, ...options.limits });
		log(`serving with ${pool.size} host${pool.size === 1 ? '' : 's'}`);
		await transport.run();
		if (cache !== undefined) {
			const { hits, remoteHits, misses, stored } = cache.stats;
			log(`expansion cache: ${hits} hits, ${remoteHits} remote hits, ${misses} misses, ${stored} stored`);
		}
	} finally {
		await cache?.close();
		await pool.close();
	}
}
