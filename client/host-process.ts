/**
 * One host process: spawned with execa, its stdin/stdout carrying a vscode-jsonrpc connection, its
 * stderr kept as a bounded tail. How it ended (exit code or signal, whether the client killed it for
 * a timeout, the stderr tail) is latched once into {@link HostExit}, so every caller gets the same
 * answer. `exited` settles only after the child is reaped and every response it wrote before dying
 * has been dispatched, so "the oldest unanswered request" is exact when the supervisor asks.
 *
 * The host leads a process group of its own (spawned detached), so that whatever a macro forks
 * dies with it: once the host has exited, the client kills the group. Waiting for the host's pipes
 * to close is bounded, since a child that left the group may still hold them.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import {
	ConnectionError,
	createMessageConnection,
	ErrorCodes,
	ResponseError,
	type DataCallback,
	type Disposable,
	type Message,
	type MessageConnection,
	type MessageReader,
	type RequestType,
	type RequestType0,
} from 'vscode-jsonrpc/node';
import {
	Encoding,
	encodeJsonText,
	InitializeRequest,
	packMessage,
	PROTOCOL_VERSION,
	unpackMessage,
	type InitializeResult,
} from '../protocol/index.js';
import { FrameReader } from '../protocol/node/frame-reader.js';
import { FrameWriter } from '../protocol/node/frame-writer.js';
import { BulkChannel } from './bulk-channel.js';
import { HostCrashError, MacroHostRequestError } from './errors.js';
import { DEFAULT_MEMORY_LIMIT_MIB, isAllocationFailure, MemoryWatchdog, toMiB } from './memory-watchdog.js';
import type { NormalizedOptions } from './options.js';
import { OutputTail } from './output-tail.js';

/** How a host process ended; latched once. */
export interface HostExit {
	/** The process id (undefined when it could not be spawned). */
	readonly pid: number | undefined;
	/** The exit code; undefined when a signal ended it. */
	readonly exitCode: number | undefined;
	/** The signal that ended it, e.g. "SIGSEGV". */
	readonly signal: string | undefined;
	/** What the signal means, e.g. "Segmentation fault". */
	readonly signalDescription: string | undefined;
	/** True when the client killed it because a request ran past its timeout. */
	readonly timedOut: boolean;
	/** The timeout that expired, when `timedOut`. */
	readonly timeoutMs: number | undefined;
	/** True when the client asked it to die (close(), a timeout, the memory limit, a failed start). */
	readonly killedByClient: boolean;
	/**
	 * True when the host went over its memory limit: the client killed it at the limit, or an
	 * allocation failed under the host's data ceiling and the allocator said so on stderr.
	 */
	readonly memoryLimitExceeded: boolean;
	/** The limit, in MiB, when `memoryLimitExceeded`. */
	readonly memoryLimitMiB: number | undefined;
	/** The resident memory, in MiB, that crossed the limit; undefined when an allocation failed instead. */
	readonly residentMiB: number | undefined;
	/** Why it could not be spawned at all (e.g. "spawn /no/node ENOENT"); undefined when it ran. */
	readonly spawnError: string | undefined;
	/** The last `stderrTailBytes` bytes of its stderr, as text. */
	readonly stderrTail: string;
	/** True when older stderr bytes were dropped from `stderrTail`. */
	readonly stderrTruncated: boolean;
}

/** A request type with or without params, as the protocol declares them. */
export type AnyRequestType<P, R> = RequestType<P, R, unknown> | RequestType0<R, unknown>;

/** vscode-jsonrpc's own codes for a transport that failed; the host never answers with these. */
const TRANSPORT_ERROR_CODES: ReadonlySet<number> = new Set([
	ErrorCodes.MessageWriteError,
	ErrorCodes.MessageReadError,
	ErrorCodes.PendingResponseRejected,
	ErrorCodes.ConnectionInactive,
]);

/**
 * The host's JSON-RPC error as a MacroHostRequestError; undefined when `error` is a local transport
 * failure (the connection broke because the host is going away), which the exit path handles.
 */
export function toRequestError(method: string, error: unknown): MacroHostRequestError | undefined {
	if (error instanceof ConnectionError) return undefined;
	if (error instanceof ResponseError && !TRANSPORT_ERROR_CODES.has(error.code)) {
		return new MacroHostRequestError(method, error.code, error.message, error.data);
	}
	return undefined;
}

/** A running (or finished) host process and its connection. */
export class HostProcess {
	/** The connection over the host's stdin/stdout; listening from the start. */
	readonly connection: MessageConnection;
	/** Settles (never rejects) once the process is gone and its last responses are dispatched. */
	readonly exited: Promise<HostExit>;
	/** The command line, for messages. */
	readonly command: string;

	readonly #subprocess: HostSubprocess;
	readonly #stderr: OutputTail;
	#exit: HostExit | undefined;
	#timeoutMs: number | undefined;
	#killedByClient = false;
	readonly #memoryLimitMiB: number;
	// Sent in initialize: the host answers a hung wasm call before this clock would kill it.
	readonly #requestTimeoutMs: number;
	readonly #watchdog: MemoryWatchdog | undefined;
	#residentAtKill: number | undefined;
	// Counts messages read and responses dispatched; the drain waits until it stops moving.
	#progress = 0;
	// Large streams' slot files (options.bulk); undefined when off or when the directory could not be made.
	readonly #bulk: BulkChannel | undefined;

	private constructor(options: NormalizedOptions) {
		// The limit goes on the command line only when it is not the host's own default.
		const memoryArgs = options.memoryLimitMiB === DEFAULT_MEMORY_LIMIT_MIB ? [] : ['--memory-limit-mib', String(options.memoryLimitMiB)];
		const args = [options.hostScript, '--encoding', options.encoding, ...memoryArgs, ...options.hostArgs];
		this.command = [options.nodePath, ...args].join(' ');
		this.#stderr = new OutputTail(options.stderrTailBytes);
		this.#subprocess = spawnHost(options, args);
		this.#memoryLimitMiB = options.memoryLimitMiB;
		this.#requestTimeoutMs = options.requestTimeoutMs;
		const pid = this.#subprocess.pid;
		if (pid !== undefined) {
			liveGroups.add(pid);
			this.#watchdog = new MemoryWatchdog(pid, options.memoryLimitMiB, (resident) => this.killForMemory(resident));
		}
		this.#forwardStderr(this.#subprocess.stderr, options.onStderr);
		// Without a directory every stream goes inline: a slower path, not a failure.
		const bulk = options.bulk === undefined ? undefined : BulkChannel.create(options.bulk);
		this.#bulk = typeof bulk === 'string' ? undefined : bulk;
		this.connection = this.#connect(options.encoding);
		this.exited = this.#waitForExit();
	}

	/** Spawns a host. Never throws for a bad command: a failed spawn shows up in `exited`. */
	static spawn(options: NormalizedOptions): HostProcess {
		return new HostProcess(options);
	}

	/** The process id; undefined when spawning failed. */
	get pid(): number | undefined {
		return this.#subprocess.pid;
	}

	/**
	 * Sends `initialize` (with the bulk offer, when there is a directory) and turns bulk streams on
	 * when the host took it. Settles like {@link request}.
	 */
	async initialize(clientName: string, timeoutMs: number): Promise<InitializeResult> {
		// The mapping code loads while the host starts; without it there is no offer.
		// Where slot files cannot be mapped (not Linux), the directory goes at once and streams go inline.
		const unavailable = await this.#bulk?.ready();
		if (unavailable !== undefined) this.#bulk?.dispose();
		const bulk = unavailable === undefined ? this.#bulk : undefined;
		const init = await this.request(
			InitializeRequest.type,
			{ protocolVersion: PROTOCOL_VERSION, clientInfo: { name: clientName }, requestTimeoutMs: this.#requestTimeoutMs, ...(bulk ? { bulk: bulk.offer } : {}) },
			timeoutMs,
		);
		bulk?.enable(init.capabilities?.bulk === true);
		return init;
	}

	/** How the process ended, once `exited` has settled. */
	get exit(): HostExit | undefined {
		return this.#exit;
	}

	/** Sends a request. Rejections are either MacroHostRequestError-able ResponseErrors or transport failures (see toRequestError). */
	send<P, R>(type: AnyRequestType<P, R>, params?: P): Promise<R> {
		let sent: Promise<R>;
		try {
			const send = this.connection.sendRequest as (t: unknown, ...rest: unknown[]) => Promise<R>;
			sent = params === undefined ? send(type) : send(type, params);
		} catch (error) {
			// The connection is already closed or disposed: the host is going away.
			sent = Promise.reject(error);
		}
		const watchdog = this.#watchdog;
		watchdog?.begin();
		const settled = (): void => {
			this.#progress++;
			watchdog?.end();
		};
		sent.then(settled, settled);
		return sent;
	}

	/**
	 * A request that also settles when the host dies or the timeout expires (the host is then killed
	 * with SIGKILL). Used for initialize, reloads and shutdown, which no one else watches.
	 * Rejects with MacroHostRequestError (the host refused) or HostCrashError (the host died).
	 */
	async request<P, R>(type: AnyRequestType<P, R>, params: P | undefined, timeoutMs: number): Promise<R> {
		const method = type.method;
		const timer = setTimeout(() => this.killForTimeout(timeoutMs), timeoutMs);
		const died = async (): Promise<never> => {
			throw new HostCrashError(await this.exited, { method });
		};
		try {
			return await Promise.race([
				this.send(type, params).catch((error: unknown) => {
					const refused = toRequestError(method, error);
					if (refused) throw refused;
					return died();
				}),
				this.exited.then(died),
			]);
		} finally {
			clearTimeout(timer);
		}
	}

	/**
	 * True while the host's stdin can take more bytes. A failed write on a writable stdin was a local
	 * failure (the params could not be encoded); on a broken one, the host is going away.
	 */
	get isWritable(): boolean {
		const stdin = this.#subprocess.stdin;
		return this.#exit === undefined && !stdin.destroyed && stdin.writable;
	}

	/** Sends a notification; a broken connection is ignored, since the exit path reports it. */
	notify(method: string): void {
		this.connection.sendNotification(method).catch(() => undefined);
	}

	/** Asks the host to die: SIGTERM, then SIGKILL after `forceKillAfterMs`. */
	kill(): void {
		this.#killedByClient = true;
		this.#subprocess.kill('SIGTERM');
	}

	/** Kills the host at once with SIGKILL because a request ran for `timeoutMs`; the first reason wins. */
	killForTimeout(timeoutMs: number): void {
		if (this.#exit !== undefined) return;
		if (this.#residentAtKill === undefined) this.#timeoutMs ??= timeoutMs;
		this.#killedByClient = true;
		this.#subprocess.kill('SIGKILL');
		this.#killGroup();
	}

	/** Kills the host at once with SIGKILL because its resident memory crossed the limit; the first reason wins. */
	killForMemory(residentBytes: number): void {
		if (this.#exit !== undefined) return;
		if (this.#timeoutMs === undefined) this.#residentAtKill ??= residentBytes;
		this.#killedByClient = true;
		this.#subprocess.kill('SIGKILL');
		this.#killGroup();
	}

	/** SIGKILLs the host's process group: the host, if alive, and whatever its macros forked. */
	#killGroup(): void {
		const pid = this.#subprocess.pid;
		if (pid !== undefined) killProcessGroup(pid);
	}

	/** Disposes the connection (still-pending vscode-jsonrpc promises reject and are ignored) and removes the slot files. */
	dispose(): void {
		this.connection.dispose();
		this.#bulk?.dispose();
	}

	#connect(encoding: Encoding): MessageConnection {
		const useMsgpack = encoding === Encoding.msgpack;
		// The host's framing both ways: each reply decoded as soon as it is in; one tick's requests in one write.
		const reader = new FrameReader(this.#subprocess.stdout, { decode: useMsgpack ? unpackMessage : undefined });
		const encode = useMsgpack ? packMessage : encodeJsonText;
		const bulk = this.#bulk;
		// Large streams leave through the slot files and come back from them (client/bulk-channel.ts).
		const writer = new FrameWriter(this.#subprocess.stdin, bulk ? (message) => encode(bulk.outgoing(message)) : encode, true);
		const incoming = bulk ? (message: Message) => bulk.incoming(message) : (message: Message) => message;
		const connection = createMessageConnection(new CountingReader(reader, () => this.#progress++, incoming), writer);
		// Transport errors (EPIPE once the host is gone) are expected; the exit path reports the death.
		connection.onError(() => undefined);
		connection.onNotification(() => {
			this.#progress++;
		});
		connection.listen();
		return connection;
	}

	#forwardStderr(stderr: Readable, onStderr: ((text: string) => void) | undefined): void {
		const decoder = new StringDecoder('utf8');
		stderr.on('data', (chunk: Buffer) => {
			this.#stderr.push(chunk);
			if (onStderr === undefined) return;
			const text = decoder.write(chunk);
			try {
				if (text !== '') onStderr(text);
			} catch {
				// A faulty listener must not break the pipe we read crash reports from.
			}
		});
	}

	async #waitForExit(): Promise<HostExit> {
		type Result = { exitCode?: number; signal?: string; signalDescription?: string; originalMessage?: string; shortMessage?: string };
		// reject:false makes execa report failures in the result instead of throwing.
		const settled: Promise<Result> = this.#subprocess.then(
			(result) => result,
			(error: unknown) => ({ originalMessage: error instanceof Error ? error.message : String(error) }),
		);
		// execa settles only once the pipes have closed as well, and a child a macro forked holds them:
		// the process's own exit is what counts.
		await Promise.race([settled, processExited(this.#subprocess)]);
		this.#watchdog?.dispose();
		// Children a macro forked hold copies of the host's pipes: they go with the host.
		this.#killGroup();
		const pid = this.#subprocess.pid;
		if (pid !== undefined) liveGroups.delete(pid);
		const streams = [this.#subprocess.stdout, this.#subprocess.stderr];
		if (!(await closedWithin(streams, PIPE_CLOSE_GRACE_MS))) {
			// A child that left the process group (setsid) still holds a pipe: stop waiting for it.
			for (const stream of streams) stream.destroy();
		}
		const result = await settled;
		await this.#drain();
		const spawned = result.exitCode !== undefined || result.signal !== undefined;
		const stderrTail = this.#stderr.text();
		const abnormal = result.signal !== undefined || (result.exitCode !== undefined && result.exitCode !== 0);
		const allocationFailed = !this.#killedByClient && abnormal && isAllocationFailure(stderrTail);
		const memoryLimitExceeded = this.#residentAtKill !== undefined || allocationFailed;
		this.#exit = Object.freeze({
			pid: this.#subprocess.pid,
			exitCode: result.exitCode,
			signal: result.signal,
			signalDescription: result.signalDescription,
			timedOut: this.#timeoutMs !== undefined,
			timeoutMs: this.#timeoutMs,
			killedByClient: this.#killedByClient,
			memoryLimitExceeded,
			memoryLimitMiB: memoryLimitExceeded ? this.#memoryLimitMiB : undefined,
			residentMiB: this.#residentAtKill === undefined ? undefined : toMiB(this.#residentAtKill),
			spawnError: spawned ? undefined : (result.originalMessage ?? result.shortMessage ?? 'unknown error'),
			stderrTail,
			stderrTruncated: this.#stderr.isTruncated,
		});
		return this.#exit;
	}

	/**
	 * Lets vscode-jsonrpc dispatch everything the host wrote before it died. The reader hands every
	 * frame over as soon as it is in, but the connection's queue handles one message per event-loop
	 * turn, so we wait until a few turns pass with no message read and no response dispatched.
	 */
	async #drain(): Promise<void> {
		let quietTurns = 0;
		let seen = -1;
		for (let turn = 0; turn < 100_000 && quietTurns < 4; turn++) {
			await new Promise<void>((resolve) => setImmediate(resolve));
			if (this.#progress === seen) quietTurns++;
			else {
				quietTurns = 0;
				seen = this.#progress;
			}
		}
	}
}

/** Spawns the host with piped stdio, collecting nothing: stdout feeds the connection, stderr the tail. */
function spawnHost(options: NormalizedOptions, args: string[]) {
	return execa(options.nodePath, args, {
		stdin: 'pipe',
		stdout: 'pipe',
		stderr: 'pipe',
		buffer: false,
		reject: false,
		encoding: 'buffer',
		cwd: options.cwd,
		env: options.env,
		extendEnv: true,
		// execa escalates our SIGTERM to SIGKILL after this delay.
		forceKillAfterDelay: options.forceKillAfterMs,
		// Its own process group, killed as a whole (see killProcessGroup). execa's cleanup skips detached
		// children, so the 'exit' hook below kills live groups when the client exits; when the client is
		// killed outright, the host's PR_SET_PDEATHSIG does.
		detached: true,
	});
}

/** How long the host's pipes may stay open after it exited and its group was killed. */
const PIPE_CLOSE_GRACE_MS = 1000;

/** Process groups of hosts that have not been seen to exit, killed if the client exits first. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
	if (exitHookInstalled) return;
	exitHookInstalled = true;
	process.once('exit', () => {
		for (const pgid of liveGroups) killProcessGroup(pgid);
	});
}
installExitHook();

/** SIGKILLs a process group; a group that is already empty is fine. */
function killProcessGroup(pgid: number): void {
	try {
		process.kill(-pgid, 'SIGKILL');
	} catch {
		// ESRCH: nothing left in the group.
	}
}

/** Resolves when the process has exited (at once if it already has); never, when it was never spawned. */
function processExited(child: HostSubprocess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise((resolve) => {
		child.once('exit', () => resolve());
	});
}

/**
 * Resolves true when every stream has closed, false once `ms` passed with nothing read from the
 * first one, the replies (or {@link MAX_GRACE_PERIODS} periods in all, for a child that keeps
 * writing). An expired timer looks again after the reads already waiting have run: a client stalled
 * for longer than `ms` (a loaded machine) runs its timers before its reads when it wakes, and would
 * otherwise give up on replies sitting in the pipe, and blame the wrong call for the crash.
 */
async function closedWithin(streams: readonly Readable[], ms: number): Promise<boolean> {
	let reads = 0;
	const onData = (): void => {
		reads++;
	};
	const replies = streams[0];
	replies?.on('data', onData);
	let timer: NodeJS.Timeout | undefined;
	const timedOut = new Promise<false>((resolve) => {
		let seen = reads;
		let periods = 1;
		const check = (): void => {
			// setImmediate runs after this turn's poll phase, so pending reads are counted first.
			setImmediate(() => {
				if (reads === seen || ++periods >= MAX_GRACE_PERIODS) return resolve(false);
				seen = reads;
				timer = setTimeout(check, ms);
			});
		};
		timer = setTimeout(check, ms);
	});
	const closed = Promise.all(streams.map(streamClosed)).then(() => true as const);
	try {
		return await Promise.race([closed, timedOut]);
	} finally {
		clearTimeout(timer);
		replies?.off('data', onData);
	}
}

/** Grace periods in all that a dead host's replies pipe may keep delivering data before the client stops waiting. */
const MAX_GRACE_PERIODS = 5;

type HostSubprocess = ReturnType<typeof spawnHost>;

/** Resolves when a stream has closed (at once if it already has). */
function streamClosed(stream: Readable): Promise<void> {
	if (stream.closed || stream.destroyed) return Promise.resolve();
	return new Promise((resolve) => {
		stream.once('close', () => resolve());
	});
}

/** A MessageReader that reports each message it delivers, so the drain can see progress, and hands it over as `transform` makes it. */
class CountingReader implements MessageReader {
	constructor(
		private readonly inner: MessageReader,
		private readonly onMessage: () => void,
		private readonly transform: (message: Message) => Message,
	) {}
	get onError() {
		return this.inner.onError;
	}
	get onClose() {
		return this.inner.onClose;
	}
	get onPartialMessage() {
		return this.inner.onPartialMessage;
	}
	listen(callback: DataCallback): Disposable {
		return this.inner.listen((message) => {
			this.onMessage();
			callback(this.transform(message));
		});
	}
	dispose(): void {
		this.inner.dispose();
	}
}
