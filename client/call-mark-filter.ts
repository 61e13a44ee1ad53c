/**
 * Takes the call and threads marks (protocol/call-mark.ts) out of a host's stderr as it arrives, and says
 * where each was. A mark may be split across chunks: a chunk's tail that could be the start of a mark is held
 * back until the next chunk shows whether it is one.
 */
import { CALL_MARK, THREADS_MARK } from '../protocol/call-mark.js';

const MARK = Buffer.from(CALL_MARK, 'latin1');
const THREADS = Buffer.from(THREADS_MARK, 'latin1');
/** What every mark starts with: a search for it finds both kinds in one pass. */
const PREFIX = commonPrefix(MARK, THREADS);

/** What the filter hands on: output bytes, and a call that began. */
export interface CallMarkSink {
	/** Bytes of output, marks removed. */
	output(bytes: Buffer): void;
	/** A request began: output after this was written while it ran. */
	callStarted(): void;
	/** A request left threads running in the host (see THREADS_MARK). */
	threadsLeftBehind?(): void;
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
		let from = 0;
		for (let at = data.indexOf(PREFIX); at !== -1; at = data.indexOf(PREFIX, from)) {
			const mark = startsWith(data, at, MARK) ? MARK : startsWith(data, at, THREADS) ? THREADS : undefined;
			if (mark === undefined) {
				// The prefix alone, or a mark cut off by the chunk's end (held back below): not a mark yet.
				from = at + 1;
				continue;
			}
			if (at > 0) this.sink.output(data.subarray(0, at));
			if (mark === MARK) this.sink.callStarted();
			else this.sink.threadsLeftBehind?.();
			data = data.subarray(at + mark.length);
			from = 0;
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
	const longest = Math.max(MARK.length, THREADS.length) - 1;
	for (let n = Math.min(longest, data.length); n > 0; n--) {
		const tail = data.subarray(data.length - n);
		if ((n < MARK.length && tail.equals(MARK.subarray(0, n))) || (n < THREADS.length && tail.equals(THREADS.subarray(0, n)))) return n;
	}
	return 0;
}

function startsWith(data: Buffer, at: number, mark: Buffer): boolean {
	return data.length - at >= mark.length && data.compare(mark, 0, mark.length, at, at + mark.length) === 0;
}

function commonPrefix(a: Buffer, b: Buffer): Buffer {
	let n = 0;
	while (n < a.length && n < b.length && a[n] === b[n]) n++;
	return a.subarray(0, n);
}
