/**
 * The JSON-RPC connection over a host's stdin and stdout: the host's own framing both ways, bulk
 * streams swapped in and out between the frames and the connection (client/bulk-channel.ts), a count
 * of every message delivered (so the exit path can tell when the last replies are dispatched), and
 * the line between a host's refusal and a transport that broke.
 */
import type { Readable, Writable } from 'node:stream';
import {
	ConnectionError,
	createMessageConnection,
	ErrorCodes,
	ResponseError,
	type DataCallback,
	type Disposable,
	type Message,
	type MessageConnection,
	type MessageReader,
	type RequestType,
	type RequestType0,
} from 'vscode-jsonrpc/node';
import { loadedCodec } from '../protocol/body-codecs.js';
import type { Encoding } from '../protocol/handshake.js';
import { LANE_METHODS } from '../protocol/methods.js';
import { FrameReader } from '../protocol/node/frame-reader.js';
import { FrameWriter } from '../protocol/node/frame-writer.js';
import type { BulkChannel } from './bulk-channel.js';
import { MacroHostRequestError } from './errors.js';
import { ExpandLane } from './expand-lane.js';

/** A request type with or without params, as the protocol declares them. */
export type AnyRequestType<P, R> = RequestType<P, R, unknown> | RequestType0<R, unknown>;

/** A host's connection, and the lane its expand requests take past it (expand-lane.ts). */
export interface HostConnection {
	readonly connection: MessageConnection;
	readonly lane: ExpandLane;
}

/**
 * A listening connection over the host's stdout (replies) and stdin (requests). `onProgress` runs
 * for every message read and every notification dispatched.
 */
export function connectHost(
	stdout: Readable,
	stdin: Writable,
	encoding: Encoding,
	bulk: BulkChannel | undefined,
	onProgress: () => void,
): HostConnection {
	// Loaded by Supervisor.start, before any host of this encoding is spawned.
	const codec = loadedCodec(encoding);
	// The host's framing both ways: each reply decoded as soon as it is in; one tick's requests in one write.
	const reader = new FrameReader(stdout, { decode: codec.decode });
	const encode = codec.encode;
	// Large streams leave through the slot files and come back from them (client/bulk-channel.ts).
	const writer = new FrameWriter(stdin, bulk ? (message) => encode(bulk.outgoing(message)) : encode, true);
	const incoming = bulk ? (message: Message) => bulk.incoming(message) : (message: Message) => message;
	const lane = new ExpandLane(writer, LANE_METHODS);
	reader.onClose(() => lane.close());
	const connection = createMessageConnection(new CountingReader(reader, onProgress, incoming, lane), writer);
	// Transport errors (EPIPE once the host is gone) are expected; the exit path reports the death.
	connection.onError(() => undefined);
	connection.onNotification(onProgress);
	connection.listen();
	return { connection, lane };
}

/** vscode-jsonrpc's own codes for a transport that failed; the host never answers with these. */
const TRANSPORT_ERROR_CODES: ReadonlySet<number> = new Set([
	ErrorCodes.MessageWriteError,
	ErrorCodes.MessageReadError,
	ErrorCodes.PendingResponseRejected,
	ErrorCodes.ConnectionInactive,
]);

/**
 * The host's JSON-RPC error as a MacroHostRequestError; undefined when `error` is a local transport
 * failure (the connection broke because the host is going away), which the exit path handles.
 */
export function toRequestError(method: string, error: unknown): MacroHostRequestError | undefined {
	if (error instanceof ConnectionError) return undefined;
	if (error instanceof ResponseError && !TRANSPORT_ERROR_CODES.has(error.code)) {
		return new MacroHostRequestError(method, error.code, error.message, error.data);
	}
	return undefined;
}

/** True when `error` is a write that failed before the message left (its params could not be encoded, or the pipe broke). */
export function isWriteFailure(error: unknown): error is ResponseError<unknown> {
	return error instanceof ResponseError && error.code === ErrorCodes.MessageWriteError;
}

/**
 * A MessageReader that reports each message it delivers, so the drain can see progress, and hands it
 * over as `transform` makes it: replies to the lane's requests settle there, the rest go to the connection.
 */
class CountingReader implements MessageReader {
	constructor(
		private readonly inner: MessageReader,
		private readonly onMessage: () => void,
		private readonly transform: (message: Message) => Message,
		private readonly lane: ExpandLane,
	) {}
	get onError() {
		return this.inner.onError;
	}
	get onClose() {
		return this.inner.onClose;
	}
	get onPartialMessage() {
		return this.inner.onPartialMessage;
	}
	listen(callback: DataCallback): Disposable {
		return this.inner.listen((message) => {
			this.onMessage();
			const delivered = this.transform(message);
			if (!this.lane.receive(delivered)) callback(delivered);
		});
	}
	dispose(): void {
		this.inner.dispose();
	}
}
