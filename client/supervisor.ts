/**
 * Keeps a host alive for its callers. Requests are pipelined: each is sent at once, and the host runs
 * them one at a time in arrival order. So when the host dies, the request that was running is the
 * oldest one still unanswered (once the responses it wrote before dying are dispatched), and every
 * request behind it is innocent.
 *
 * The crash path: dispose the connection; answer the running request (an expand call with outcome
 * bail and one `host-crash` or `timeout` diagnostic, any other call by rejecting with
 * HostCrashError); count the crash against the macro (quarantine) and the restart policy; restart
 * the host, reload every library in load order, re-initialize; re-send every other pending request
 * in its original order. When the policy gives up, expand calls answer bail with a
 * `host-unavailable` diagnostic and other calls reject with HostUnavailableError, now and later.
 *
 * Small expand calls of one tick travel as one expandBatch request (batch-outbox.ts). When the host
 * dies during a batch, the culprit is the call its progress file names (protocol/batch.ts), and the
 * batch's other calls are innocent; without that file the batch's calls are re-sent alone, in order,
 * and the crash path above runs for the one that kills the host again.
 */
import { Emitter, ErrorCodes, ResponseError, type Event } from 'vscode-jsonrpc/node';
import type { ExpandBatchResult } from '../protocol/batch.js';
import type { DiagnosticCode, ExpandResult, Span } from '../protocol/expand.js';
import type { ExpandSourceParams, ExpandSourceResult } from '../protocol/expand-source.js';
import type { InitializeResult } from '../protocol/handshake.js';
import type { LibraryInfo, MacroKind } from '../protocol/library.js';
import { loadCodec } from '../protocol/body-codecs.js';
import { ExpandBatchRequest, ExpandSourceRequest, ExitNotification, LoadLibraryRequest, ShutdownRequest } from '../protocol/methods.js';
import { bailResult, unreadableAnswerBail } from './bail.js';
import { batchCall, BatchOutbox, isBatchable } from './batch-outbox.js';
import { UnreadableAnswer } from './bulk-channel.js';
import { HostClosedError, HostCrashError, HostStartError, HostUnavailableError, MacroHostRequestError, RequestSendError } from './errors.js';
import { isWriteFailure, toRequestError, type AnyRequestType } from './host-connection.js';
import type { HostExit } from './host-exit.js';
import { HostProcess } from './host-process.js';
import { LibraryRegistry, type LoadLibraryOptions } from './library-registry.js';
import {
	clientFailureReason,
	crashMessage,
	describeStartFailure,
	droppedLibraryMessage,
	notRunMessage,
	quarantinedMessage,
	quarantinedNote,
	type CrashedCall,
	type StartFailure,
} from './messages.js';
import type { NormalizedOptions } from './options.js';
import { PendingCalls } from './pending-calls.js';
import { Quarantine, quarantineKey } from './quarantine.js';
import { RequestClock } from './request-clock.js';
import { decideRestart, pruneCrashTimes } from './restart-policy.js';
import { replaySession } from './session-replay.js';
import { WarmStandby } from './warm-standby.js';

/** The macro an expand call runs, as the supervisor needs it for quarantine and crash reports. */
export interface MacroCall {
	readonly kind: MacroKind;
	/** The macro name; for derive calls every derive name, in order. */
	readonly names: readonly string[];
	/** The library the call was restricted to, if any. */
	readonly library: string | undefined;
	/** The call site given with the call. */
	readonly callSite: Span | undefined;
}

/** Sent to {@link Supervisor.onRestart} listeners after a host was replaced. */
export interface RestartEvent {
	/** Restarts so far, this one included. */
	readonly restarts: number;
	/** Process id of the new host. */
	readonly pid: number | undefined;
	/** The crash that caused the restart. */
	readonly crash: HostCrashError;
}

/** One call, tracked until it is answered. */
interface Call {
	readonly type: AnyRequestType<unknown, unknown>;
	readonly params: unknown;
	/** Set for expand calls: they answer bail instead of rejecting when the host fails. */
	readonly macro: MacroCall | undefined;
	/** Runs with the answer before the caller sees it (loadLibrary records the library). */
	readonly onAnswer: ((value: unknown) => void) | undefined;
	readonly resolve: (value: unknown) => void;
	readonly reject: (error: Error) => void;
	/** The host it was last sent to; undefined while it waits for a restart. */
	host: HostProcess | undefined;
	/** When it was last sent, as a count of sends: the host answers in this order. */
	sentSeq: number;
	/** Set once a crash while it ran was not blamed on it (threads left behind): the next crash is. */
	rerun: boolean;
	settled: boolean;
	/** A small expand call, which may travel in a batch (batch-outbox.ts). */
	readonly batchable: boolean;
	/** The batch it was last sent in; undefined when it went alone. */
	batch: Batch | undefined;
	/** For an expandSource request: its number in the progress file, where the host notes each call it runs. */
	readonly progress: Progress | undefined;
	/** A batch it was in died with its host: from then on it is only sent alone, so a crash names it. */
	alone: boolean;
}

/** A request whose calls the host notes in the progress file (protocol/batch.ts): a batch, or a whole source. */
interface Progress {
	/** Its number in the progress file. */
	readonly id: number;
	/** The call the progress file named when the request clock last started over for this request. */
	timedIndex: number;
}

/** Calls sent together in one expandBatch. */
interface Batch extends Progress {
	readonly calls: readonly Call[];
}

type State = 'running' | 'recovering' | 'unavailable' | 'closed';

/** A supervised host; see the module comment for what happens on a crash. */
export class Supervisor {
	readonly #options: NormalizedOptions;
	readonly #quarantine: Quarantine;
	readonly #libraries = new LibraryRegistry();
	// Unanswered calls in send order: a Set keeps insertion order and removes any call in O(1).
	readonly #pending = new PendingCalls<Call>();
	readonly #crashTimes: number[] = [];
	// Numbers every send, so that an answer that overtakes an older call shows (#resendSkipped).
	#sendSeq = 0;
	// When a host last answered a call: a host that served since the last crash was healthy (restart-policy.ts).
	#servedAt = -Infinity;
	readonly #timedOutCall = new WeakMap<HostProcess, Call>();
	readonly #restartEmitter = new Emitter<RestartEvent>();
	readonly #crashEmitter = new Emitter<HostCrashError>();
	#state: State = 'running';
	#host: HostProcess | undefined;
	#initializeResult: InitializeResult | undefined;
	#restarts = 0;
	#closing = false;
	#closed: Promise<void> | undefined;
	#unavailable: HostUnavailableError | undefined;
	// Times the call the host is running now (see #armHeadTimer).
	readonly #clock: RequestClock<Call, HostProcess>;
	#backoff: NodeJS.Timeout | undefined;
	#idleWaiters: (() => void)[] = [];
	// The warm standby (options.warmStandby), and how many in a row died before they were ready.
	#standby: WarmStandby | undefined;
	#standbyFailures = 0;
	// The wait before replacing a standby that died on its own, as the restart policy's backoff says.
	#standbyBackoff: NodeJS.Timeout | undefined;
	// Hosts let go of after a client bug; close() still waits for them, so none outlives it.
	readonly #dying: Promise<unknown>[] = [];
	// Small expand calls of one tick, sent together (options.batch).
	readonly #outbox = new BatchOutbox<Call>((calls) => this.#sendBatch(calls));
	#lastBatchId = 0;

	private constructor(options: NormalizedOptions) {
		this.#options = options;
		this.#quarantine = new Quarantine(options.quarantineAfter);
		this.#clock = new RequestClock(options.requestTimeoutMs, (call, host, timeoutMs) => this.#onTimeout(call, host, timeoutMs));
	}

	/** Starts a host and initializes it; rejects with HostStartError when it cannot. */
	static async start(options: NormalizedOptions): Promise<Supervisor> {
		// Every host this supervisor spawns (restarts, the standby) connects with it, synchronously.
		await loadCodec(options.encoding);
		const supervisor = new Supervisor(options);
		const { host, init } = await supervisor.#startHost();
		supervisor.#adopt(host, init);
		supervisor.#startStandby();
		return supervisor;
	}

	/** Fires after each restart. */
	get onRestart(): Event<RestartEvent> {
		return this.#restartEmitter.event;
	}

	/** Fires on each host death, with the request it interrupted (if any) named in the error. */
	get onCrash(): Event<HostCrashError> {
		return this.#crashEmitter.event;
	}

	/** Process id of the current host; undefined while it is being restarted, or once closed. */
	get pid(): number | undefined {
		return this.#host?.pid;
	}

	/** Process id of the warm standby host, while one runs. */
	get standbyPid(): number | undefined {
		return this.#standby?.host.pid;
	}

	/** Resolves true once the current warm standby is ready to take over; false when there is none or it failed. */
	async standbyReady(): Promise<boolean> {
		const standby = this.#standby;
		return standby !== undefined && (await standby.ready) !== undefined && standby.host.exit === undefined;
	}

	/** How many times the host was restarted. */
	get restarts(): number {
		return this.#restarts;
	}

	/** The current host's answer to `initialize`. */
	get initializeResult(): InitializeResult | undefined {
		return this.#initializeResult;
	}

	/** The libraries loaded so far, in load order. */
	get libraries(): LibraryInfo[] {
		return this.#libraries.entries().map((entry) => entry.info);
	}

	/** True when `call` would be refused without running because its macro is quarantined. */
	isQuarantined(macro: MacroCall): boolean {
		return this.#quarantine.isQuarantined(this.#quarantineKey(macro));
	}

	/** Loads a library and remembers it, so that it is reloaded into every restarted host. */
	loadLibrary(path: string, options: LoadLibraryOptions = {}): Promise<LibraryInfo> {
		return this.#submit<LibraryInfo>(LoadLibraryRequest.type, { path }, undefined, (info) => {
			this.#libraries.remember(path, info as LibraryInfo, options.package);
			this.#standby?.load(path);
		});
	}

	/** Sends a non-expand request; a crash while it runs rejects it with HostCrashError. */
	request<P, R>(type: AnyRequestType<P, R>, params?: P): Promise<R> {
		return this.#submit<R>(type as AnyRequestType<unknown, unknown>, params, undefined, undefined);
	}

	/** Sends an expand request; a crash, timeout, quarantine or give-up answers bail with a diagnostic. */
	expand<P>(type: AnyRequestType<P, ExpandResult>, params: P, macro: MacroCall): Promise<ExpandResult> {
		return this.#submit<ExpandResult>(type as AnyRequestType<unknown, unknown>, params, macro, undefined);
	}

	/**
	 * Sends a whole source (protocol/expand-source.ts), numbered in the progress file as a batch is, so the
	 * request clock times each call inside it rather than the whole source. A crash or a timeout rejects it
	 * with HostCrashError, as any request that is not an expand call.
	 */
	expandSource(params: ExpandSourceParams): Promise<ExpandSourceResult> {
		const progress: Progress = { id: this.#nextProgressId(), timedIndex: 0 };
		return this.#submit<ExpandSourceResult>(ExpandSourceRequest.type as AnyRequestType<unknown, unknown>, { ...params, id: progress.id }, undefined, undefined, progress);
	}

	/**
	 * Lets every call already made finish (restarting the host if it must), then sends shutdown and
	 * exit and waits for the process to end, killing it if it does not within `shutdownTimeoutMs`.
	 * Later calls reject with HostClosedError. Idempotent: every call returns the same promise.
	 */
	close(): Promise<void> {
		this.#closed ??= this.#close();
		return this.#closed;
	}

	// ---- Sending ----

	#submit<R>(
		type: AnyRequestType<unknown, unknown>,
		params: unknown,
		macro: MacroCall | undefined,
		onAnswer: ((value: unknown) => void) | undefined,
		progress?: Progress,
	): Promise<R> {
		return new Promise<R>((resolve, reject) => {
			const call: Call = {
				type,
				params,
				macro,
				onAnswer,
				resolve: resolve as (value: unknown) => void,
				reject,
				host: undefined,
				sentSeq: 0,
				rerun: false,
				settled: false,
				batchable: macro !== undefined && this.#options.batch && isBatchable(params),
				batch: undefined,
				progress,
				alone: false,
			};
			if (this.#closing) return this.#settle(call, undefined, new HostClosedError(type.method));
			if (this.#state === 'unavailable') return this.#answerUnavailable(call);
			if (macro !== undefined && this.isQuarantined(macro)) return this.#answerQuarantined(call, macro);
			if (macro !== undefined && this.#libraries.hasDropped && this.#answerIfDropped(call, macro)) return;
			this.#pending.add(call);
			if (this.#state === 'running') {
				this.#send(call);
				this.#armHeadTimer();
			}
		});
	}

	#send(call: Call): void {
		const host = this.#host!;
		call.host = host;
		if (call.batchable && !call.alone && this.#initializeResult?.capabilities.batch === true) return this.#outbox.add(call);
		// The calls queued before this one leave first.
		this.#outbox.flush();
		this.#sendAlone(call, host);
	}

	#sendAlone(call: Call, host: HostProcess): void {
		call.batch = undefined;
		call.sentSeq = ++this.#sendSeq;
		host.send(call.type, call.params).then(
			(value) => this.#onAnswer(call, host, value),
			(error: unknown) => this.#onFailure(call, host, error),
		);
	}

	/** Sends the small calls of one tick: several as one expandBatch, one alone. */
	#sendBatch(queued: Call[]): void {
		const host = this.#host;
		// Answered, or already re-sent to another host, since the tick they were queued in.
		const calls = queued.filter((call) => !call.settled && call.host === host);
		if (host === undefined || calls.length === 0) return;
		if (calls.length === 1) return this.#sendAlone(calls[0], host);
		const batch: Batch = { id: this.#nextProgressId(), calls, timedIndex: 0 };
		for (const call of calls) {
			call.batch = batch;
			call.sentSeq = ++this.#sendSeq;
		}
		host.send(ExpandBatchRequest.type, { calls: calls.map((call) => batchCall(call.type.method, call.params)), id: batch.id }).then(
			(result: ExpandBatchResult) => {
				calls.forEach((call, i) => {
					const answer = result?.answers?.[i];
					if (answer === undefined) {
						const missing = new ResponseError(ErrorCodes.InternalError, `the host's expandBatch answer has no answer for call ${i}`);
						return this.#onFailure(call, host, missing);
					}
					if (answer.error !== undefined) this.#onFailure(call, host, new ResponseError(answer.error.code, answer.error.message, answer.error.data));
					else this.#onAnswer(call, host, answer.result);
				});
			},
			(error: unknown) => {
				if (isWriteFailure(error) && host.isWritable) return this.#resendAlone(calls, host);
				for (const call of calls) this.#onFailure(call, host, error);
			},
		);
	}

	/** The next number for the progress file: from 1 to 2^32-1, since 0 there means nothing noted yet. */
	#nextProgressId(): number {
		this.#lastBatchId = (this.#lastBatchId % 0xffff_ffff) + 1;
		return this.#lastBatchId;
	}

	/**
	 * A batch that could not be encoded (one call's params cannot be): each call goes again alone, so
	 * that only that call fails. They move to the back of the queue, where their new sends put them, so
	 * that "the oldest unanswered call" is still the one the host runs.
	 */
	#resendAlone(calls: readonly Call[], host: HostProcess): void {
		for (const call of calls) {
			if (call.settled || call.host !== host) continue;
			this.#pending.delete(call);
			this.#pending.add(call);
			call.alone = true;
			this.#sendAlone(call, host);
		}
		this.#armHeadTimer();
	}

	#onAnswer(call: Call, host: HostProcess, value: unknown): void {
		if (call.settled || call.host !== host) return;
		// The transport could not read the answer's tokens back: the call fails, the client goes on.
		if (value instanceof UnreadableAnswer) value = unreadableAnswerBail(value);
		this.#servedAt = Date.now();
		// Answers come in send order; an answer that overtakes an older call means the host never got that one.
		if (this.#pending.first() !== call) this.#resendSkipped(call, host);
		this.#settle(call, value, undefined);
	}

	/**
	 * Sends again every call that `host` got before `answered` but did not answer: the host serves requests
	 * in arrival order, so those requests never reached it (a macro read them off the protocol's input).
	 */
	#resendSkipped(answered: Call, host: HostProcess): void {
		const skipped: Call[] = [];
		for (const call of this.#pending) {
			if (call === answered) break;
			if (call.host === host && call.sentSeq < answered.sentSeq) skipped.push(call);
		}
		for (const call of skipped) this.#send(call);
		// The oldest of them runs only now: its clock starts over.
		if (skipped.length > 0) this.#clock.stop();
	}

	#onFailure(call: Call, host: HostProcess, error: unknown): void {
		if (call.settled || call.host !== host) return;
		const refused = toRequestError(call.type.method, error);
		if (refused) {
			if (this.#pending.first() !== call) this.#resendSkipped(call, host);
			return this.#settle(call, undefined, refused);
		}
		// A write that failed while the pipe is fine never reached the host: the params could not be
		// encoded. Otherwise the host is going away, and the exit path answers or re-sends the call.
		if (isWriteFailure(error) && host.isWritable) {
			this.#settle(call, undefined, new RequestSendError(call.type.method, error.message, { cause: error }));
		}
	}

	/** Answers a call once, takes it off the queue, and moves the timeout to the next one. */
	#settle(call: Call, value: unknown, error: Error | undefined): void {
		if (call.settled) return;
		call.settled = true;
		this.#pending.delete(call);
		if (error !== undefined) call.reject(error);
		else {
			call.onAnswer?.(value);
			call.resolve(value);
		}
		this.#armHeadTimer();
		this.#checkIdle();
	}

	/** Times the request the host is running now: the oldest unanswered one (see request-clock.ts). */
	#armHeadTimer(): void {
		const head = this.#head();
		const host = this.#host;
		if (head === undefined || host === undefined || this.#state !== 'running' || head.host !== host) this.#clock.stop();
		else this.#clock.time(head, host);
	}

	/** The clock ran out for `call`: the host is killed, unless the call was answered or the host changed meanwhile. */
	#onTimeout(call: Call, host: HostProcess, timeoutMs: number): void {
		if (call.settled || this.#head() !== call || call.host !== host) return;
		// A batch answers all at once, so its first call stays the head while the host runs the others: the
		// clock ran for the batch. When the host has moved on to another call since the clock started, that
		// call gets the timeout from now (so a call of a batch is killed after one to two timeouts). The calls
		// of a whole source are timed the same way.
		const noted = call.batch ?? call.progress;
		if (noted !== undefined) {
			const progress = host.readBatchProgress();
			if (progress !== undefined && progress.id === noted.id && progress.index !== noted.timedIndex) {
				noted.timedIndex = progress.index;
				return this.#clock.restart();
			}
		}
		this.#timedOutCall.set(host, call);
		host.kill({ kind: 'timeout', timeoutMs });
	}

	/** The oldest unanswered call. */
	#head(): Call | undefined {
		return this.#pending.first();
	}

	/**
	 * The call of `batch` that `host` was running when it died, as its progress file says. When the
	 * file does not say, the batch's calls run again alone, so that a second death names the culprit
	 * as a lone call's would; undefined then.
	 */
	#batchCulprit(batch: Batch, host: HostProcess): Call | undefined {
		const progress = host.batchProgress;
		const running = progress?.id === batch.id ? batch.calls[progress.index] : undefined;
		if (running !== undefined && !running.settled) return running;
		for (const call of batch.calls) call.alone = true;
		return undefined;
	}

	/** The oldest unanswered call sent to `host`: the one it was running when it died. */
	#firstSentTo(host: HostProcess): Call | undefined {
		for (const call of this.#pending) if (call.host === host) return call;
		return undefined;
	}

	// ---- Starting and restarting ----

	/** Spawns a host, initializes it and reloads every remembered library; HostStartError if it fails. */
	#startHost(): Promise<{ host: HostProcess; init: InitializeResult }> {
		return this.#prepareHost(HostProcess.spawn(this.#options), undefined);
	}

	/**
	 * Initializes a host (unless `init` says it already is) and reloads every remembered library into
	 * it, recording what it answers; on failure kills it and throws HostStartError.
	 */
	async #prepareHost(host: HostProcess, init: InitializeResult | undefined): Promise<{ host: HostProcess; init: InitializeResult }> {
		const timeoutMs = this.#options.startTimeoutMs;
		const libraries = this.#libraries;
		try {
			init = await replaySession(host, { clientName: this.#options.clientName, timeoutMs, init }, libraries, {
				loaded: (path, info) => libraries.remember(path, info),
				// The file changed or vanished since it was loaded: calls to its macros now get the host's own errors.
				refused: (library) => libraries.forget(library.info.library),
				crashed: (library, crash) => this.#dropLibrary(library.info.library, crash),
			});
			return { host, init };
		} catch (error) {
			host.kill();
			const exit = await host.exited;
			host.dispose();
			throw new HostStartError(host.command, describeStartFailure(startFailure(error, exit)), exit, { cause: error });
		}
	}

	// ---- The warm standby ----

	/** Spawns a standby in the background, unless one runs, the option is off, or the client is closing or gave up. */
	#startStandby(): void {
		if (!this.#options.warmStandby || this.#standby !== undefined || this.#closing || this.#state === 'unavailable') return;
		if (this.#standbyFailures >= MAX_STANDBY_FAILURES || this.#standbyBackoff !== undefined) return;
		const standby = new WarmStandby(this.#options, this.#libraries, { crashed: (library, crash) => this.#dropLibrary(library.info.library, crash) });
		this.#standby = standby;
		let wasReady = false;
		standby.ready.then((init) => {
			if (init === undefined) return;
			wasReady = true;
			this.#standbyFailures = 0;
		});
		standby.exited.then(() => {
			// Swapped in, or let go of: no longer the standby's business.
			if (this.#standby !== standby) return;
			this.#standby = undefined;
			standby.host.dispose();
			if (!wasReady) this.#standbyFailures++;
			if (this.#closing || this.#state === 'unavailable') return;
			// A standby that died on its own is a host crash like any other: it counts toward the restart policy,
			// and its replacement waits as a restart would; once the policy refuses, no more standbys start (the
			// active host's next crash then gives up). One that never got ready stops the standbys after a few tries.
			this.#crashTimes.push(Date.now());
			pruneCrashTimes(this.#options.restart, this.#crashTimes);
			const decision = decideRestart(this.#options.restart, this.#crashTimes, Date.now(), this.#servedAt);
			if (!decision.restart) return;
			if (decision.delayMs === 0) return this.#startStandby();
			this.#standbyBackoff = setTimeout(() => {
				this.#standbyBackoff = undefined;
				this.#startStandby();
			}, decision.delayMs);
		});
	}

	/**
	 * The standby as the new host, its libraries reloaded (cache hits in the host unless a file
	 * changed); undefined when there is none or it is not usable, and a cold start must do.
	 */
	async #takeStandby(): Promise<{ host: HostProcess; init: InitializeResult } | undefined> {
		const standby = this.#standby;
		if (standby === undefined) return undefined;
		this.#standby = undefined;
		const init = await standby.ready;
		if (init === undefined || standby.host.exit !== undefined) {
			this.#dying.push(standby.kill());
			return undefined;
		}
		try {
			return await this.#prepareHost(standby.host, init);
		} catch (error) {
			if (!(error instanceof HostStartError)) throw error;
			return undefined;
		}
	}

	/** Kills the standby (closing, giving up, or a client bug); close() waits for it. */
	#dropStandby(): void {
		if (this.#standbyBackoff !== undefined) clearTimeout(this.#standbyBackoff);
		this.#standbyBackoff = undefined;
		const standby = this.#standby;
		this.#standby = undefined;
		if (standby !== undefined) this.#dying.push(standby.kill());
	}

	#adopt(host: HostProcess, init: InitializeResult): void {
		this.#host = host;
		this.#initializeResult = init;
		this.#state = 'running';
		host.exited.then((exit) => this.#onHostExit(host, exit)).catch((bug: unknown) => this.#fail(bug));
	}

	async #onHostExit(host: HostProcess, exit: HostExit): Promise<void> {
		if (host !== this.#host) return;
		host.dispose();
		this.#host = undefined;
		this.#armHeadTimer();
		// After shutdown and exit the host is meant to end.
		if (this.#closing && this.#pending.size === 0) return this.#checkIdle();

		const timedOut = this.#timedOutCall.get(host);
		// A timed-out call answered in the nick of time leaves no culprit: everyone pending is re-sent.
		let culprit = exit.timedOut
			? timedOut !== undefined && !timedOut.settled
				? timedOut
				: undefined
			: this.#firstSentTo(host);
		if (culprit?.batch !== undefined) culprit = this.#batchCulprit(culprit.batch, host);
		// A thread an earlier request left running may have killed the host (not a timeout or the memory limit,
		// which are the running call's own): the call is run once more on the next host before it is blamed.
		const rerun = culprit !== undefined && !culprit.rerun && host.threadsLeftBehind && !exit.timedOut && !exit.memoryLimitExceeded;
		if (culprit !== undefined && rerun) culprit.rerun = true;
		const crash = new HostCrashError(exit, culprit && { ...this.#describe(culprit), rerun });
		this.#crashTimes.push(Date.now());
		pruneCrashTimes(this.#options.restart, this.#crashTimes);
		this.#state = 'recovering';
		if (culprit !== undefined && !rerun) this.#answerCrashed(culprit, crash);
		this.#crashEmitter.fire(crash);
		try {
			await this.#recover(crash);
		} catch (bug) {
			this.#fail(bug);
		}
	}

	/** Restarts per the policy until a host is up or the policy gives up. */
	async #recover(crash: HostCrashError): Promise<void> {
		let lastFailure: Error = crash;
		for (;;) {
			const decision = decideRestart(this.#options.restart, this.#crashTimes, Date.now(), this.#servedAt);
			if (!decision.restart) return this.#giveUp(decision.reason, lastFailure);
			if (decision.delayMs > 0) await this.#sleep(decision.delayMs);
			try {
				const { host, init } = (await this.#takeStandby()) ?? (await this.#startHost());
				this.#restarts++;
				this.#adopt(host, init);
				for (const call of [...this.#pending]) {
					if (call.macro !== undefined && this.isQuarantined(call.macro)) this.#answerQuarantined(call, call.macro);
					else if (call.macro === undefined || !this.#libraries.hasDropped || !this.#answerIfDropped(call, call.macro)) this.#send(call);
				}
				this.#armHeadTimer();
				this.#restartEmitter.fire({ restarts: this.#restarts, pid: host.pid, crash });
				this.#checkIdle();
				this.#startStandby();
				return;
			} catch (error) {
				if (!(error instanceof HostStartError)) throw error;
				lastFailure = error;
				this.#crashTimes.push(Date.now());
				pruneCrashTimes(this.#options.restart, this.#crashTimes);
			}
		}
	}

	#sleep(ms: number): Promise<void> {
		return new Promise((resolve) => {
			this.#backoff = setTimeout(() => {
				this.#backoff = undefined;
				resolve();
			}, ms);
		});
	}

	#giveUp(reason: string, lastFailure: Error): void {
		this.#state = 'unavailable';
		this.#dropStandby();
		this.#unavailable = new HostUnavailableError(reason, lastFailure);
		for (const call of [...this.#pending]) this.#answerUnavailable(call);
		this.#checkIdle();
	}

	/** A bug in this module: answer everyone with it rather than leave promises hanging. */
	#fail(bug: unknown): void {
		const error = bug instanceof Error ? bug : new Error(String(bug));
		this.#state = 'unavailable';
		this.#unavailable = new HostUnavailableError(clientFailureReason(error), error);
		for (const call of [...this.#pending]) this.#settle(call, undefined, error);
		this.#dropStandby();
		const host = this.#host;
		this.#host = undefined;
		if (host !== undefined) {
			host.kill();
			this.#dying.push(host.exited);
		}
		this.#checkIdle();
	}

	// ---- Answers made by the client ----

	#answerCrashed(call: Call, crash: HostCrashError): void {
		if (call.macro === undefined) return this.#settle(call, undefined, crash);
		const { crashes, isQuarantined } = this.#quarantine.recordCrash(this.#quarantineKey(call.macro));
		const quarantined = isQuarantined ? quarantinedNote(crashes) : '';
		const code: DiagnosticCode = crash.timedOut ? 'timeout' : crash.memoryLimitExceeded ? 'memory-limit' : 'host-crash';
		// The note goes before the stderr section: it is the client's sentence, not the host's output.
		this.#bail(call, code, isQuarantined ? crashMessage(crash.exit, this.#describe(call), quarantined) : crash.message);
	}

	#answerQuarantined(call: Call, macro: MacroCall): void {
		const crashes = this.#quarantine.crashes(this.#quarantineKey(macro));
		this.#bail(call, 'quarantined', quarantinedMessage(this.#describe(call), crashes, this.#quarantine.limit));
	}

	/** Answers a call to a macro of a dropped library with why it was dropped; false when its library was not dropped. */
	#answerIfDropped(call: Call, macro: MacroCall): boolean {
		const exit = this.#libraries.droppedFor(this.#libraries.resolve(macro.kind, macro.names, macro.library));
		if (exit === undefined) return false;
		this.#bail(call, 'library-dropped', droppedLibraryMessage(this.#describe(call), exit));
		return true;
	}

	/**
	 * Drops a library whose loading crashed (or hung) a new host, so that the next host starts without it
	 * and the other libraries keep working; calls to its macros are answered with why (#answerIfDropped).
	 */
	#dropLibrary(library: string, crash: HostCrashError): void {
		this.#libraries.drop(library, crash.exit);
	}

	#answerUnavailable(call: Call): void {
		const error = this.#unavailable!;
		if (call.macro === undefined) return this.#settle(call, undefined, error);
		this.#bail(call, 'host-unavailable', notRunMessage(this.#describe(call), error.message));
	}

	#bail(call: Call, code: DiagnosticCode, message: string): void {
		this.#settle(call, bailResult(code, message, call.macro?.callSite), undefined);
	}

	#describe(call: Call): CrashedCall {
		const macro = call.macro;
		if (macro === undefined) return { method: call.type.method };
		const library = this.#libraries.resolve(macro.kind, macro.names, macro.library);
		return {
			method: call.type.method,
			macroKind: macro.kind,
			macroName: macro.names.join(', '),
			library,
			package: this.#libraries.packageOf(library),
			callSite: macro.callSite,
		};
	}

	#quarantineKey(macro: MacroCall): string {
		return quarantineKey(this.#libraries.resolve(macro.kind, macro.names, macro.library), macro.kind, macro.names);
	}

	// ---- Closing ----

	async #close(): Promise<void> {
		this.#closing = true;
		await new Promise<void>((resolve) => {
			this.#idleWaiters.push(resolve);
			this.#checkIdle();
		});
		this.#dropStandby();
		const host = this.#host;
		if (host !== undefined) {
			const timeoutMs = this.#options.shutdownTimeoutMs;
			try {
				await host.request(ShutdownRequest.type, undefined, timeoutMs);
				host.notify(ExitNotification.method);
			} catch {
				// It refused or died; either way it is made to end below.
			}
			const kill = setTimeout(() => host.kill(), timeoutMs);
			await host.exited;
			clearTimeout(kill);
			host.dispose();
			this.#host = undefined;
		}
		await Promise.all(this.#dying);
		if (this.#backoff !== undefined) clearTimeout(this.#backoff);
		this.#clock.dispose();
		this.#state = 'closed';
		this.#restartEmitter.dispose();
		this.#crashEmitter.dispose();
	}

	#checkIdle(): void {
		if (this.#pending.size > 0 || this.#state === 'recovering') return;
		const waiters = this.#idleWaiters;
		this.#idleWaiters = [];
		for (const wake of waiters) wake();
	}
}

/** After this many standbys in a row die before they are ready, the client stops starting them (crashes then restart cold). */
const MAX_STANDBY_FAILURES = 3;

/** Why a start failed, as a fact for messages.ts to phrase. */
function startFailure(error: unknown, exit: HostExit): StartFailure {
	if (exit.spawnError !== undefined) return { kind: 'spawn', spawnError: exit.spawnError };
	if (error instanceof MacroHostRequestError) return { kind: 'refused', method: error.method, message: error.message };
	if (error instanceof HostCrashError) {
		const step = error.method ?? 'initialize';
		if (error.timedOut) return { kind: 'timeout', step, timeoutMs: error.timeoutMs };
		return { kind: 'ended', step, exit };
	}
	return { kind: 'failed', message: error instanceof Error ? error.message : String(error) };
}
