/**
 * The host's side of the wasm worker: starts it, hands it the compiled modules, sends one call at
 * a time and times each call out. A timeout stops the worker (never the host) and answers the call
 * with a diagnostic; the next call starts a new worker, which instantiates its modules again.
 */
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../../protocol/expand.js';
import type { Expansion } from '../library-model.js';
import type { WasmExpandRequest } from './abi.js';
import type { WriteRegions } from './binary.js';
import type { WasmInstancing } from './instances.js';
import type { WasmModule } from './runtime.js';
import type { FromWorker, ToWorker } from './worker.js';

/** Limits and strategy of the wasm sandbox (docs/wasm.md). */
export interface WasmOptions {
	/** Wall-clock limit of one call into a module, in ms. @default 10000 */
	timeoutMs: number;
	/** Most 64 KiB pages a module's memory may grow to; applies to modules loaded afterwards. @default 4096 (256 MiB) */
	maxMemoryPages: number;
	/** How each call gets a clean instance. @default 'snapshot' */
	instancing: WasmInstancing;
	/**
	 * Host memory, in MiB, all loaded modules together may take: their memories, snapshots and
	 * tables, plus the growth of the one call that runs at a time. @default 1024 (half the host's default memory limit)
	 */
	budgetMiB: number;
	/** The client's own request timeout (initialize's `requestTimeoutMs`): wasm calls are stopped before it. */
	clientTimeoutMs?: number;
}

/** The defaults of {@link WasmOptions}. */
export const DEFAULT_WASM_OPTIONS: Readonly<WasmOptions> = Object.freeze({ timeoutMs: 10_000, maxMemoryPages: 4096, instancing: 'snapshot', budgetMiB: 1024 });

/** A loaded wasm module, as the sandbox needs it. */
export interface WasmModuleHandle {
	/** The library id. */
	library: string;
	/** The module, compiled with its memory capped at `maxPages`. */
	module: WasmModule;
	maxPages: number;
	/** Export names of its mutable globals. */
	globals: string[];
	/** Export names of its tables. */
	tables: string[];
	/** Export names of the globals of the range a call wrote, when writes are tracked. */
	writeRange?: WriteRegions;
	/** Why a snapshot cannot restore it (then every call gets a new instance), if it cannot. */
	notRestorable?: string;
}

/** What one module costs the host, in bytes, as counted against the budget. */
export interface WasmModuleCost {
	/** Held while the module is loaded: its memory at start, its snapshot, its tables (and their copies). */
	held: number;
	/** What one call may add on top (memory growth up to the page limit); only one call runs at a time. */
	growth: number;
}

const MIB = 1024 * 1024;

/** The abi version and manifest text of a module, or why they could not be read. */
export type ManifestAnswer = { abiVersion: number; manifest: string } | { error: string };

// A plain path, not `new Worker(new URL(..., import.meta.url))`: bundlers and test runners rewrite that pattern.
// This module is dist/server/wasm/sandbox.js, or a part of the host bundle dist/server/host-bundle.cjs,
// whose import.meta.url is the bundle's: the worker is dist/server/wasm/worker.js either way.
const HERE = dirname(fileURLToPath(import.meta.url));
const WORKER_SCRIPT = basename(HERE) === 'wasm' ? join(HERE, 'worker.js') : join(HERE, 'wasm', 'worker.js');

interface Pending {
	resolve(answer: FromWorker): void;
	timer: NodeJS.Timeout;
}

type Call = { op: 'instantiate'; library: string } | { op: 'manifest'; library: string } | { op: 'expand'; library: string; request: WasmExpandRequest; who: string } | { op: 'postProcess'; library: string; auxJson: string; who: string };

/** Owns the worker thread that runs wasm macros. */
export class WasmSandbox {
	private worker: Worker | undefined;
	// Resolves once the current worker runs: its start-up does not count against a call's timeout.
	private online: Promise<void> = Promise.resolve();
	// Modules the current worker has been given; a new worker starts with none.
	private registered = new Map<string, WasmModuleHandle>();
	private readonly pending = new Map<number, Pending>();
	private seq = 0;
	private readonly options: WasmOptions;
	// What each loaded module costs, by library id (a reloaded module replaces its entry).
	private readonly costs = new Map<string, WasmModuleCost>();

	constructor(options: Partial<WasmOptions> = {}, private readonly log: (line: string) => void = () => undefined) {
		this.options = { ...DEFAULT_WASM_OPTIONS, ...options };
	}

	/** The options in effect. */
	get settings(): Readonly<WasmOptions> {
		return this.options;
	}

	/** Changes limits (from initialize); the page limit applies to modules loaded afterwards. */
	configure(options: Partial<WasmOptions>): void {
		Object.assign(this.options, options);
	}

	/**
	 * Counts `cost` for `library` against the budget; returns why it does not fit (nothing is
	 * counted then), or undefined when it was counted. Every loaded module is held at once, and
	 * the largest growth among them is kept free for the one call that runs.
	 */
	reserve(library: string, cost: WasmModuleCost): string | undefined {
		let held = 0;
		let growth = cost.growth;
		let others = 0;
		for (const [id, c] of this.costs) {
			if (id === library) continue;
			held += c.held;
			growth = Math.max(growth, c.growth);
			others++;
		}
		const budget = this.options.budgetMiB * MIB;
		if (held + cost.held + growth > budget) {
			const loaded = others === 0 ? '' : `, of which ${mib(held)} MiB are held by ${others} loaded module${others === 1 ? '' : 's'}`;
			return (
				`it needs ${mib(cost.held)} MiB of host memory (memory, snapshot and tables) and up to ${mib(cost.growth)} MiB more while a call runs, ` +
				`which does not fit the host's budget for wasm macros of ${this.options.budgetMiB} MiB${loaded} (${mib(growth)} MiB are kept for the growth of one call)`
			);
		}
		this.costs.set(library, cost);
		return undefined;
	}

	/** Stops counting `library` against the budget (its load failed). */
	release(library: string): void {
		this.costs.delete(library);
	}

	/** Reads the ABI version and manifest of a module, under the same timeout as a call. */
	async manifest(handle: WasmModuleHandle): Promise<ManifestAnswer> {
		// Instantiation first, on its own clock: a start function that traps or hangs is named as such.
		const started = await this.send(handle, { op: 'instantiate', library: handle.library }, () => ({
			error: `its start function (run when the module is instantiated) did not return within ${this.clock().ms} ms${this.clock().why}`,
		}));
		if ('outcome' in started) return { error: started.diagnostics[0]?.message ?? 'the wasm worker failed' };
		if ('error' in started) return started;
		const answer = await this.send(handle, { op: 'manifest', library: handle.library }, () => ({
			error: `its manifest (mh_manifest) did not return within ${this.clock().ms} ms${this.clock().why}`,
		}));
		// A worker that died mid-call answers with an expansion: its diagnostic says why.
		if ('outcome' in answer) return { error: answer.diagnostics[0]?.message ?? 'the wasm worker failed' };
		return answer;
	}

	/** Runs one macro call; every failure is an answer (bail with a diagnostic). */
	expand(handle: WasmModuleHandle, request: WasmExpandRequest, who: string): Promise<Expansion> {
		return this.send(handle, { op: 'expand', library: handle.library, request, who }, () => this.timedOut(who)) as Promise<Expansion>;
	}

	/** Calls mh_post_process with the JSON array text of the run's aux data. */
	postProcess(handle: WasmModuleHandle, auxJson: string, who: string): Promise<Expansion> {
		return this.send(handle, { op: 'postProcess', library: handle.library, auxJson, who }, () => this.timedOut(who)) as Promise<Expansion>;
	}

	/** Stops the worker (end of session). */
	dispose(): void {
		this.stop('the host is shutting down');
	}

	/** The time one call may run now, and why when it is less than the wasm limit. */
	private clock(): { ms: number; why: string } {
		const ms = effectiveTimeoutMs(this.options);
		const why = ms < this.options.timeoutMs ? ` (kept below the client's request timeout of ${this.options.clientTimeoutMs} ms)` : '';
		return { ms, why };
	}

	private async send(handle: WasmModuleHandle, call: Call, onTimeout: () => Expansion | ManifestAnswer): Promise<Expansion | ManifestAnswer> {
		const worker = this.ensureWorker();
		await this.online;
		// A worker that failed while starting is gone: answer as for any dead worker.
		if (this.worker !== worker) return { outcome: 'bail', diagnostics: [{ severity: 'error', message: 'bad result: the wasm worker did not start', code: 'bad-result' }] };
		if (this.registered.get(handle.library) !== handle) {
			// A module the worker has not seen, or a reloaded one (its file changed): the worker takes this one.
			const instancing = handle.notRestorable === undefined ? this.options.instancing : 'fresh';
			const spec = { module: handle.module, maxPages: handle.maxPages, globals: handle.globals, tables: handle.tables, writeRange: handle.writeRange, instancing };
			worker.postMessage({ op: 'register', library: handle.library, spec } satisfies ToWorker);
			this.registered.set(handle.library, handle);
		}
		const seq = ++this.seq;
		const { ms } = this.clock();
		return new Promise((resolve) => {
			const timer = setTimeout(() => {
				this.pending.delete(seq);
				this.log(`wasm call timed out after ${ms} ms; stopping the wasm worker`);
				this.stop('a call timed out');
				resolve(onTimeout());
			}, ms);
			this.pending.set(seq, {
				timer,
				resolve: (answer) => resolve('expansion' in answer ? answer.expansion : 'manifest' in answer ? answer.manifest : (answer.instantiated as ManifestAnswer)),
			});
			worker.postMessage({ ...call, seq } as ToWorker);
		});
	}

	private timedOut(who: string): Expansion {
		const diagnostic: Diagnostic = {
			severity: 'error',
			message: `${who} timed out after ${this.clock().ms} ms${this.clock().why}; its wasm worker was stopped and the host keeps serving`,
			code: 'timeout',
		};
		return { outcome: 'bail', diagnostics: [diagnostic] };
	}

	private ensureWorker(): Worker {
		if (this.worker) return this.worker;
		const worker = new Worker(WORKER_SCRIPT);
		// The worker never keeps the host alive by itself; a pending call's timer does.
		worker.unref();
		this.online = new Promise((resolve) => {
			worker.once('online', resolve);
			worker.once('exit', () => resolve());
		});
		worker.on('message', (answer: FromWorker) => {
			const pending = this.pending.get(answer.seq);
			if (!pending) return;
			this.pending.delete(answer.seq);
			clearTimeout(pending.timer);
			pending.resolve(answer);
		});
		worker.on('error', (error) => {
			if (this.worker !== worker) return;
			this.log(`the wasm worker failed: ${error.stack ?? error.message}`);
			this.fail(`the wasm worker failed: ${error.message}`);
		});
		worker.on('exit', (code) => {
			if (this.worker !== worker) return;
			this.log(`the wasm worker exited with code ${code}`);
			this.fail(`the wasm worker exited with code ${code}`);
		});
		this.worker = worker;
		this.registered = new Map();
		return worker;
	}

	/** Answers every pending call with a bad-result bail and forgets the worker. */
	private fail(reason: string): void {
		this.worker = undefined;
		for (const [seq, pending] of this.pending) {
			clearTimeout(pending.timer);
			const diagnostic: Diagnostic = { severity: 'error', message: `bad result: ${reason}`, code: 'bad-result' };
			pending.resolve({ seq, expansion: { outcome: 'bail', diagnostics: [diagnostic] } });
		}
		this.pending.clear();
	}

	private stop(reason: string): void {
		const worker = this.worker;
		if (!worker) return;
		this.fail(reason);
		void worker.terminate();
	}
}

function mib(bytes: number): string {
	return String(Math.ceil(bytes / MIB));
}

/**
 * The time a wasm call may run: the wasm limit, or less when the client's request timeout needs
 * it, so the host answers before the client's clock runs out (a tenth of that clock, 50 ms to 1 s,
 * is kept for the answer to travel and the worker to start).
 */
function effectiveTimeoutMs(options: Pick<WasmOptions, 'timeoutMs' | 'clientTimeoutMs'>): number {
	const client = options.clientTimeoutMs;
	if (client === undefined) return options.timeoutMs;
	const reserve = Math.min(1000, Math.max(50, Math.ceil(client / 10)));
	return Math.max(1, Math.min(options.timeoutMs, client - reserve));
}

