/**
 * Keeps the input framing in sync. vscode-jsonrpc's reader, given a header block without a valid
 * Content-Length, reports an error but then reads the next body as headers, and every later message
 * is lost in the same way: one burst of garbage would wedge the session. This transform sits in
 * front of it, passes well-formed frames through untouched, and drops bytes that do not start a
 * frame (up to the next `Content-Length:`), reporting each drop so the client gets an error reply.
 */
import { Transform, type TransformCallback } from 'node:stream';

/**
 * The largest body the host accepts, in bytes: 256 MiB. A larger Content-Length (or an absurd one,
 * such as 10^20) is refused at the header, instead of buffering toward it until memory runs out.
 */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/** A header block longer than this with no end in sight is garbage, not a slow header. */
const MAX_HEADER_BYTES = 8 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
const CONTENT_LENGTH = 'content-length:';

/** Passes frames through; calls `onGarbage` with a sentence for every run of bytes it drops. */
export class FrameGuard extends Transform {
	private pending: Buffer = Buffer.alloc(0);
	private bodyLeft = 0;
	// After a refused oversized header its body follows: dropped without a report per chunk.
	private skippingBody = false;

	constructor(private readonly onGarbage: (problem: string) => void) {
		super();
	}

	override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
		let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
		this.pending = Buffer.alloc(0);
		while (data.length > 0) {
			if (this.bodyLeft > 0) {
				const n = Math.min(this.bodyLeft, data.length);
				this.push(data.subarray(0, n));
				this.bodyLeft -= n;
				data = data.subarray(n);
				continue;
			}
			const end = data.indexOf(HEADER_END);
			if (end === -1) {
				this.pending = data.length > MAX_HEADER_BYTES ? this.dropUntilHeader(data, data.length) : data;
				break;
			}
			// latin1 maps bytes one to one, so string indexes are byte indexes.
			const header = data.toString('latin1', 0, end);
			const length = contentLength(header);
			if (length !== undefined && length > MAX_MESSAGE_BYTES) {
				this.onGarbage(`dropped a message of ${length} bytes: larger than the ${MAX_MESSAGE_BYTES} bytes a message may have`);
				this.skippingBody = true;
				data = data.subarray(end + HEADER_END.length);
				continue;
			}
			if (length !== undefined) {
				this.skippingBody = false;
				this.push(data.subarray(0, end + HEADER_END.length));
				this.bodyLeft = length;
				data = data.subarray(end + HEADER_END.length);
				continue;
			}
			data = this.dropUntilHeader(data, end + HEADER_END.length);
		}
		callback();
	}

	/** Drops bytes up to the next `Content-Length:` after the start, or the first `limit` bytes. */
	private dropUntilHeader(data: Buffer, limit: number): Buffer {
		const text = data.toString('latin1', 0, limit).toLowerCase();
		const next = text.indexOf(CONTENT_LENGTH, 1);
		const drop = next > 0 ? next : limit;
		const preview = data.toString('latin1', 0, Math.min(drop, 60));
		if (this.skippingBody) return data.subarray(drop);
		this.onGarbage(`dropped ${drop} bytes that do not start a message (expected "Content-Length: N" then an empty line): ${JSON.stringify(preview)}`);
		return data.subarray(drop);
	}
}

/** A header name (an RFC 9110 token), a colon, and a value of visible characters, spaces and tabs. */
const HEADER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]*:[ \t\x21-\x7e\x80-\xff]*$/;

/**
 * The Content-Length of a well-formed header block (`Name: value` lines), else undefined. Lines are
 * held to the header syntax, so garbage that happens to contain a colon is not taken for a header.
 */
function contentLength(header: string): number | undefined {
	let length: number | undefined;
	for (const line of header.split('\r\n')) {
		if (!HEADER_LINE.test(line)) return undefined;
		const colon = line.indexOf(':');
		if (line.slice(0, colon).trim().toLowerCase() === 'content-length') {
			const value = line.slice(colon + 1).trim();
			if (!/^\d+$/.test(value)) return undefined;
			length = Number(value);
		}
	}
	return length;
}
