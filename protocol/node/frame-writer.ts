/**
 * Writes Content-Length frames to a Node stream, one write per message. The host's replies and the
 * client's requests both go through it. It lives in protocol/node/ (outside protocol/'s no-Node
 * compile, as vscode-jsonrpc splits common/ from node/) so that the client and the host share it
 * without the client importing server/.
 *
 * Why not vscode-jsonrpc's StreamMessageWriter: it encodes each body asynchronously behind a write
 * lock and then writes the header and the body as two writes, awaiting the first; every message
 * then costs two system calls, two wake-ups of the reader and a few promise turns of the lock.
 */
import type { Writable } from 'node:stream';
import { AbstractMessageWriter, type Message, type MessageWriter } from 'vscode-jsonrpc';
import { encodeFrame, frameHeader, SINGLE_BUFFER_LIMIT } from '../frame.js';

/**
 * Writes each message as one Content-Length frame. The body is encoded at once (so messages leave in
 * the order they were written, with no lock), as bytes or as text: up to {@link SINGLE_BUFFER_LIMIT}
 * bytes the frame is one buffer and one write; above it, header and body are written corked (one
 * writev, no copy of a large body). The promise settles when the frame is on the pipe, which the host's dispatch
 * (maxParallelism 1) waits for before it serves the next request.
 */
export class FrameWriter extends AbstractMessageWriter implements MessageWriter {
	private errorCount = 0;
	/** Bytes written since the stream was corked for this tick; 0 when it is not corked. */
	private coalescedBytes = 0;
	private corkedUntilNextTick = false;
	/** A frame already went out uncorked in this tick: the next ones of the tick are batched. */
	private wroteInThisTick = false;

	/**
	 * @param coalesce write the frames of one event-loop tick after its first together, in one writev: for a client
	 * that sends many requests at once (a build expanding a file), one system call and one wake-up of
	 * the host instead of one per request. Every {@link SINGLE_BUFFER_LIMIT} bytes the batch goes out,
	 * so that the host starts on a large burst while the rest of it is still being encoded. Not for the
	 * host: a reply must be on the pipe before the next macro runs, and it only ever has one to write.
	 */
	constructor(
		private readonly output: Writable,
		private readonly encode: (message: Message) => Uint8Array | string,
		private readonly coalesce = false,
	) {
		super();
		output.on('error', (error: Error) => this.fireError(error));
		output.on('close', () => this.fireClose());
	}

	write(message: Message): Promise<void> {
		let body: Uint8Array | string;
		try {
			body = this.encode(message);
		} catch (error) {
			this.fireError(error);
			return Promise.reject(error);
		}
		return new Promise((resolve, reject) => {
			const done = (error: Error | null | undefined): void => {
				if (!error) return resolve();
				this.fireError(error, message, ++this.errorCount);
				reject(error);
			};
			const output = this.output;
			if (this.coalesce) this.coalesceUntilNextTick(typeof body === 'string' ? body.length : body.byteLength);
			if (typeof body === 'string') {
				// Text is encoded by the stream as it writes: one copy, made where it is needed.
				const bytes = Buffer.byteLength(body, 'utf8');
				if (bytes <= SINGLE_BUFFER_LIMIT) {
					output.write(frameHeader(bytes) + body, 'utf8', done);
					return;
				}
				output.cork();
				output.write(frameHeader(bytes), 'latin1');
				output.write(body, 'utf8', done);
				output.uncork();
				return;
			}
			if (body.byteLength <= SINGLE_BUFFER_LIMIT) {
				output.write(encodeFrame(body), done);
				return;
			}
			output.cork();
			output.write(frameHeader(body.byteLength), 'latin1');
			output.write(body, done);
			output.uncork();
		});
	}

	/**
	 * Corks the stream until the next tick (or until a batch is full), before a frame of about `size`
	 * bytes. The first frame of a tick is not corked: a lone request (a sequential caller) goes out
	 * at once instead of waiting for the next tick, which cost 34-41 us a call; only the frames
	 * written after it in the same tick are batched, so a burst costs one more write, not one per frame.
	 */
	private coalesceUntilNextTick(size: number): void {
		if (!this.wroteInThisTick) {
			this.wroteInThisTick = true;
			process.nextTick(() => {
				this.wroteInThisTick = false;
			});
			return;
		}
		const output = this.output;
		if (this.corkedUntilNextTick && this.coalescedBytes + size > SINGLE_BUFFER_LIMIT) {
			// A full batch: out now, and a new one starts with this frame.
			output.uncork();
			output.cork();
			this.coalescedBytes = 0;
		}
		this.coalescedBytes += size;
		if (this.corkedUntilNextTick) return;
		this.corkedUntilNextTick = true;
		output.cork();
		process.nextTick(() => {
			this.corkedUntilNextTick = false;
			this.coalescedBytes = 0;
			output.uncork();
		});
	}

	/**
	 * Bytes written but still waiting in the stream's memory; 0 once the pipe took everything. The
	 * host's request lane reads it right after writing a reply: 0 means the reply is on the pipe.
	 */
	get pendingBytes(): number {
		return this.output.writableLength;
	}

	end(): void {
		this.output.end();
	}
}
