/**
 * Reads Content-Length frames from a Node stream and hands each decoded message to vscode-jsonrpc's
 * connection, as a MessageReader. The host's requests and the client's replies both come through it,
 * as both go out through FrameWriter (frame-writer.ts).
 *
 * Why not vscode-jsonrpc's StreamMessageReader: it decodes every body asynchronously behind a read
 * lock (a few promise turns per message, which is most of a small message's cost while the code is
 * still cold), joins a large body from its chunks only once the last one is in, and, given a header
 * block without a valid Content-Length, reports an error and then reads the next body as headers,
 * losing every later message. Here a body is decoded as soon as its last byte is in, without copying
 * when one chunk holds the whole frame and with one preallocated buffer when it does not; and bytes
 * that do not start a frame are dropped up to the next `Content-Length:` and reported, so one burst
 * of garbage costs an error reply, not the session.
 */
import type { Readable } from 'node:stream';
import { AbstractMessageReader, type DataCallback, type Disposable, type Message, type MessageReader } from 'vscode-jsonrpc';

/**
 * The largest body accepted, in bytes: 256 MiB. A larger Content-Length (or an absurd one, such as
 * 10^20) is refused at the header, instead of buffering toward it until memory runs out.
 */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/** A header block longer than this with no end in sight is garbage, not a slow header. */
const MAX_HEADER_BYTES = 8 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
const CONTENT_LENGTH = 'content-length:';
/** After this long inside one body, the reader reports that it is still waiting (as vscode-jsonrpc's does). */
const PARTIAL_MESSAGE_TIMEOUT_MS = 10_000;

/** Turns one body into a message; throws on a body that is not one. */
export type BodyDecoder = (body: Buffer) => Message;

/** JSON bodies (UTF-8), vscode-jsonrpc's default content type. */
export const decodeJsonBody: BodyDecoder = (body) => JSON.parse(body.toString('utf8')) as Message;

/** Options of {@link FrameReader}. */
export interface FrameReaderOptions {
	/** @default decodeJsonBody */
	decode?: BodyDecoder;
	/** Bodies above this many bytes are refused and skipped. @default MAX_MESSAGE_BYTES */
	maxMessageBytes?: number;
}

/** A MessageReader over Content-Length frames; decoding errors and dropped bytes arrive as onError. */
export class FrameReader extends AbstractMessageReader implements MessageReader {
	private readonly decode: BodyDecoder;
	private readonly maxMessageBytes: number;
	private callback: DataCallback | undefined;
	/** Bytes of a header block that is not complete yet. */
	private head: Buffer = Buffer.alloc(0);
	/** The body being filled, when a frame spans chunks. */
	private body: Buffer | undefined;
	private filled = 0;
	/** After a refused oversized header its body follows: dropped up to the next header without a report. */
	private skippingBody = false;
	private partialTimer: NodeJS.Timeout | undefined;

	constructor(
		private readonly input: Readable,
		options: FrameReaderOptions = {},
	) {
		super();
		this.decode = options.decode ?? decodeJsonBody;
		this.maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
	}

	listen(callback: DataCallback): Disposable {
		this.callback = callback;
		const onData = (chunk: Buffer): void => this.onData(chunk);
		const onError = (error: Error): void => this.fireError(error);
		const onClose = (): void => {
			this.clearPartialTimer();
			this.fireClose();
		};
		this.input.on('data', onData);
		this.input.on('error', onError);
		this.input.on('close', onClose);
		return {
			dispose: () => {
				this.input.off('data', onData);
				this.input.off('error', onError);
				this.input.off('close', onClose);
				this.clearPartialTimer();
			},
		};
	}

	override dispose(): void {
		this.clearPartialTimer();
		super.dispose();
	}

	private onData(chunk: Buffer): void {
		let data = chunk;
		let at = 0;
		while (at < data.length) {
			const body = this.body;
			if (body !== undefined) {
				const n = Math.min(body.length - this.filled, data.length - at);
				data.copy(body, this.filled, at, at + n);
				this.filled += n;
				at += n;
				if (this.filled === body.length) {
					this.body = undefined;
					this.clearPartialTimer();
					this.deliver(body);
				}
				continue;
			}
			if (this.head.length > 0) {
				data = Buffer.concat([this.head, data.subarray(at)]);
				at = 0;
				this.head = Buffer.alloc(0);
			}
			const end = data.indexOf(HEADER_END, at);
			if (end === -1) {
				const rest = data.subarray(at);
				if (rest.length > MAX_HEADER_BYTES) {
					data = this.dropUntilHeader(rest, rest.length);
					at = 0;
					continue;
				}
				this.head = Buffer.from(rest);
				return;
			}
			// latin1 maps bytes one to one, so string indexes are byte indexes.
			const length = contentLength(data.toString('latin1', at, end));
			const start = end + HEADER_END.length;
			if (length === REPEATED_LENGTH) {
				// Which of two lengths is right cannot be known; taking either may swallow the start of the
				// next frame, so the frame is refused and its body dropped up to the next header, unreported.
				this.fireError(new Error(`refused a message whose header block has more than one Content-Length header: ${JSON.stringify(data.toString('latin1', at, Math.min(end, at + 80)))}`));
				this.skippingBody = true;
				at = start;
				continue;
			}
			if (length === undefined) {
				data = this.dropUntilHeader(data.subarray(at), start - at);
				at = 0;
				continue;
			}
			if (length > this.maxMessageBytes) {
				this.fireError(new Error(`dropped a message of ${length} bytes: larger than the ${this.maxMessageBytes} bytes a message may have`));
				this.skippingBody = true;
				at = start;
				continue;
			}
			this.skippingBody = false;
			if (data.length - start >= length) {
				// The whole body is in this chunk: decoded in place, no copy.
				at = start + length;
				this.deliver(data.subarray(start, at));
				continue;
			}
			this.body = Buffer.allocUnsafe(length);
			this.filled = data.copy(this.body, 0, start);
			at = data.length;
			this.setPartialTimer();
		}
	}

	private deliver(body: Buffer): void {
		let message: Message;
		try {
			message = this.decode(body);
		} catch (error) {
			this.fireError(error);
			return;
		}
		try {
			this.callback?.(message);
		} catch (error) {
			// A consumer that throws on one message must not stop the reading of the next ones.
			this.fireError(error);
		}
	}

	/** Drops bytes of `data` up to the next `Content-Length:` after its start, or its first `limit` bytes; returns the rest. */
	private dropUntilHeader(data: Buffer, limit: number): Buffer {
		const text = data.toString('latin1', 0, limit).toLowerCase();
		const next = text.indexOf(CONTENT_LENGTH, 1);
		const drop = next > 0 ? next : limit;
		if (!this.skippingBody) {
			const preview = data.toString('latin1', 0, Math.min(drop, 60));
			this.fireError(new Error(`dropped ${drop} bytes that do not start a message (expected "Content-Length: N" then an empty line): ${JSON.stringify(preview)}`));
		}
		return data.subarray(drop);
	}

	private setPartialTimer(): void {
		this.clearPartialTimer();
		const started = Date.now();
		const fire = (): void => {
			this.firePartialMessage({ messageToken: 0, waitingTime: Date.now() - started });
			this.partialTimer = setTimeout(fire, PARTIAL_MESSAGE_TIMEOUT_MS).unref();
		};
		this.partialTimer = setTimeout(fire, PARTIAL_MESSAGE_TIMEOUT_MS).unref();
	}

	private clearPartialTimer(): void {
		if (this.partialTimer !== undefined) clearTimeout(this.partialTimer);
		this.partialTimer = undefined;
	}
}

const LENGTH_PREFIX = 'Content-Length: ';
const DIGITS = /^\d+$/;

/** A header name (an RFC 9110 token), a colon, and a value of visible characters, spaces and tabs. */
const HEADER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]*:[ \t\x21-\x7e\x80-\xff]*$/;

/** What {@link contentLength} returns for a header block with more than one Content-Length header. */
const REPEATED_LENGTH = -1;

/**
 * The Content-Length of a well-formed header block (`Name: value` lines), else undefined, or
 * REPEATED_LENGTH when the header appears more than once. Lines are held to the header syntax, so
 * garbage that happens to contain a colon is not taken for a header.
 */
function contentLength(header: string): number | undefined {
	// What our writers send: one line, `Content-Length: <digits>`.
	if (header.startsWith(LENGTH_PREFIX) && header.length <= LENGTH_PREFIX.length + 15 && DIGITS.test(header.slice(LENGTH_PREFIX.length))) {
		return Number(header.slice(LENGTH_PREFIX.length));
	}
	let length: number | undefined;
	for (const line of header.split('\r\n')) {
		if (!HEADER_LINE.test(line)) return undefined;
		const colon = line.indexOf(':');
		if (line.slice(0, colon).trim().toLowerCase() === 'content-length') {
			const value = line.slice(colon + 1).trim();
			if (!DIGITS.test(value)) return undefined;
			if (length !== undefined) return REPEATED_LENGTH;
			length = Number(value);
		}
	}
	return length;
}
