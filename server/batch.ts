/**
 * Serves `expandBatch` (protocol/batch.ts): each call of the batch goes to its method's own handler,
 * in order, so it is checked and answered exactly as it would be alone; a refused call answers its
 * error in its place and the batch goes on. A wasm call answers later: the calls behind it wait.
 * Before each call the host notes it in the client's progress file, when there is one.
 */
import type { BatchAnswer, BatchCall, ExpandBatchResult } from '../protocol/batch.js';
import type { ExpandResult } from '../protocol/expand.js';
import type { MaybePromise } from './library-model.js';
import { toErrorObject, type LaneMethod } from './request-lane.js';

/** Where the host notes the call it runs: the progress word (protocol/batch.ts) and the batch's id. */
export interface BatchProgress {
	word: Uint32Array;
	id: number;
}

/**
 * Serves `calls` with `methods` (the lone expand methods, answering inline), noting each call in
 * `progress` before it runs; the batch's result, now or once the last call is answered.
 */
export function serveBatch(calls: readonly BatchCall[], methods: ReadonlyMap<string, LaneMethod>, progress: BatchProgress | undefined): MaybePromise<ExpandBatchResult> {
	const answers: BatchAnswer[] = [];
	const from = (first: number): MaybePromise<ExpandBatchResult> => {
		for (let i = first; i < calls.length; i++) {
			const call = calls[i];
			if (progress !== undefined) {
				// The client reads these after a crash: the call that was running is the culprit.
				progress.word[0] = progress.id;
				progress.word[1] = i;
			}
			let value: unknown;
			try {
				// validateExpandBatchParams checked the method.
				value = methods.get(call.method)!.serve(call.params);
			} catch (error) {
				answers.push({ error: toErrorObject(call.method, error)! });
				continue;
			}
			if (value instanceof Promise) {
				return value.then(
					(result: unknown) => void answers.push({ result: result as ExpandResult }),
					(error: unknown) => void answers.push({ error: toErrorObject(call.method, error)! }),
				).then(() => from(i + 1));
			}
			answers.push({ result: value as ExpandResult });
		}
		return { answers };
	};
	return from(0);
}
