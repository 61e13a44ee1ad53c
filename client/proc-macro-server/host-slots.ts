/**
 * One call per host at a time: calls wait in arrival order for a free host instead of queueing behind busy ones.
 *
 * A pool lease takes the least-loaded host, so with more calls in flight than hosts, calls queue inside hosts, and a
 * call that lands behind a slow macro (one that hangs until the time limit) waits for it although another host is
 * free. Holding at most `pool.size` leases at once keeps every lease on a host of its own (the least-loaded host is
 * then always an idle one), so a slow macro holds back only itself.
 */
import type { HostLease, HostPool } from '../host-pool.js';

/** Runs work on the pool, at most one call per host; see the module comment. */
export class HostSlots {
	#busy = 0;
	readonly #waiting: Array<() => void> = [];

	constructor(private readonly pool: HostPool) {}

	/** Runs `work` on a lease of its own once a host is free. */
	async run<T>(work: (lease: HostLease) => Promise<T>): Promise<T> {
		if (this.#busy >= this.pool.size) await new Promise<void>((resolve) => this.#waiting.push(resolve));
		else this.#busy++;
		try {
			return await this.pool.withLease(work);
		} finally {
			// Hand the slot straight to the next caller, or free it.
			const next = this.#waiting.shift();
			if (next === undefined) this.#busy--;
			else next();
		}
	}
}
