/**
 * Serves `expandSource` (protocol/expand-source.ts): the expansion engine (expansion/, the code the
 * client's driver runs) expands the source here, and each macro call it makes goes to the expand
 * method's own handler: checked, served and answered exactly as it would be on the wire, with fds 1
 * and 2 repaired after it. Only the message each way per call is gone, and the engine's work runs in
 * the host, beside its peers in a pool. The calls write no call marks (dispatch.ts, ServeMode): when one
 * kills the host, the client expands the source again call by call, and that run's marks name it.
 */
import type { ExpandResult } from '../protocol/expand.js';
import type { ExpandSourceParams, ExpandSourceResult } from '../protocol/expand-source.js';
import { ExpandAttributeRequest, ExpandDeriveRequest, ExpandInlineRequest } from '../protocol/methods.js';
import { expandSource, type MacroCaller } from '../expansion/expansion-engine.js';
import { MacroRegistry } from '../expansion/macro-registry.js';
import type { BatchProgress } from './batch.js';
import type { LaneMethod } from './request-lane.js';

/**
 * Expands `params.text` with `methods` (the expand methods served inline). A macro's failure
 * is a diagnostic in the result, as in the client's driver; a macro that kills the host ends the request.
 */
export async function serveSource(params: ExpandSourceParams, methods: ReadonlyMap<string, LaneMethod>, progress: BatchProgress | undefined): Promise<ExpandSourceResult> {
	const registry = new MacroRegistry(params.packages);
	const { text, diagnostics, aux, expansions } = await expandSource(params.text, {
		registry,
		caller: inProcessCaller(methods, progress),
		recursionLimit: params.recursionLimit,
		checkOutput: params.checkOutput,
	});
	return { text, diagnostics, aux, expansions };
}

/**
 * A MacroCaller that serves each call in this process; a refused call rejects with the error its request
 * would get. The engine asks for every call of a level at once, but they run one at a time, in that order,
 * as on the wire: a wasm call answers later, and the calls behind it wait for it (the sandbox times each
 * call from when it is sent, so a call queued behind another must not be sent yet). Before each call starts,
 * it notes the request's id and the call's index in `progress`, as a batch does: the client's request clock
 * then times each call (client/supervisor.ts).
 */
function inProcessCaller(methods: ReadonlyMap<string, LaneMethod>, progress: BatchProgress | undefined): MacroCaller {
	let index = 0;
	// Settles once the calls made so far have answered; undefined while none is waiting (native calls answer at once).
	let queue: Promise<unknown> | undefined;
	const serve = (method: string, params: unknown): ExpandResult | Promise<ExpandResult> => {
		if (progress !== undefined) {
			progress.word[0] = progress.id;
			progress.word[1] = index++;
		}
		return methods.get(method)!.serve(params) as ExpandResult | Promise<ExpandResult>;
	};
	const wait = (pending: Promise<unknown>): void => {
		const settled: Promise<unknown> = pending.then(
			() => void (queue === settled && (queue = undefined)),
			() => void (queue === settled && (queue = undefined)),
		);
		queue = settled;
	};
	const call = (method: string, params: unknown): Promise<ExpandResult> => {
		if (queue !== undefined) {
			const later = queue.then(() => serve(method, params));
			wait(later);
			return later;
		}
		let value: ExpandResult | Promise<ExpandResult>;
		try {
			value = serve(method, params);
		} catch (error) {
			return Promise.reject(error);
		}
		if (!(value instanceof Promise)) return Promise.resolve(value);
		wait(value);
		return value;
	};
	return {
		expandInline: (params) => call(ExpandInlineRequest.method, params),
		expandAttribute: (params) => call(ExpandAttributeRequest.method, params),
		expandDerive: (params) => call(ExpandDeriveRequest.method, params),
	};
}
