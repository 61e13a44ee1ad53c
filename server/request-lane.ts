/**
 * The host's request lane: every message the reader delivers passes through it, in arrival order,
 * and it serves one request at a time. The expand methods (most of what a host answers, small calls
 * above all) are served in the lane itself: the decoded params go to the handler and its answer
 * straight to the writer, in the same turn of the event loop that read the request, with no promise,
 * timer or bookkeeping of vscode-jsonrpc's connection on the way. Every other message goes to that
 * connection, and the lane holds the next request until the connection's reply is written.
 *
 * Architecture invariant: a request starts only once the previous request's reply is on the pipe.
 * A macro that kills the host can then never take an earlier reply with it, which is what lets the
 * client know which call was running. A reply the pipe took at once (the usual case) lets the next
 * request start at once; one that had to wait in the stream holds the lane until it is written.
 */
import { ErrorCodes, Message, ParameterStructures, ResponseError, type Event, type RequestType, type MessageWriter, type RequestMessage, type ResponseMessage } from 'vscode-jsonrpc';
import type { MaybePromise } from './library-model.js';

/**
 * Serves one method in the lane: its result, now or later; a ResponseError (thrown or rejected)
 * becomes the error reply.
 */
export type LaneHandler = (params: unknown) => MaybePromise<unknown>;

/** A method the lane serves: its request type (for the shape of its params) and its handler. */
export interface LaneMethod {
	readonly type: RequestType<unknown, unknown, unknown>;
	readonly serve: LaneHandler;
}

/** A writer that can say whether everything written so far has reached the pipe (FrameWriter). */
interface FlushAware {
	readonly pendingBytes: number;
}

/** Serves requests in arrival order; see the module comment. */
export class RequestLane {
	/** Messages not served yet, from `#next` on. */
	#queue: (Message | undefined)[] = [];
	#next = 0;
	/** A request is being served (a reply not yet written, or a generic request the connection has not answered). */
	#busy = false;
	#draining = false;
	/** The id of the request handed to the connection, until its reply is written. */
	#forwardedId: string | number | undefined;
	#forward: ((message: Message) => void) | undefined;
	readonly #release = (): void => {
		this.#busy = false;
		this.#drain();
	};

	/**
	 * @param methods the methods served in the lane, by name; requests for them never reach the connection.
	 * @param writer where replies go (the connection writes through {@link connectionWriter}, which wraps it).
	 * @param afterReply runs after each reply of the lane is written and before the next request starts
	 * (the stdio repair: off the round trip's path, yet before the next macro runs).
	 */
	constructor(
		private readonly methods: ReadonlyMap<string, LaneMethod>,
		private readonly writer: MessageWriter,
		private readonly afterReply: (method: string) => void = () => undefined,
	) {}

	/** Where messages the lane does not serve go: the connection's reader callback. */
	forwardTo(callback: (message: Message) => void): void {
		this.#forward = callback;
	}

	/** Takes the next message from the reader. */
	push(message: Message): void {
		this.#queue.push(message);
		this.#drain();
	}

	/** The writer the connection writes through: it frees the lane once the forwarded request's reply is out. */
	get connectionWriter(): MessageWriter {
		return new LaneWriter(this.writer, (response, written) => this.#onConnectionReply(response, written));
	}

	#drain(): void {
		if (this.#draining) return;
		this.#draining = true;
		let failure: { error: unknown } | undefined;
		try {
			while (!this.#busy && this.#next < this.#queue.length) {
				const queue = this.#queue;
				const message = queue[this.#next]!;
				queue[this.#next++] = undefined;
				// Emptied: start again at the front, so the array does not grow for the session's life.
				if (this.#next === queue.length) {
					queue.length = 0;
					this.#next = 0;
				}
				try {
					this.#serve(message);
				} catch (error) {
					// The connection threw on a message (a $/cancelRequest without an id does): the messages
					// behind it are still served, and the first error goes to the reader, which reports it.
					failure ??= { error };
				}
			}
		} finally {
			this.#draining = false;
		}
		if (failure !== undefined) throw failure.error;
	}

	#serve(message: Message): void {
		if (!Message.isRequest(message)) {
			// vscode-jsonrpc's own notifications ($/cancelRequest, $/setTrace, $/progress) mean nothing to a
			// host that serves one request at a time, and a malformed one (a $/cancelRequest without an id)
			// throws inside the connection's queue, which then stalls until another message comes: with a
			// request of the lane waiting on the connection, none would. They are dropped here.
			if (Message.isNotification(message) && message.method.startsWith('$/')) return;
			// Other notifications and responses hold nothing up: the connection handles them in its own order.
			this.#forward?.(message);
			return;
		}
		const method = this.methods.get(message.method);
		if (method === undefined) {
			this.#busy = true;
			this.#forwardedId = message.id ?? undefined;
			try {
				this.#forward?.(message);
			} catch (error) {
				// Not taken: no reply will come for it.
				this.#busy = false;
				this.#forwardedId = undefined;
				throw error;
			}
			return;
		}
		this.#serveHere(message, method);
	}

	#serveHere(request: RequestMessage, method: LaneMethod): void {
		const id = request.id;
		let value: unknown;
		try {
			value = method.serve(paramsOf(request, method.type));
		} catch (error) {
			this.#reply(request.method, { jsonrpc: '2.0', id, error: toErrorObject(request.method, error) });
			return;
		}
		if (!(value instanceof Promise)) {
			this.#reply(request.method, { jsonrpc: '2.0', id, result: value ?? null });
			return;
		}
		// Answered later (a wasm macro runs in its worker): nothing else starts meanwhile.
		this.#busy = true;
		value.then(
			(result: unknown) => this.#reply(request.method, { jsonrpc: '2.0', id, result: result ?? null }, true),
			(error: unknown) => this.#reply(request.method, { jsonrpc: '2.0', id, error: toErrorObject(request.method, error) }, true),
		);
	}

	/** Writes a reply, then runs afterReply; the lane goes on now when the pipe took it whole, else once it is written. */
	#reply(method: string, response: ResponseMessage, releaseAfter = false): void {
		const written = this.writer.write(response);
		this.afterReply(method);
		if (isFlushed(this.writer)) {
			if (releaseAfter) this.#release();
			return;
		}
		this.#busy = true;
		written.then(this.#release, this.#release);
	}

	#onConnectionReply(response: Message, written: Promise<void>): void {
		if (!Message.isResponse(response) || this.#forwardedId === undefined || response.id !== this.#forwardedId) return;
		this.#forwardedId = undefined;
		if (isFlushed(this.writer)) this.#release();
		else written.then(this.#release, this.#release);
	}
}

/**
 * The params of a request, held to its type's shape as vscode-jsonrpc's connection holds them (and
 * refused with its words): present when the method takes any, an object when they go by name.
 */
function paramsOf(request: RequestMessage, type: RequestType<unknown, unknown, unknown>): unknown {
	const params = request.params;
	if (params === undefined && type.numberOfParams !== 0) {
		throw new ResponseError(ErrorCodes.InvalidParams, `Request ${request.method} defines ${type.numberOfParams} params but received none.`);
	}
	if (Array.isArray(params) && type.parameterStructures === ParameterStructures.byName) {
		throw new ResponseError(ErrorCodes.InvalidParams, `Request ${request.method} defines parameters by name but received parameters by position`);
	}
	return params;
}

/** The JSON-RPC error object of a handler's failure (guard() in dispatch.ts makes them ResponseErrors). */
export function toErrorObject(method: string, error: unknown): ResponseMessage['error'] {
	if (error instanceof ResponseError) return error.toJson();
	return { code: ErrorCodes.InternalError, message: `${method} failed inside the host: ${(error as Error)?.message ?? String(error)}` };
}

/** True when the writer can tell, and says, that nothing it was given waits in memory. */
function isFlushed(writer: MessageWriter): boolean {
	const pending = (writer as Partial<FlushAware>).pendingBytes;
	return pending === 0;
}

/** The connection's writer: writes through to the lane's, and reports each message written. */
class LaneWriter implements MessageWriter {
	constructor(
		private readonly inner: MessageWriter,
		private readonly onWrite: (message: Message, written: Promise<void>) => void,
	) {}
	get onError(): Event<[Error, Message | undefined, number | undefined]> {
		return this.inner.onError;
	}
	get onClose(): Event<void> {
		return this.inner.onClose;
	}
	write(message: Message): Promise<void> {
		const written = this.inner.write(message);
		this.onWrite(message, written);
		return written;
	}
	end(): void {
		this.inner.end();
	}
	dispose(): void {
		this.inner.dispose();
	}
}
