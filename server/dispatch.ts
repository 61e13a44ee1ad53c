/**
 * The request loop: maps every protocol method to the registry, the loader or a library's backend;
 * the expand methods are served in the request lane (request-lane.ts), the others through a
 * vscode-jsonrpc connection behind it. The only module that knows both the wire and the
 * library model (server/library-model.ts).
 *
 * Params are checked here, at the edge (InvalidParams names the field). Requests are served one at a
 * time in arrival order, and the next one starts only once the previous reply has been written to the
 * pipe (the lane; maxParallelism 1 for the connection's own): a macro that kills the host can then never take an earlier reply with it,
 * which is what lets the client know which call was running. Malformed input (bad headers, bad bodies,
 * messages that are not JSON-RPC) is answered with an error and the host goes on serving.
 */
import { readFileSync } from 'node:fs';
import {
	createMessageConnection,
	ErrorCodes,
	Message,
	RequestType,
	ResponseError,
	type DataCallback,
	type Disposable,
	type Event,
	type MessageConnection,
	type MessageReader,
	type MessageWriter,
	type PartialMessageInfo,
} from 'vscode-jsonrpc/node';
import { requestSlot, type BulkOffer } from '../protocol/bulk.js';
import { MacroHostErrorCodes } from '../protocol/errors.js';
import { ExpandAttributeRequest, ExpandBatchRequest, ExpandDeriveRequest, ExpandInlineRequest, ExpandSourceRequest, PostProcessRequest } from '../protocol/methods.js';
import { type Encoding, type InitializeResult } from '../protocol/handshake.js';
import { ExitNotification, InitializeRequest, ShutdownRequest } from '../protocol/methods.js';
import { ListMacrosRequest, LoadLibraryRequest } from '../protocol/methods.js';
import { ABI_VERSION, PROTOCOL_VERSION, SERVER_NAME } from '../protocol/version.js';
import { BulkSlots, type WireExpansion } from './bulk-slots.js';
import { markBatchCallEnd, markCallEnd, markThreadsLeftBehind, setCallMarks, startBatchMarks } from './call-marks.js';
import { expandDerives } from './derives.js';
import { LibraryLoader } from './library-loader.js';
import { mapMaybe, type ExpandInput, type Expansion, type MacroTarget, type MaybePromise, type TokenSink } from './library-model.js';
import { LibraryLoadError } from './load-errors.js';
import { MacroLookupError, MacroRegistry } from './macro-registry.js';
import { serveBatch } from './batch.js';
import { serveSource } from './source-expansion.js';
import { RequestLane, type LaneHandler, type LaneMethod } from './request-lane.js';
import { repairStdio, type StdioParts } from './stdout-guard.js';
import { validateClientTimeout, validateWasmLimits } from './wasm/limits.js';
import { WasmSandbox, type WasmOptions } from './wasm/sandbox.js';
import {
	InvalidParamsError,
	validateExpandAttributeParams,
	validateExpandBatchParams,
	validateExpandDeriveParams,
	validateExpandInlineParams,
	validateExpandSourceParams,
	validateInitializeParams,
	validateLoadLibraryParams,
	validatePostProcessParams,
} from './validate-params.js';

/** Options of {@link serve}. */
export interface ServeOptions {
	/** The body encoding of the transport: decides how token records are written (number[] or Uint32Array). */
	encoding: Encoding;
	/** Writes one line to the host's log. @default a line on stderr prefixed "macro-host: " */
	log?: (line: string) => void;
	/** Limits of the wasm sandbox; `initialize` may override them. @default DEFAULT_WASM_OPTIONS */
	wasm?: Partial<WasmOptions>;
}

/** A running session. */
export interface Session {
	connection: MessageConnection;
	/** Resolves with the process exit code when `exit` arrives: 0 after `shutdown`, 1 without (as in LSP). */
	exited: Promise<number>;
}

/** Serves the protocol over `reader`/`writer` until `exit`. */
export function serve(reader: MessageReader, writer: MessageWriter, options: ServeOptions): Session {
	const log = options.log ?? ((line: string) => console.error(`macro-host: ${line}`));
	const sendError = (id: string | number | null, code: number, message: string): void => {
		writer.write({ jsonrpc: '2.0', id, error: { code, message } } as Message).catch(() => undefined);
	};
	// Bytes that cannot be framed or decoded: no id to answer to, so the error goes out with id null.
	// (The connection logs the error itself, see connection.onError below.)
	reader.onError((error) => sendError(null, ErrorCodes.ParseError, `Parse error: ${error.message}`));
	reader.onPartialMessage((info: PartialMessageInfo) => log(`waiting ${info.waitingTime} ms for the rest of a message`));

	const state = new SessionState();
	const registry = new MacroRegistry();
	// The expand methods are served in the request lane, without the connection (see request-lane.ts).
	const methods = expandMethods(state, registry, log, 'alone');
	// A batch's calls answer inline: their streams are small, and one slot per batch could not carry them all.
	const batchMethods = expandMethods(state, registry, log, 'batch');
	const sourceMethods = expandMethods(state, registry, log, 'source');
	methods.set(ExpandBatchRequest.method, {
		type: ExpandBatchRequest.type as unknown as RequestType<unknown, unknown, unknown>,
		serve: guard(ExpandBatchRequest.method, log, (raw: unknown) => {
			state.requireReady(ExpandBatchRequest.method);
			const { calls, id } = validateExpandBatchParams(raw);
			const word = id === undefined ? undefined : state.bulk?.batchProgress();
			startBatchMarks();
			const result = serveBatch(calls, batchMethods, word === undefined ? undefined : { word, id: id! });
			// Each call repaired fds 1 and 2; the protocol's fds matter only for the reply, so they are checked once, before it.
			// Each call also wrote its own call mark, the last one the batch's.
			const beforeReply = (): void => afterCall(ExpandBatchRequest.method, log, 'protocol', 'none');
			if (result instanceof Promise) return result.finally(beforeReply);
			beforeReply();
			return result;
		}, 'none'),
	});
	// A whole source: the engine runs here, and each call it makes goes to its method's own handler, served
	// inline with no call mark (ServeMode 'source'); the protocol's fds are checked once, before the reply.
	methods.set(ExpandSourceRequest.method, {
		type: ExpandSourceRequest.type as unknown as RequestType<unknown, unknown, unknown>,
		serve: guard(ExpandSourceRequest.method, log, (raw: unknown) => {
			state.requireReady(ExpandSourceRequest.method);
			const params = validateExpandSourceParams(raw);
			const word = params.id === undefined ? undefined : state.bulk?.batchProgress();
			return serveSource(params, sourceMethods, word === undefined ? undefined : { word, id: params.id! }).finally(() => afterCall(ExpandSourceRequest.method, log, 'protocol', 'none'));
		}, 'none'),
	});
	// After a batch's (or a source's) reply only its mark is left: its calls repaired fds 1 and 2 and counted
	// threads, and it checked the protocol's fds before replying.
	const lane = new RequestLane(methods, writer, (method) => (method === ExpandBatchRequest.method || method === ExpandSourceRequest.method ? markCallEnd() : afterCall(method, log)));
	const connection = createMessageConnection(new ValidatingReader(reader, lane, sendError, log), lane.connectionWriter, {
		error: (m) => log(m),
		warn: (m) => log(m),
		info: () => undefined,
		log: () => undefined,
	}, { maxParallelism: 1 });
	// Read errors (garbage, bad bodies) and write errors alike: log them and keep serving.
	connection.onError(([error]) => log(`transport error: ${error.message}`));
	connection.onUnhandledNotification((n) => log(`ignored unknown notification ${n.method}`));

	// Wasm calls are asynchronous (the wasm worker); maxParallelism 1 keeps them in arrival order too.
	const sandbox = new WasmSandbox(options.wasm, log);
	const loader = new LibraryLoader({ sandbox });

	connection.onRequest(InitializeRequest.type, guard(InitializeRequest.method, log, (raw) => {
		const params = validateInitializeParams(raw);
		if (params.protocolVersion !== PROTOCOL_VERSION) {
			throw new ResponseError(
				MacroHostErrorCodes.VersionMismatch,
				`protocol version mismatch: this host speaks version ${PROTOCOL_VERSION}, the client asked for ${JSON.stringify(params.protocolVersion) ?? 'none'}`,
				{ expected: PROTOCOL_VERSION, actual: params.protocolVersion },
			);
		}
		const fields = raw as { wasm?: unknown; requestTimeoutMs?: unknown };
		sandbox.configure({ ...validateWasmLimits(fields.wasm), ...validateClientTimeout(fields.requestTimeoutMs) });
		state.openBulk(params.bulk, log);
		setCallMarks(params.markCalls === true);
		state.initialized = true;
		const result: InitializeResult = {
			protocolVersion: PROTOCOL_VERSION,
			abiVersion: ABI_VERSION,
			serverInfo: { name: SERVER_NAME, version: serverVersion() },
			pid: process.pid,
			capabilities: { encoding: options.encoding, sandboxes: ['native', 'wasm'], postProcess: true, bulk: state.bulk !== undefined, batch: true, expandSource: true },
		};
		return result;
	}));
	connection.onRequest(ShutdownRequest.type, guard(ShutdownRequest.method, log, () => {
		state.shutdown = true;
		sandbox.dispose();
		return null;
	}));
	const exited = new Promise<number>((resolve) => {
		connection.onNotification(ExitNotification.type, () => resolve(state.shutdown ? 0 : 1));
	});

	connection.onRequest(LoadLibraryRequest.type, guard(LoadLibraryRequest.method, log, (raw) => {
		state.requireReady(LoadLibraryRequest.method);
		return mapMaybe(loader.load(validateLoadLibraryParams(raw).path), (library) => {
			registry.add(library);
			return library.info;
		});
	}));
	connection.onRequest(ListMacrosRequest.type, guard(ListMacrosRequest.method, log, () => {
		state.requireReady(ListMacrosRequest.method);
		return { libraries: registry.list() };
	}));
	connection.onRequest(PostProcessRequest.type, guard(PostProcessRequest.method, log, (raw) => {
		state.requireReady(PostProcessRequest.method);
		const p = validatePostProcessParams(raw);
		return mapMaybe(registry.library(p.library).backend.postProcess(p.auxData), (diagnostics) => ({ diagnostics }));
	}));

	connection.listen();
	return { connection, exited };
}

/**
 * How the expand methods are being served: `alone`, a lone request (the lane repairs fds and writes the
 * call mark once the reply is out); `batch`, a call of a batch (answers inline, fds 1 and 2 repaired after
 * each call, and its call mark when it wrote something: the client names a batch's culprit from the
 * progress file and shows the stderr after the last mark); `source`, a call the engine makes inside
 * expandSource (inline, fds 1 and 2 repaired after each call, no call marks: a crash there sends the
 * source back to the client, which runs it call by call, so no report ever needs one call's output).
 */
type ServeMode = 'alone' | 'batch' | 'source';

/**
 * The expand methods, by name, as the request lane serves them: params checked, the macro resolved
 * and called, the answer in its wire form (tokens may be a slot reference, see {@link WireExpansion}).
 */
function expandMethods(state: SessionState, registry: MacroRegistry, log: (line: string) => void, mode: ServeMode): Map<string, LaneMethod> {
	const methods = new Map<string, LaneMethod>();
	const inline = mode !== 'alone';
	const repair = inline ? 'stdio' : 'none';
	const mark = mode === 'alone' ? 'always' : mode === 'batch' ? 'if-written' : 'none';
	const add = <P>(request: { method: string; type: RequestType<P, unknown, unknown> }, serve: LaneHandler): void => {
		methods.set(request.method, { type: request.type as unknown as RequestType<unknown, unknown, unknown>, serve });
	};
	add(ExpandInlineRequest, guard(ExpandInlineRequest.method, log, (raw: unknown) => {
		state.requireReady(ExpandInlineRequest.method);
		const p = validateExpandInlineParams(raw, state.bulk);
		return state.answer(raw, inline, (sink) => expandOne(registry.resolve('inline', p.name, p.library), p, sink));
	}, repair, mark));
	add(ExpandAttributeRequest, guard(ExpandAttributeRequest.method, log, (raw: unknown) => {
		state.requireReady(ExpandAttributeRequest.method);
		const p = validateExpandAttributeParams(raw, state.bulk);
		return state.answer(raw, inline, (sink) => expandOne(registry.resolve('attribute', p.name, p.library), p, sink));
	}, repair, mark));
	add(ExpandDeriveRequest, guard(ExpandDeriveRequest.method, log, (raw: unknown) => {
		state.requireReady(ExpandDeriveRequest.method);
		const p = validateExpandDeriveParams(raw, state.bulk);
		// Resolve every name first, so an unknown derive fails the request before any macro runs.
		const targets = p.derives.map((name) => registry.resolve('derive', name, p.library));
		return state.answer(raw, inline, () => expandDerives(targets, p));
	}, repair, mark));
	return methods;
}

/** Expands one inline or attribute call in the library that provides it. */
function expandOne(target: MacroTarget, input: ExpandInput, sink: TokenSink | undefined): MaybePromise<Expansion> {
	return target.library.backend.expand(target.macro, input, sink);
}

/** Where the session is in its life (LSP's: before initialize, serving, shut down), and its bulk slots. */
class SessionState {
	initialized = false;
	shutdown = false;
	/** The client's slot files for large streams, when it offered them and this host can map them. */
	bulk: BulkSlots | undefined;

	/** Takes (or declines, saying why in the log) the client's bulk offer; a second initialize replaces the first's. */
	openBulk(offer: BulkOffer | undefined, log: (line: string) => void): void {
		this.bulk?.dispose();
		this.bulk = undefined;
		if (offer === undefined) return;
		const slots = BulkSlots.open(offer, log);
		if (typeof slots === 'string') log(`not using the bulk directory: ${slots}; every stream goes inline`);
		else this.bulk = slots;
	}

	/**
	 * An expansion for the wire: large tokens go back through the slot the request came in, or through
	 * an answer file when it came inline; `inline` keeps them in the answer (a batch's calls). The expand methods are registered by name (dispatch answers
	 * the wire form, a {@link WireExpansion}, which the client's transport resolves into an ExpandResult).
	 */
	answer(params: unknown, inline: boolean, expand: (sink: TokenSink | undefined) => MaybePromise<Expansion>): MaybePromise<Expansion | WireExpansion> {
		const bulk = this.bulk;
		if (bulk === undefined || inline) return expand(undefined);
		const slot = requestSlot(params);
		const sink = bulk.sink(slot);
		return mapMaybe(expand(sink), (e) => bulk.answer(e, slot, sink));
	}

	requireReady(method: string): void {
		if (this.shutdown) {
			throw new ResponseError(MacroHostErrorCodes.NotInitialized, `${method}: the host is shutting down (shutdown was received); only exit is accepted`);
		}
		if (!this.initialized) {
			throw new ResponseError(MacroHostErrorCodes.NotInitialized, `${method}: the host is not initialized; send initialize first`);
		}
	}
}

/**
 * Turns the host's own error types into JSON-RPC errors; anything else becomes InternalError and is
 * logged. Runs {@link afterCall} on the fds `repairAfter` names once the handler returns: all of them
 * for the requests of the connection; none for the lone expand requests, which the request lane repairs
 * itself right after writing the reply; fds 1 and 2 for each call of a batch, before the next call runs
 * (the batch checks the protocol's fds once, before its reply). `mark` says when the call mark follows.
 */
function guard<R>(
	method: string,
	log: (line: string) => void,
	handler: (params: unknown) => R,
	repairAfter: StdioParts | 'none' = 'all',
	mark: EndMark = 'always',
): (params: unknown) => R {
	const toResponseError = (error: unknown): ResponseError<unknown> => {
		if (error instanceof ResponseError) return error;
		if (error instanceof InvalidParamsError) return new ResponseError(ErrorCodes.InvalidParams, error.message);
		if (error instanceof LibraryLoadError || error instanceof MacroLookupError) {
			return new ResponseError(error.code, error.message, error.data);
		}
		const err = error as Error;
		log(`${method} failed: ${err.stack ?? err.message}`);
		return new ResponseError(ErrorCodes.InternalError, `${method} failed inside the host: ${err.message}`);
	};
	return (params) => {
		try {
			const value = handler(params);
			// Wasm work answers later: its failures are mapped the same way.
			if (value instanceof Promise) {
				return value.catch((error: unknown) => {
					throw toResponseError(error);
				}) as R;
			}
			return value;
		} catch (error) {
			throw toResponseError(error);
		} finally {
			if (repairAfter !== 'none') afterCall(method, log, repairAfter, mark);
		}
	};
}

/**
 * What runs after every request (and every call of a batch), before the next: a macro (or a library's
 * constructor) may have closed or redirected fd 1 or 2, or the protocol's fds, so they are repaired (and
 * logged); the threads mark is written when the request left threads running; and the call mark closes
 * the request's output (call-marks.ts), once fd 2 is sure to be the client's again.
 */
function afterCall(method: string, log: (line: string) => void, parts: StdioParts = 'all', mark: EndMark = 'always'): void {
	for (const repair of repairStdio(parts)) log(`${method}: ${repair}`);
	markThreadsLeftBehind();
	if (mark === 'always') markCallEnd();
	else if (mark === 'if-written') markBatchCallEnd();
}

/** When {@link afterCall} writes the call mark: always, only when the call wrote something (a batch's calls), or not at all. */
type EndMark = 'always' | 'if-written' | 'none';

let version: string | undefined;
/** The package version, read once from package.json (two levels up from dist/server/). */
function serverVersion(): string {
	if (version === undefined) {
		try {
			const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
			version = pkg.version ?? '0.0.0';
		} catch {
			version = '0.0.0';
		}
	}
	return version;
}

/** The start of a message's JSON, for the log; a message too deeply nested to print says so instead. */
function preview(message: unknown): string {
	try {
		return String(JSON.stringify(message)).slice(0, 200);
	} catch (error) {
		return `(not printable: ${(error as Error).message})`;
	}
}

/**
 * The connection's reader. Passes requests, notifications and responses to the request lane, which
 * serves the expand methods and hands the rest to the connection; answers anything else with
 * InvalidRequest (vscode-jsonrpc would only log it, and the client would wait forever for a reply).
 */
class ValidatingReader implements MessageReader {
	constructor(
		private readonly inner: MessageReader,
		private readonly lane: RequestLane,
		private readonly sendError: (id: string | number | null, code: number, message: string) => void,
		private readonly log: (line: string) => void,
	) {}

	get onError(): Event<Error> {
		return this.inner.onError;
	}
	get onClose(): Event<void> {
		return this.inner.onClose;
	}
	get onPartialMessage(): Event<PartialMessageInfo> {
		return this.inner.onPartialMessage;
	}

	listen(callback: DataCallback): Disposable {
		this.lane.forwardTo(callback);
		return this.inner.listen((message) => {
			const id = (message as { id?: unknown } | null)?.id;
			const replyId = typeof id === 'string' || typeof id === 'number' ? id : null;
			const version = (message as { jsonrpc?: unknown } | null)?.jsonrpc;
			if (version !== '2.0' && message !== null && typeof message === 'object' && !Array.isArray(message)) {
				// vscode-jsonrpc does not look at the field; a 1.0 request would be served as if it were 2.0.
				this.log(`invalid JSON-RPC message: ${preview(message)}`);
				this.sendError(replyId, ErrorCodes.InvalidRequest, `Invalid request: "jsonrpc" must be "2.0", got ${version === undefined ? 'none' : preview(version)}`);
				return;
			}
			if (Message.isRequest(message) || Message.isNotification(message) || Message.isResponse(message)) {
				this.lane.push(message);
				return;
			}
			this.log(`invalid JSON-RPC message: ${preview(message)}`);
			this.sendError(replyId, ErrorCodes.InvalidRequest, 'Invalid request: the message is not a JSON-RPC 2.0 request, notification or response');
		});
	}

	dispose(): void {
		this.inner.dispose();
	}
}
