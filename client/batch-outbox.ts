/**
 * Coalesces the small expand calls made in one tick into `expandBatch` requests (protocol/batch.ts):
 * a build expanding a file, or a pool with a backlog, then pays one message, one host wake-up and one
 * dispatch each way for a whole burst, instead of one per call.
 *
 * The outbox only collects and flushes; the supervisor sends, answers, and on a crash re-runs a
 * batch's calls alone (see supervisor.ts), so the crash path is the one lone calls take.
 */
import type { BatchCall } from '../protocol/batch.js';

/** Most calls in one batch: a bound on the reply's size and on how long one request runs. */
export const MAX_BATCH_CALLS = 256;

/**
 * Calls whose streams are at most this many numbers of records (about 1,000 tokens) may go in a
 * batch. Larger ones go alone: a batch's streams travel inline, and large streams are faster
 * through bulk slots, which only lone calls use.
 */
export const MAX_BATCH_RECORDS = 6 * 1024;

/** True when the params of an expand call are small enough to travel in a batch. */
export function isBatchable(params: unknown): boolean {
	if (params === null || typeof params !== 'object') return false;
	const { args, item } = params as { args?: unknown; item?: unknown };
	return isSmallStream(args) && isSmallStream(item);
}

/** The wire form of one call of a batch. */
export function batchCall(method: string, params: unknown): BatchCall {
	return { method, params } as BatchCall;
}

/** Collects calls until the current tick ends, then hands them over in batches of at most {@link MAX_BATCH_CALLS}. */
export class BatchOutbox<C> {
	#calls: C[] = [];
	readonly #flush = (): void => this.flush();

	/** @param send sends the calls of one tick (one call alone, or several as a batch). */
	constructor(private readonly send: (calls: C[]) => void) {}

	/** Queues a call; the first of a tick schedules the flush for the end of it. */
	add(call: C): void {
		if (this.#calls.length === 0) process.nextTick(this.#flush);
		this.#calls.push(call);
	}

	/**
	 * Sends what is queued now. Before any call that goes alone: requests leave in the order they were
	 * made, and the host serves them in that order.
	 */
	flush(): void {
		if (this.#calls.length === 0) return;
		const calls = this.#calls;
		this.#calls = [];
		for (let from = 0; from < calls.length; from += MAX_BATCH_CALLS) this.send(calls.slice(from, from + MAX_BATCH_CALLS));
	}
}

function isSmallStream(stream: unknown): boolean {
	if (stream === undefined) return true;
	if (stream === null || typeof stream !== 'object') return false;
	const records = (stream as { records?: unknown }).records;
	return (Array.isArray(records) || records instanceof Uint32Array) && records.length <= MAX_BATCH_RECORDS;
}
