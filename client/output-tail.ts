/**
 * A bounded tail of a byte stream: keeps the last `limit` bytes the host wrote to stderr, so a crash
 * report can quote them without the client holding a chatty host's whole log.
 */

/** The last bytes of a stream. */
export class OutputTail {
	#chunks: Buffer[] = [];
	#bytes = 0;
	#dropped = false;

	constructor(readonly limit: number) {}

	/** Appends a chunk, dropping the oldest bytes past the limit. */
	push(chunk: Buffer): void {
		if (this.limit === 0) {
			this.#dropped ||= chunk.length > 0;
			return;
		}
		this.#chunks.push(chunk);
		this.#bytes += chunk.length;
		while (this.#bytes - this.#chunks[0].length >= this.limit) {
			this.#bytes -= this.#chunks.shift()!.length;
			this.#dropped = true;
		}
		// Merge once in a while so a stream of tiny writes does not keep thousands of buffers.
		if (this.#chunks.length > 64) this.#chunks = [Buffer.concat(this.#chunks)];
	}

	/** Forgets everything kept so far: the stream starts anew (a new call began on the host). */
	restart(): void {
		this.#chunks = [];
		this.#bytes = 0;
		this.#dropped = false;
	}

	/** True when bytes were dropped from the front. */
	get isTruncated(): boolean {
		return this.#dropped || this.#bytes > this.limit;
	}

	/** The tail as text; a character cut in half at the front is dropped rather than shown as U+FFFD. */
	text(): string {
		let bytes = Buffer.concat(this.#chunks);
		if (bytes.length > this.limit) bytes = bytes.subarray(bytes.length - this.limit);
		// Skip UTF-8 continuation bytes (10xxxxxx) left from a character whose start was cut off.
		let start = 0;
		if (this.isTruncated) while (start < bytes.length && start < 3 && (bytes[start] & 0xc0) === 0x80) start++;
		return bytes.subarray(start).toString('utf8');
	}
}
