/**
 * Frames over the protocol streams: vscode-jsonrpc's Content-Length framing with JSON or msgpack
 * bodies, behind a FrameGuard that drops garbage between frames and reports it as a read error.
 */
import type { Readable, Writable } from 'node:stream';
import {
	Emitter,
	StreamMessageReader,
	StreamMessageWriter,
	type DataCallback,
	type Disposable,
	type Event,
	type MessageReader,
	type MessageWriter,
	type PartialMessageInfo,
} from 'vscode-jsonrpc/node';
import type { Encoding } from '../protocol/handshake.js';
import { jsonEncoder } from '../protocol/json.js';
import { msgpackDecoder, msgpackEncoder } from '../protocol/msgpack.js';
import { FrameGuard } from './frame-guard.js';

/** A reader and a writer speaking one encoding. */
export interface Transport {
	reader: MessageReader;
	writer: MessageWriter;
}

/** Creates the reader and writer for `encoding` over the given byte streams. */
export function createTransport(encoding: Encoding, input: Readable, output: Writable): Transport {
	const garbage = new Emitter<Error>();
	const guard = new FrameGuard((problem) => garbage.fire(new Error(problem)));
	input.pipe(guard);
	// pipe() ends the guard at the input's end (the reader then sees close); an input error ends it too.
	input.on('error', () => guard.end());
	const inner =
		encoding === 'msgpack'
			? new StreamMessageReader(guard, { contentTypeDecoder: msgpackDecoder })
			: new StreamMessageReader(guard);
	const writer = new StreamMessageWriter(output, { contentTypeEncoder: encoding === 'msgpack' ? msgpackEncoder : jsonEncoder });
	return { reader: new GuardedReader(inner, garbage), writer };
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
