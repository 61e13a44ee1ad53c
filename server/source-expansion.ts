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
 * would get. Before each call it notes the request's id and the call's index in `progress`, as a batch does:
 * the client's request clock then times each call (client/supervisor.ts).
 */
function inProcessCaller(methods: ReadonlyMap<string, LaneMethod>, progress: BatchProgress | undefined): MacroCaller {
	let index = 0;
	const call = (method: string, params: unknown): Promise<ExpandResult> => {
		if (progress !== undefined) {
			progress.word[0] = progress.id;
			progress.word[1] = index++;
		}
		try {
			return Promise.resolve(methods.get(method)!.serve(params) as ExpandResult | Promise<ExpandResult>);
		} catch (error) {
			return Promise.reject(error);
		}
	};
	return {
		expandInline: (params) => call(ExpandInlineRequest.method, params),
		expandAttribute: (params) => call(ExpandAttributeRequest.method, params),
		expandDerive: (params) => call(ExpandDeriveRequest.method, params),
	};
}
