/**
 * The protocol's methods: one typed vscode-jsonrpc constant per request and notification, which host and client
 * both import, so a method name is written once. The types they carry live in the dependency-free modules beside
 * this one (handshake.ts, library.ts, expand.ts), which the host's inner layers import without loading vscode-jsonrpc.
 */
import { NotificationType0, ParameterStructures, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { ExpandBatchParams, ExpandBatchResult } from './batch.js';
import type { ExpandSourceParams, ExpandSourceResult } from './expand-source.js';
import type { LibraryLoadErrorData } from './errors.js';
import type { ExpandAttributeParams, ExpandDeriveParams, ExpandInlineParams, ExpandResult, PostProcessParams, PostProcessResult } from './expand.js';
import type { InitializeParams, InitializeResult } from './handshake.js';
import type { ListMacrosResult, LibraryInfo, LoadLibraryParams } from './library.js';

//---- Handshake ----

/** The first request of a session: agree on the protocol version. Params: InitializeParams; result: InitializeResult. */
export namespace InitializeRequest {
	export const method = 'initialize' as const;
	export const type = new RequestType<InitializeParams, InitializeResult, void>(method, ParameterStructures.byName);
}

/** Asks the host to stop accepting work; answered with null once in-flight work is done. */
export namespace ShutdownRequest {
	export const method = 'shutdown' as const;
	export const type = new RequestType0<null, void>(method);
}

/** Tells the host to exit: code 0 after a shutdown, 1 without one (as in LSP). */
export namespace ExitNotification {
	export const method = 'exit' as const;
	export const type = new NotificationType0(method);
}

//---- Libraries ----

/**
 * Loads a library, or returns the one already loaded from that path (reloaded when the file changed).
 * Params: LoadLibraryParams; result: LibraryInfo; errors: LibraryLoadFailed, AbiMismatch.
 */
export namespace LoadLibraryRequest {
	export const method = 'loadLibrary' as const;
	export const type = new RequestType<LoadLibraryParams, LibraryInfo, LibraryLoadErrorData>(method, ParameterStructures.byName);
}

/** Lists everything loaded. No params; result: ListMacrosResult. */
export namespace ListMacrosRequest {
	export const method = 'listMacros' as const;
	export const type = new RequestType0<ListMacrosResult, void>(method);
}

//---- Expansion ----

/** Expands an inline macro. Params: ExpandInlineParams; result: ExpandResult. */
export namespace ExpandInlineRequest {
	export const method = 'expandInline' as const;
	export const type = new RequestType<ExpandInlineParams, ExpandResult, unknown>(method, ParameterStructures.byName);
}

/** Expands an attribute macro. Params: ExpandAttributeParams; result: ExpandResult. */
export namespace ExpandAttributeRequest {
	export const method = 'expandAttribute' as const;
	export const type = new RequestType<ExpandAttributeParams, ExpandResult, unknown>(method, ParameterStructures.byName);
}

/**
 * Expands derives on one item. The outputs of all derives are concatenated in order and their
 * diagnostics merged, as Scarb does; outcome is "replace" when any derive produced tokens.
 * Params: ExpandDeriveParams; result: ExpandResult.
 */
export namespace ExpandDeriveRequest {
	export const method = 'expandDerive' as const;
	export const type = new RequestType<ExpandDeriveParams, ExpandResult, unknown>(method, ParameterStructures.byName);
}

/**
 * Expands many calls in one request (see batch.ts): one answer per call, in order, each what the
 * call would have got alone. Served when initialize's capabilities say `batch`.
 * Params: ExpandBatchParams; result: ExpandBatchResult. @since expandBatch
 */
export namespace ExpandBatchRequest {
	export const method = 'expandBatch' as const;
	export const type = new RequestType<ExpandBatchParams, ExpandBatchResult, unknown>(method, ParameterStructures.byName);
}

/**
 * Expands a whole source in the host (see expand-source.ts): the engine runs there and calls the
 * macros in process. Served when initialize's capabilities say `expandSource`.
 * Params: ExpandSourceParams; result: ExpandSourceResult. @since expandSource
 */
export namespace ExpandSourceRequest {
	export const method = 'expandSource' as const;
	export const type = new RequestType<ExpandSourceParams, ExpandSourceResult, unknown>(method, ParameterStructures.byName);
}

/**
 * The methods a host serves in its request lane (server/request-lane.ts) and a client sends past its
 * connection (client/expand-lane.ts): the expand calls, which are most of a session's traffic.
 */
export const LANE_METHODS: ReadonlySet<string> = new Set([ExpandInlineRequest.method, ExpandAttributeRequest.method, ExpandDeriveRequest.method, ExpandBatchRequest.method]);

/** Calls a library's mh_post_process once, at the end of a run. Params: PostProcessParams; result: PostProcessResult. */
export namespace PostProcessRequest {
	export const method = 'postProcess' as const;
	export const type = new RequestType<PostProcessParams, PostProcessResult, unknown>(method, ParameterStructures.byName);
}
