/**
 * Batches of expand calls (`expandBatch`): many small calls in one request, answered in one
 * response, so a client with calls queued (a driver expanding a file, a pool with a backlog) pays
 * one message, one wake-up and one dispatch each way for all of them instead of one per call.
 *
 * Each call of a batch is checked and served exactly as if it came alone (same validation, same
 * answers, same errors), in order. A call the host refuses answers an `error` in its place and the
 * host goes on with the next. Streams inside a batch always travel inline (no bulk slots), so
 * clients batch small calls only.
 *
 * When a macro kills the host during a batch, the batch has no answer at all. To know which call was
 * running, a client that offered a bulk directory puts a progress file in it ({@link
 * BATCH_PROGRESS_FILE}) and gives each batch an `id`; before each call the host stores the batch's id
 * and the call's index there (a store into shared memory, no system call), and the client reads them
 * once the host is dead: that call is the culprit, answered as a lone call would be, and the other
 * calls run again on the restarted host. Without a progress file the client re-runs the batch's calls
 * one by one, and the culprit is named when it kills the host again (client/supervisor.ts).
 *
 * @since expandBatch
 */
import type { ExpandAttributeParams, ExpandDeriveParams, ExpandInlineParams, ExpandResult } from './expand.js';

/** The methods a batch may carry. */
export type BatchMethod = 'expandInline' | 'expandAttribute' | 'expandDerive';
export namespace BatchMethod {
	/** Every method a batch may carry, for the host's check. */
	export const all: readonly BatchMethod[] = ['expandInline', 'expandAttribute', 'expandDerive'];
	export function is(value: unknown): value is BatchMethod {
		return typeof value === 'string' && (all as readonly string[]).includes(value);
	}
}

/** One call of a batch: the method and its params, as a lone request would send them. */
export type BatchCall =
	| { method: 'expandInline'; params: ExpandInlineParams }
	| { method: 'expandAttribute'; params: ExpandAttributeParams }
	| { method: 'expandDerive'; params: ExpandDeriveParams };

/** Parameters for an {@link ExpandBatchRequest} (methods.ts). */
export interface ExpandBatchParams {
	/** The calls, served in this order. */
	calls: BatchCall[];
	/** The batch's number (1 to 2^32-1), for the progress file; absent: the host notes no progress. */
	id?: number;
}

/**
 * The progress file's name in the bulk directory: {@link BATCH_PROGRESS_BYTES} bytes, two u32 in the
 * machine's byte order: the id of the batch the host is serving, and the index of its call running now.
 */
export const BATCH_PROGRESS_FILE = 'batch-progress';
/** Size of the progress file. */
export const BATCH_PROGRESS_BYTES = 8;

/** A call's error, as a lone request's JSON-RPC error would carry it. */
export interface BatchError {
	code: number;
	message: string;
	data?: unknown;
}

/** The answer to one call of a batch: its result, or the error a lone request would have got. */
export type BatchAnswer = { result: ExpandResult; error?: undefined } | { result?: undefined; error: BatchError };

/** Result of an {@link ExpandBatchRequest}: one answer per call, in the calls' order. */
export interface ExpandBatchResult {
	answers: BatchAnswer[];
}
