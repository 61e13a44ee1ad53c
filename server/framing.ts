/**
 * Content-Length framing over the protocol streams, for any body codec: vscode-jsonrpc's reader
 * behind a FrameGuard that drops garbage between frames and reports it as a read error, and a
 * FrameWriter that writes each frame with one system call.
 *
 * Knows no codec itself, so the host's start-up loads msgpackr only when it speaks msgpack
 * (importing it costs about 15 ms of a cold start, most of it probing for an optional native addon).
 */
import type { Readable, Writable } from 'node:stream';
import {
	AbstractMessageWriter,
	Emitter,
	StreamMessageReader,
	type ContentTypeDecoder,
	type DataCallback,
	type Disposable,
	type Event,
	type Message,
	type MessageReader,
	type MessageWriter,
	type PartialMessageInfo,
} from 'vscode-jsonrpc/node';
import type { Encoding } from '../protocol/handshake.js';
import { withPlainRecords } from '../protocol/json.js';
import { FrameGuard } from './frame-guard.js';

/** A reader and a writer speaking one encoding. */
export interface Transport {
	reader: MessageReader;
	writer: MessageWriter;
}

/** How bodies are encoded and decoded. */
export interface BodyCodec {
	/** Encodes one message synchronously. */
	encode(message: Message): Uint8Array;
	/** Decodes bodies; undefined means vscode-jsonrpc's own JSON decoder. */
	decoder?: ContentTypeDecoder;
}

/** JSON bodies as protocol/json.ts's encoder makes them (typed records as number arrays), but synchronously. */
export const JSON_CODEC: BodyCodec = {
	encode: (message) => Buffer.from(JSON.stringify(withPlainRecords(message)), 'utf8'),
};

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

/** Frames up to this size are copied into one buffer; larger ones are written corked, header then body. */
const SINGLE_BUFFER_LIMIT = 64 * 1024;

/**
 * Writes each message as one Content-Length frame. The body is encoded at once (so messages leave in
 * the order they were written, with no lock), and header and body are written corked, so the socket
 * hands both to the kernel in one writev. The promise settles when the frame is on the pipe, which
 * is what dispatch's maxParallelism 1 waits for before it serves the next request.
 */
export class FrameWriter extends AbstractMessageWriter implements MessageWriter {
	private errorCount = 0;

	constructor(
		private readonly output: Writable,
		private readonly encode: (message: Message) => Uint8Array,
	) {
		super();
		output.on('error', (error: Error) => this.fireError(error));
		output.on('close', () => this.fireClose());
	}

	write(message: Message): Promise<void> {
		let body: Uint8Array;
		try {
			body = this.encode(message);
		} catch (error) {
			this.fireError(error);
			return Promise.reject(error);
		}
		const header = `Content-Length: ${body.byteLength}\r\n\r\n`;
		return new Promise((resolve, reject) => {
			const done = (error: Error | null | undefined): void => {
				if (!error) return resolve();
				this.fireError(error, message, ++this.errorCount);
				reject(error);
			};
			const output = this.output;
			if (body.byteLength <= SINGLE_BUFFER_LIMIT) {
				// Small frames: one buffer, one plain write (cheaper than a writev of two pieces).
				const frame = Buffer.allocUnsafe(header.length + body.byteLength);
				frame.write(header, 0, 'latin1');
				frame.set(body, header.length);
				output.write(frame, done);
				return;
			}
			// Large frames: no copy of the body; corked, so header and body still go out in one writev.
			output.cork();
			output.write(header, 'latin1');
			output.write(body, done);
			output.uncork();
		});
	}

	end(): void {
		this.output.end();
	}
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
