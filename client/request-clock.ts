/**
 * The request clock: times the one request a host is running now, and says when it ran past the
 * request timeout. Requests are pipelined and the host runs them in arrival order, so only the
 * oldest unanswered request is running; the ones behind it have not started, and get no clock.
 *
 * One timer serves every request: when the timed request changes, the clock only notes the new one
 * and when it started, and the timer re-arms itself for the remainder when it fires early, so an
 * answer costs no timer churn (with thousands of calls in flight that churn was measurable).
 */

/** Times one (call, host) pair at a time. */
export class RequestClock<C, H> {
	#timed: { readonly call: C; readonly host: H; readonly since: number } | undefined;
	#timer: NodeJS.Timeout | undefined;

	/**
	 * @param timeoutMs how long a request may run.
	 * @param onExpired runs when the timed call has run for `timeoutMs` on `host`; the caller checks it still runs there.
	 */
	constructor(
		private readonly timeoutMs: number,
		private readonly onExpired: (call: C, host: H, timeoutMs: number) => void,
	) {}

	/** Times `call` on `host` from now, unless that pair is already being timed. */
	time(call: C, host: H): void {
		const timed = this.#timed;
		if (timed !== undefined && timed.call === call && timed.host === host) return;
		this.#timed = { call, host, since: performance.now() };
		if (this.#timer === undefined) this.#start(this.timeoutMs);
		else this.#timer.ref();
	}

	/** The timed call's clock starts over, from now (a batch moved on to its next call, see the supervisor). */
	restart(): void {
		const timed = this.#timed;
		if (timed === undefined) return;
		this.#timed = { ...timed, since: performance.now() };
		if (this.#timer === undefined) this.#start(this.timeoutMs);
	}

	/** Nothing runs: times nothing. The timer may still fire and find nothing, but it no longer keeps the process alive. */
	stop(): void {
		this.#timed = undefined;
		this.#timer?.unref();
	}

	/** Clears the timer for good (the client is closed). */
	dispose(): void {
		this.#timed = undefined;
		if (this.#timer !== undefined) clearTimeout(this.#timer);
		this.#timer = undefined;
	}

	#start(delayMs: number): void {
		this.#timer = setTimeout(() => {
			this.#timer = undefined;
			const timed = this.#timed;
			if (timed === undefined) return;
			const remaining = timed.since + this.timeoutMs - performance.now();
			if (remaining > 0) return this.#start(Math.ceil(remaining));
			this.onExpired(timed.call, timed.host, this.timeoutMs);
		}, delayMs);
	}
}
