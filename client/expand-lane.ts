/**
 * The client's side of the request lane (server/request-lane.ts): expand requests leave straight
 * through the frame writer, with ids of their own, and their replies settle in the frame reader's
 * callback, in the turn that read them. vscode-jsonrpc's connection would add, per call, its pending
 * bookkeeping, an async executor and a `setImmediate` turn before the reply is dispatched: on a
 * 20-token call about as much client CPU as the host spends serving it.
 *
 * Everything else (initialize, loadLibrary, shutdown, notifications) still goes through the
 * connection. Replies come back in send order, and the supervisor relies on that ("an answer that
 * overtakes an older call means the host never got that one"): a lane reply settles at once, while the
 * connection dispatches its replies a turn later. So a request takes the lane only while no request
 * of the connection is unanswered; behind one, it goes through the connection too.
 *
 * Errors look as the connection's would: a failed write rejects with vscode-jsonrpc's
 * MessageWriteError, a closed or disposed lane with its ConnectionError, and a host's error reply with
 * a ResponseError, so toRequestError and isWriteFailure (host-connection.ts) read them alike.
 */
import { ConnectionError, ConnectionErrors, ErrorCodes, ResponseError, type Message, type MessageWriter, type ResponseMessage } from 'vscode-jsonrpc/node';

/**
 * Lane ids are negative: vscode-jsonrpc numbers its own requests from 0 upward, so a reply's id says
 * which side sent the request.
 */
const FIRST_LANE_ID = -1;

interface LaneCall {
	readonly method: string;
	readonly resolve: (value: unknown) => void;
	readonly reject: (error: Error) => void;
}

/** Sends expand requests past the connection and settles their replies; see the module comment. */
export class ExpandLane {
	readonly #writer: MessageWriter;
	readonly #methods: ReadonlySet<string>;
	readonly #pending = new Map<number, LaneCall>();
	#nextId = FIRST_LANE_ID;
	// Requests of the connection not answered yet: while there is one, the lane is not used.
	#connectionRequests = 0;
	#closed: ConnectionError | undefined;

	/**
	 * @param writer the connection's writer: both sides write through it, so requests leave in the order they were made.
	 * @param methods the methods that may take the lane.
	 */
	constructor(writer: MessageWriter, methods: ReadonlySet<string>) {
		this.#writer = writer;
		this.#methods = methods;
	}

	/** True when a request for `method` may take the lane now (see the module comment). */
	takes(method: string): boolean {
		return this.#connectionRequests === 0 && this.#methods.has(method);
	}

	/** Counts a request sent through the connection until `answered` settles. */
	trackConnectionRequest(answered: Promise<unknown>): void {
		this.#connectionRequests++;
		const done = (): void => {
			this.#connectionRequests--;
		};
		answered.then(done, done);
	}

	/** Sends a request; settles with its reply (see the module comment for the errors). */
	send(method: string, params: unknown): Promise<unknown> {
		if (this.#closed !== undefined) return Promise.reject(this.#closed);
		const id = this.#nextId--;
		return new Promise<unknown>((resolve, reject) => {
			this.#pending.set(id, { method, resolve, reject });
			const request = { jsonrpc: '2.0', id, method, params } as Message;
			this.#writer.write(request).catch((error: unknown) => {
				// The connection says it this way too: the params could not be encoded, or the pipe broke.
				if (!this.#pending.delete(id)) return;
				reject(new ResponseError(ErrorCodes.MessageWriteError, error instanceof Error && error.message ? error.message : 'Unknown reason'));
			});
		});
	}

	/**
	 * Settles the lane's request that `message` answers and returns true; false for any message the
	 * connection should have (a request, a notification, a reply to one of its own requests).
	 */
	receive(message: Message): boolean {
		// Not Message.isResponse: it takes a reply with neither result nor error for no reply at all, and the
		// connection would then drop it and leave the call waiting for its timeout.
		const id = (message as { id?: unknown }).id;
		if (typeof id !== 'number' || id >= 0 || 'method' in message) return false;
		const call = this.#pending.get(id);
		// A reply to a call already given up on (the lane was disposed): nothing waits for it.
		if (call === undefined) return true;
		this.#pending.delete(id);
		settle(call, message as ResponseMessage);
		return true;
	}

	/** The host's output closed: later sends reject at once, as the connection's do (unanswered ones wait for dispose, as there). */
	close(): void {
		this.#closed ??= new ConnectionError(ConnectionErrors.Closed, 'Connection is closed.');
	}

	/** Rejects every unanswered request as the connection does when it is disposed; later sends reject at once. */
	dispose(): void {
		this.#closed = new ConnectionError(ConnectionErrors.Disposed, 'Connection is disposed.');
		const rejected = new ResponseError(ErrorCodes.PendingResponseRejected, 'Pending response rejected since connection got disposed');
		const calls = [...this.#pending.values()];
		this.#pending.clear();
		for (const call of calls) call.reject(rejected);
	}
}

function settle(call: LaneCall, reply: ResponseMessage): void {
	const error = reply.error;
	if (error !== undefined && error !== null) {
		call.reject(new ResponseError(error.code, error.message, error.data));
	} else if (reply.result === undefined) {
		call.reject(new ResponseError(ErrorCodes.InternalError, `the host's reply to ${call.method} has neither a result nor an error`));
	} else {
		call.resolve(reply.result);
	}
}
