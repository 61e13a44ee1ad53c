/**
 * A pool of supervised macro hosts for crash-isolated, parallel builds.
 *
 * Every host loads the same libraries. Work is handed out as leases: a lease takes the least-loaded
 * live host (fewest leases held; the lower index on a tie) and sends all of its calls there. A crash
 * stays inside one host: MacroHost answers the call that crashed with a bail diagnostic, restarts,
 * and re-sends the others. A host whose restart policy gave up answers `host-unavailable`; the lease
 * then marks it dead and sends that call, and the rest of its calls, to another live host, so a build
 * finishes as long as one host lives.
 */
import { availableParallelism } from 'node:os';
import type {
	ExpandAttributeParams,
	ExpandDeriveParams,
	ExpandInlineParams,
	ExpandResult,
	PostProcessParams,
	PostProcessResult,
} from '../protocol/expand.js';
import type { LibraryInfo } from '../protocol/library.js';
import type { ExpandSourceParams, ExpandSourceResult } from '../protocol/expand-source.js';
import type { LoadLibraryOptions } from './library-registry.js';
import { MacroHost } from './macro-host.js';
import type { MacroHostOptions } from './options.js';

/** Options of {@link HostPool.start}. */
export interface HostPoolOptions {
	/**
	 * How many host processes to run.
	 * @default the number of CPU cores (os.availableParallelism())
	 */
	readonly size?: number;
	/**
	 * Options of every host (MacroHost.start). `warmStandby` defaults to false here: a standby per
	 * host doubles the pool's processes (and its idle memory), while a crash in one host already
	 * leaves the others serving. Set it to true to have each host keep its own standby.
	 */
	readonly host?: MacroHostOptions;
}

/** The largest pool {@link HostPool.start} accepts. */
export const MAX_POOL_SIZE = 256;

/** N supervised hosts with the same libraries; see the module comment. */
export class HostPool {
	readonly #hosts: MacroHost[];
	readonly #load: number[];
	readonly #dead: boolean[];
	readonly #libraries = new Map<string, LibraryInfo>();

	private constructor(hosts: MacroHost[]) {
		this.#hosts = hosts;
		this.#load = hosts.map(() => 0);
		this.#dead = hosts.map(() => false);
	}

	/**
	 * Starts `size` hosts in parallel. Rejects with a TypeError for a bad size, and with the first
	 * host's HostStartError when any host cannot start (the others are closed first).
	 */
	static async start(options: HostPoolOptions = {}): Promise<HostPool> {
		const size = options.size ?? availableParallelism();
		if (!Number.isInteger(size) || size < 1 || size > MAX_POOL_SIZE) {
			throw new TypeError(`The "size" option must be a whole number from 1 to ${MAX_POOL_SIZE}, got ${JSON.stringify(size)} (${typeof size})`);
		}
		const hostOptions = withoutStandbyByDefault(options.host);
		const started = await Promise.allSettled(Array.from({ length: size }, () => MacroHost.start(hostOptions)));
		const hosts = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
		const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
		if (failure !== undefined) {
			await Promise.all(hosts.map((h) => h.close().catch(() => undefined)));
			throw failure.reason;
		}
		return new HostPool(hosts);
	}

	/** Number of hosts. */
	get size(): number {
		return this.#hosts.length;
	}

	/** The hosts, in start order. */
	get hosts(): readonly MacroHost[] {
		return this.#hosts;
	}

	/** Number of hosts not given up on. */
	get liveCount(): number {
		return this.#dead.filter((dead) => !dead).length;
	}

	/** Every library loaded, by id, as the first host reported it. */
	get libraries(): ReadonlyMap<string, LibraryInfo> {
		return this.#libraries;
	}

	/**
	 * Loads a library into every host; resolves with the first host's answer. Rejects with the host's
	 * MacroHostRequestError when the library does not load.
	 */
	async loadLibrary(path: string, options?: LoadLibraryOptions): Promise<LibraryInfo> {
		const infos = await Promise.all(this.#hosts.map((h) => h.loadLibrary(path, options)));
		const info = infos[0];
		this.#libraries.set(info.library, info);
		return info;
	}

	/** Takes the least-loaded live host for a piece of work; release the lease when done. */
	lease(): HostLease {
		return new HostLease(this);
	}

	/** Runs `work` with a lease, released afterwards whatever happens. */
	withLease<T>(work: (lease: HostLease) => Promise<T>): Promise<T> {
		const lease = this.lease();
		let running: Promise<T>;
		try {
			running = work(lease);
		} catch (error) {
			lease.release();
			return Promise.reject(error);
		}
		// One promise per call on a path every expansion of a pool takes (no async function around it).
		return running.then(
			(value) => {
				lease.release();
				return value;
			},
			(error: unknown) => {
				lease.release();
				throw error;
			},
		);
	}

	/** True when every host expands whole sources (MacroHost.expandSource). */
	get expandsSources(): boolean {
		return this.#hosts.every((h) => h.expandsSources);
	}

	/** MacroHost.expandSource on the least-loaded live host. */
	expandSource(params: ExpandSourceParams): Promise<ExpandSourceResult> {
		return this.withLease((lease) => lease.host.expandSource(params));
	}

	/** Runs a library's post-process step on a live host. */
	postProcess(params: PostProcessParams): Promise<PostProcessResult> {
		return this.withLease((lease) => lease.host.postProcess(params));
	}

	/** Closes every host (each lets its calls finish first). */
	async close(): Promise<void> {
		await Promise.all(this.#hosts.map((h) => h.close()));
	}

	/** @internal The index of the least-loaded live host (any host when none lives: it answers for itself). */
	acquire(excluding?: number): number {
		let best = -1;
		for (let i = 0; i < this.#hosts.length; i++) {
			if (this.#dead[i] || i === excluding) continue;
			if (best === -1 || this.#load[i] < this.#load[best]) best = i;
		}
		if (best === -1) best = excluding ?? 0;
		this.#load[best]++;
		return best;
	}

	/** @internal */
	releaseIndex(index: number): void {
		this.#load[index]--;
	}

	/** @internal Marks a host given up on; true when another live host remains. */
	markDead(index: number): boolean {
		this.#dead[index] = true;
		return this.liveCount > 0;
	}

	/** @internal */
	hostAt(index: number): MacroHost {
		return this.#hosts[index];
	}
}

/** The hosts' options with `warmStandby: false` unless they set it; anything but an object is left for MacroHost to refuse. */
function withoutStandbyByDefault(host: MacroHostOptions | undefined): MacroHostOptions | undefined {
	if (host === undefined) return { warmStandby: false };
	if (host === null || typeof host !== 'object' || 'warmStandby' in host) return host;
	return { ...host, warmStandby: false };
}

/** One host of a pool, held for a piece of work (a file); it moves to another host if its host is given up on. */
export class HostLease {
	#index: number;
	#released = false;

	/** @internal Use HostPool.lease(). */
	constructor(private readonly pool: HostPool) {
		this.#index = pool.acquire();
	}

	/** The host the lease holds now. */
	get host(): MacroHost {
		return this.pool.hostAt(this.#index);
	}

	/** MacroHost.expandInline on the lease's host (moving on if that host was given up on). */
	expandInline(params: ExpandInlineParams): Promise<ExpandResult> {
		return this.#send((host) => host.expandInline(params));
	}

	/** MacroHost.expandAttribute on the lease's host (moving on if that host was given up on). */
	expandAttribute(params: ExpandAttributeParams): Promise<ExpandResult> {
		return this.#send((host) => host.expandAttribute(params));
	}

	/** MacroHost.expandDerive on the lease's host (moving on if that host was given up on). */
	expandDerive(params: ExpandDeriveParams): Promise<ExpandResult> {
		return this.#send((host) => host.expandDerive(params));
	}

	/** Gives the host back to the pool. Idempotent. */
	release(): void {
		if (this.#released) return;
		this.#released = true;
		this.pool.releaseIndex(this.#index);
	}

	async #send(call: (host: MacroHost) => Promise<ExpandResult>): Promise<ExpandResult> {
		// Each host is tried at most once per call, so this ends even when every host is gone.
		for (let tries = 0; ; tries++) {
			const index = this.#index;
			const result = await call(this.pool.hostAt(index));
			const isUnavailable = result.outcome === 'bail' && result.diagnostics.some((d) => d.code === 'host-unavailable');
			if (!isUnavailable || tries + 1 >= this.pool.size) return result;
			if (!this.pool.markDead(index)) return result;
			if (this.#index === index && !this.#released) {
				// Move this lease (and every later call of it) to a live host.
				this.pool.releaseIndex(index);
				this.#index = this.pool.acquire(index);
			}
		}
	}
}
