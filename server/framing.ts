/**
 * Content-Length framing over the protocol streams, for any body codec: vscode-jsonrpc's reader
 * behind a FrameGuard that drops garbage between frames and reports it as a read error, and a
 * FrameWriter (protocol/node/frame-writer.ts, shared with the client) that writes each frame with one
 * system call.
 *
 * Knows no codec itself, so the host's start-up loads msgpackr only when it speaks msgpack
 * (importing it costs about 15 ms of a cold start, most of it probing for an optional native addon).
 */
import type { Readable, Writable } from 'node:stream';
import {
	Emitter,
	StreamMessageReader,
	type DataCallback,
	type Disposable,
	type Event,
	type MessageReader,
	type MessageWriter,
	type PartialMessageInfo,
} from 'vscode-jsonrpc/node';
import type { BodyCodec } from '../protocol/frame.js';
import type { Encoding } from '../protocol/handshake.js';
import { encodeJsonBody } from '../protocol/json.js';
import { FrameWriter } from '../protocol/node/frame-writer.js';
import { FrameGuard } from './frame-guard.js';

export { FrameWriter } from '../protocol/node/frame-writer.js';
export type { BodyCodec } from '../protocol/frame.js';

/** A reader and a writer speaking one encoding. */
export interface Transport {
	reader: MessageReader;
	writer: MessageWriter;
}

/** JSON bodies as protocol/json.ts's encoder makes them (typed records as number arrays), but synchronously. */
export const JSON_CODEC: BodyCodec = { encode: encodeJsonBody };

/** The codec of an encoding; msgpack's module (and msgpackr) is imported on first use only. */
export async function loadCodec(encoding: Encoding): Promise<BodyCodec> {
	if (encoding !== 'msgpack') return JSON_CODEC;
	const { msgpackDecoder, packMessage } = await import('../protocol/msgpack.js');
	return { encode: packMessage, decoder: msgpackDecoder };
}

/** Creates the reader and writer for `codec` over the given byte streams. */
export function createFramedTransport(codec: BodyCodec, input: Readable, output: Writable): Transport {
	const garbage = new Emitter<Error>();
	const guard = new FrameGuard((problem) => garbage.fire(new Error(problem)));
	input.pipe(guard);
	// pipe() ends the guard at the input's end (the reader then sees close); an input error ends it too.
	input.on('error', () => guard.end());
	const inner = codec.decoder ? new StreamMessageReader(guard, { contentTypeDecoder: codec.decoder }) : new StreamMessageReader(guard);
	return { reader: new GuardedReader(inner, garbage), writer: new FrameWriter(output, (message) => codec.encode(message)) };
}

/** The vscode-jsonrpc reader, with the guard's garbage reports merged into its errors. */
class GuardedReader implements MessageReader {
	private readonly errors = new Emitter<Error>();

	constructor(
		private readonly inner: MessageReader,
		garbage: Emitter<Error>,
	) {
		inner.onError((error) => this.errors.fire(error));
		garbage.event((error) => this.errors.fire(error));
	}

	get onError(): Event<Error> {
		return this.errors.event;
	}
	get onClose(): Event<void> {
		return this.inner.onClose;
	}
	get onPartialMessage(): Event<PartialMessageInfo> {
		return this.inner.onPartialMessage;
	}
	listen(callback: DataCallback): Disposable {
		return this.inner.listen(callback);
	}
	dispose(): void {
		this.inner.dispose();
		this.errors.dispose();
	}
}
