/**
 * Takes the call marks (protocol/call-mark.ts) out of a host's stderr as it arrives, and says where each was.
 * A mark may be split across chunks: a chunk's tail that could be the start of a mark is held back until the
 * next chunk shows whether it is one.
 */
import { CALL_MARK } from '../protocol/call-mark.js';

const MARK = Buffer.from(CALL_MARK, 'latin1');

/** What the filter hands on: output bytes, and a call that began. */
export interface CallMarkSink {
	/** Bytes of output, marks removed. */
	output(bytes: Buffer): void;
	/** A request began: output after this was written while it ran. */
	callStarted(): void;
}

/** Removes call marks from a byte stream, chunk by chunk. */
export class CallMarkFilter {
	/** The end of the last chunk, when it is the start of a mark. */
	#held: Buffer | undefined;

	constructor(private readonly sink: CallMarkSink) {}

	/** Feeds one chunk. */
	push(chunk: Buffer): void {
		let data = this.#held === undefined ? chunk : Buffer.concat([this.#held, chunk]);
		this.#held = undefined;
		for (let at = data.indexOf(MARK); at !== -1; at = data.indexOf(MARK)) {
			if (at > 0) this.sink.output(data.subarray(0, at));
			this.sink.callStarted();
			data = data.subarray(at + MARK.length);
		}
		const partial = partialMarkAtEnd(data);
		if (partial > 0) {
			this.#held = Buffer.from(data.subarray(data.length - partial));
			data = data.subarray(0, data.length - partial);
		}
		if (data.length > 0) this.sink.output(data);
	}

	/** The stream ended: bytes held back as a possible mark were output after all. */
	end(): void {
		if (this.#held !== undefined) this.sink.output(this.#held);
		this.#held = undefined;
	}
}

/** How many bytes at the end of `data` are the first bytes of a mark (0 when none). */
function partialMarkAtEnd(data: Buffer): number {
	for (let n = Math.min(MARK.length - 1, data.length); n > 0; n--) {
		if (data.subarray(data.length - n).equals(MARK.subarray(0, n))) return n;
	}
	return 0;
}
