/**
 * Newline-delimited JSON over a pair of streams, with flow control that neither deadlocks nor grows without bound.
 *
 * Reading: lines are cut from the input as it arrives and handed to `onLine` one by one; a `\r` before the newline is
 * dropped, and a line longer than `maxLineBytes` is dropped (and logged) without being kept in memory. Writing: one
 * response is one `write` of its JSON text and a newline, so responses never interleave.
 *
 * Flow control: Scarb's server once deadlocked when both sides stopped reading each other (scarb#3183): its workers
 * could not hand over answers while the client was busy writing requests. Here input keeps being read while the client
 * is not reading answers, so a client that writes all its requests before it reads is served; but only up to two
 * limits, past which the input is paused until the backlog shrinks, so memory stays bounded:
 * - `maxPendingRequests` requests read but not answered yet;
 * - `maxBufferedOutputBytes` bytes of answers written but not taken by the client yet.
 * Each pause is logged once with the limit that caused it.
 */
import type { Readable, Writable } from 'node:stream';

/** The bounds of {@link NdjsonTransport}. */
export interface TransportLimits {
	/**
	 * Requests read but not answered yet; at this many, input is not read until one is answered.
	 * @default 4096
	 */
	readonly maxPendingRequests: number;
	/**
	 * Bytes of answers the client has not read yet; past this, input is not read until the client catches up.
	 * @default 64 MiB
	 */
	readonly maxBufferedOutputBytes: number;
	/**
	 * The longest line read; a longer one is dropped.
	 * @default 256 MiB
	 */
	readonly maxLineBytes: number;
}

/** The limits used when none are given. */
export const DEFAULT_TRANSPORT_LIMITS: TransportLimits = {
	maxPendingRequests: 4096,
	maxBufferedOutputBytes: 64 * 1024 * 1024,
	maxLineBytes: 256 * 1024 * 1024,
};

/** What the transport calls. */
export interface TransportHandlers {
	/** One line, without its newline; the transport counts the request as pending until the promise settles. */
	onLine(line: string): Promise<void> | undefined;
	/** A sentence for the log (stderr). */
	log(message: string): void;
}

const NEWLINE = 0x0a;
const CR = '\r';

/** One NDJSON connection; see the module comment. */
export class NdjsonTransport {
	readonly #partial: Buffer[] = [];
	#partialBytes = 0;
	#isDiscarding = false;
	#pending = 0;
	#isPaused = false;
	#isInputDone = false;
	#isOutputBroken = false;
	#isFinishing = false;
	/** The unread rest of a chunk, while the input is paused in its middle. */
	#held: Buffer | undefined;
	/** The input ended while a chunk was held. */
	#pendingEnd = false;
	readonly #done: Promise<void>;
	#finish!: () => void;

	constructor(
		private readonly input: Readable,
		private readonly output: Writable,
		private readonly handlers: TransportHandlers,
		private readonly limits: TransportLimits = DEFAULT_TRANSPORT_LIMITS,
	) {
		this.#done = new Promise((resolve) => (this.#finish = resolve));
	}

	/**
	 * Starts reading. Resolves once the input has ended (or the output broke) and every request read was answered and
	 * its answer handed to the output.
	 */
	run(): Promise<void> {
		this.input.on('data', (chunk: Buffer) => this.#onData(chunk));
		this.input.once('end', () => this.#onInputEnd());
		this.input.once('error', (error) => {
			this.handlers.log(`reading stdin failed (${error.message}); no more requests are read`);
			this.#onInputEnd();
		});
		this.output.on('error', (error) => {
			if (!this.#isOutputBroken) this.handlers.log(`writing stdout failed (${error.message}); the client is gone, shutting down`);
			this.#isOutputBroken = true;
			this.input.destroy();
			this.#finish();
		});
		this.output.on('drain', () => this.#updateFlow());
		return this.#done;
	}

	/** Writes one message as a line. */
	send(message: unknown): void {
		if (this.#isOutputBroken) return;
		this.output.write(`${JSON.stringify(message)}\n`);
		this.#updateFlow();
	}

	#onData(chunk: Buffer): void {
		// A paused stream emits nothing, so nothing should be held here; if something is, it still comes first.
		this.#held = this.#held === undefined ? chunk : Buffer.concat([this.#held, chunk]);
		this.#readHeld();
	}

	/**
	 * Serves the lines of the held chunk one by one, checking the limits after each, so a chunk of many lines cannot
	 * take the server past them: when the input pauses, the rest of the chunk is held until it resumes.
	 */
	#readHeld(): void {
		const chunk = this.#held;
		this.#held = undefined;
		if (chunk === undefined) return;
		let start = 0;
		for (let newline = chunk.indexOf(NEWLINE); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
			this.#append(chunk.subarray(start, newline));
			this.#endLine();
			start = newline + 1;
			this.#updateFlow();
			if (this.#isPaused) {
				if (start < chunk.length) this.#held = chunk.subarray(start);
				return;
			}
		}
		if (start < chunk.length) this.#append(chunk.subarray(start));
		this.#updateFlow();
	}

	#append(piece: Buffer): void {
		if (this.#isDiscarding || piece.length === 0) return;
		if (this.#partialBytes + piece.length > this.limits.maxLineBytes) {
			this.handlers.log(`a line longer than ${this.limits.maxLineBytes} bytes was dropped (the limit of one request)`);
			this.#isDiscarding = true;
			this.#partial.length = 0;
			this.#partialBytes = 0;
			return;
		}
		// Copied, so that a short partial line does not keep its whole chunk alive.
		this.#partial.push(Buffer.from(piece));
		this.#partialBytes += piece.length;
	}

	#endLine(): void {
		if (this.#isDiscarding) {
			this.#isDiscarding = false;
			return;
		}
		let line = this.#partial.length === 1 ? this.#partial[0].toString('utf8') : Buffer.concat(this.#partial, this.#partialBytes).toString('utf8');
		this.#partial.length = 0;
		this.#partialBytes = 0;
		if (line.endsWith(CR)) line = line.slice(0, -1);
		const work = this.handlers.onLine(line);
		if (work === undefined) return;
		this.#pending++;
		void work
			.catch((error: unknown) => this.handlers.log(`a request failed unexpectedly: ${(error as Error)?.stack ?? String(error)}`))
			.finally(() => {
				this.#pending--;
				this.#updateFlow();
			});
	}

	#onInputEnd(): void {
		if (this.#isInputDone) return;
		// 'end' comes only once every chunk was delivered, but a paused chunk may still be held: serve it first.
		if (this.#held !== undefined) {
			this.#pendingEnd = true;
			return;
		}
		// A last line without a newline is still a line.
		if (this.#partialBytes > 0) this.#endLine();
		this.#isInputDone = true;
		this.#updateFlow();
	}

	/** Pauses or resumes the input by the two limits, and finishes once everything is answered after the end. */
	#updateFlow(): void {
		if (this.#isInputDone) {
			if (this.#pending === 0 && !this.#isFinishing) {
				this.#isFinishing = true;
				// Resolve once the last answer has been handed to the operating system (or the client left).
				if (this.output.writableLength === 0 || this.#isOutputBroken) this.#finish();
				else this.output.once('drain', () => this.#finish());
			}
			return;
		}
		const buffered = this.output.writableLength;
		const reason =
			this.#pending >= this.limits.maxPendingRequests
				? `${this.#pending} requests are waiting for an answer (the limit is ${this.limits.maxPendingRequests})`
				: buffered > this.limits.maxBufferedOutputBytes
					? `${buffered} bytes of answers are waiting for the client to read them (the limit is ${this.limits.maxBufferedOutputBytes})`
					: undefined;
		if (reason !== undefined && !this.#isPaused) {
			this.#isPaused = true;
			this.input.pause();
			this.handlers.log(`not reading stdin for now: ${reason}`);
		} else if (reason === undefined && this.#isPaused) {
			this.#isPaused = false;
			this.handlers.log('reading stdin again');
			this.input.resume();
			this.#readHeld();
			if (this.#held === undefined && this.#pendingEnd) {
				this.#pendingEnd = false;
				this.#onInputEnd();
			}
		}
	}
}
