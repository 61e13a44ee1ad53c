/**
 * One host process: spawned (host-spawn.ts), its stdin/stdout carrying a vscode-jsonrpc connection
 * (host-connection.ts), its stderr kept as a bounded tail (host-stderr.ts), its memory watched while
 * a request runs (memory-watchdog.ts). How it ended (exit code or signal, why the client killed it,
 * the stderr tail) is latched once into a {@link HostExit} (host-exit.ts), so every caller gets the
 * same answer. `exited` settles only after the child is reaped and every response it wrote before
 * dying has been dispatched, so "the oldest unanswered request" is exact when the supervisor asks.
 */
import type { MessageConnection } from 'vscode-jsonrpc/node';
import type { InitializeResult } from '../protocol/handshake.js';
import { InitializeRequest } from '../protocol/methods.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { BulkChannel } from './bulk-channel.js';
import { HostCrashError } from './errors.js';
import { onClientExit } from './exit-cleanup.js';
import type { ExpandLane } from './expand-lane.js';
import { connectHost, toRequestError, type AnyRequestType } from './host-connection.js';
import { createHostExit, type HostExit, type KillReason, type ProcessEnd } from './host-exit.js';
import { hostCommandLine, killProcessGroup, processExited, releasePipes, spawnHost, type HostSubprocess } from './host-spawn.js';
import { forwardStderr } from './host-stderr.js';
import { MemoryWatchdog } from './memory-watchdog.js';
import type { NormalizedOptions } from './options.js';
import { OutputTail } from './output-tail.js';

/** A running (or finished) host process and its connection. */
export class HostProcess {
	/** The connection over the host's stdin/stdout; listening from the start. */
	readonly connection: MessageConnection;
	/** Settles (never rejects) once the process is gone and its last responses are dispatched. */
	readonly exited: Promise<HostExit>;
	/** The command line, for messages. */
	readonly command: string;

	readonly #subprocess: HostSubprocess;
	// Expand requests go past the connection (expand-lane.ts).
	readonly #lane: ExpandLane;
	readonly #stderr: OutputTail;
	#exit: HostExit | undefined;
	#killedByClient = false;
	// The timeout or memory kill that came first: what the exit reports.
	#killCause: Extract<KillReason, { kind: 'timeout' | 'memory' }> | undefined;
	readonly #memoryLimitMiB: number;
	// Sent in initialize: the host answers a hung wasm call before this clock would kill it.
	readonly #requestTimeoutMs: number;
	readonly #watchdog: MemoryWatchdog | undefined;
	// Counts messages read and responses dispatched; the drain waits until it stops moving.
	#progress = 0;
	#threadsLeftBehind = false;
	// Large streams' slot files (options.bulk); undefined when off or when the directory could not be made.
	readonly #bulk: BulkChannel | undefined;
	// Kills the process group if the client exits while the host runs.
	readonly #cancelExitCleanup: (() => void) | undefined;
	#batchProgress: { id: number; index: number } | undefined;

	private constructor(options: NormalizedOptions) {
		const { file, args, command } = hostCommandLine(options);
		this.command = command;
		this.#stderr = new OutputTail(options.stderrTailBytes);
		this.#subprocess = spawnHost(options, file, args);
		this.#memoryLimitMiB = options.memoryLimitMiB;
		this.#requestTimeoutMs = options.requestTimeoutMs;
		const pid = this.#subprocess.pid;
		if (pid !== undefined) {
			this.#cancelExitCleanup = onClientExit(() => killProcessGroup(pid));
			this.#watchdog = new MemoryWatchdog(pid, options.memoryLimitMiB, (residentBytes) => this.kill({ kind: 'memory', residentBytes }));
		}
		forwardStderr(this.#subprocess.stderr, this.#stderr, options.onStderr, () => {
			this.#threadsLeftBehind = true;
		});
		// Without a directory every stream goes inline: a slower path, not a failure.
		const bulk = options.bulk === undefined ? undefined : BulkChannel.create(options.bulk);
		this.#bulk = typeof bulk === 'string' ? undefined : bulk;
		const { connection, lane } = connectHost(this.#subprocess.stdout, this.#subprocess.stdin, options.encoding, this.#bulk, () => {
			this.#progress++;
		});
		this.connection = connection;
		this.#lane = lane;
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
			// markCalls: crash reports then quote only the failing call's stderr (host-stderr.ts).
			{ protocolVersion: PROTOCOL_VERSION, clientInfo: { name: clientName }, requestTimeoutMs: this.#requestTimeoutMs, markCalls: true, ...(bulk ? { bulk: bulk.offer } : {}) },
			timeoutMs,
		);
		bulk?.enable(init.capabilities?.bulk === true);
		return init;
	}

	/**
	 * True once the host said a request left threads running (protocol/call-mark.ts): such a thread may
	 * crash the host while another call runs, so that call is not blamed at once.
	 */
	get threadsLeftBehind(): boolean {
		return this.#threadsLeftBehind;
	}

	/** The batch call the host is running now, as its progress file says (protocol/batch.ts); undefined without one. */
	readBatchProgress(): { id: number; index: number } | undefined {
		return this.#bulk?.batchProgress();
	}

	/** The batch call the host noted last (protocol/batch.ts), read once it has died; undefined without a progress file. */
	get batchProgress(): { id: number; index: number } | undefined {
		return this.#batchProgress;
	}

	/** How the process ended, once `exited` has settled. */
	get exit(): HostExit | undefined {
		return this.#exit;
	}

	/** Sends a request. Rejections are either MacroHostRequestError-able ResponseErrors or transport failures (see toRequestError). */
	send<P, R>(type: AnyRequestType<P, R>, params?: P): Promise<R> {
		let sent: Promise<R>;
		const lane = this.#lane;
		if (lane.takes(type.method)) {
			sent = lane.send(type.method, params) as Promise<R>;
		} else {
			try {
				const send = this.connection.sendRequest as (t: unknown, ...rest: unknown[]) => Promise<R>;
				sent = params === undefined ? send(type) : send(type, params);
			} catch (error) {
				// The connection is already closed or disposed: the host is going away.
				sent = Promise.reject(error);
			}
			lane.trackConnectionRequest(sent);
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
		const timer = setTimeout(() => this.kill({ kind: 'timeout', timeoutMs }), timeoutMs);
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

	/**
	 * Kills the host for `reason` (see {@link KillReason}): `stop` asks it to die with SIGTERM (SIGKILL
	 * after `forceKillAfterMs`); `timeout` and `memory` SIGKILL it and its process group at once, unless
	 * it has already ended, and the first of them is the one its exit reports.
	 */
	kill(reason: KillReason = { kind: 'stop' }): void {
		if (reason.kind === 'stop') {
			this.#killedByClient = true;
			this.#subprocess.kill('SIGTERM');
			return;
		}
		if (this.#exit !== undefined) return;
		this.#killCause ??= reason;
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
		this.#lane.dispose();
		this.#bulk?.dispose();
	}

	async #waitForExit(): Promise<HostExit> {
		// reject:false makes execa report failures in the result instead of throwing.
		const settled: Promise<ProcessEnd> = this.#subprocess.then(
			(result) => result,
			(error: unknown) => ({ originalMessage: error instanceof Error ? error.message : String(error) }),
		);
		// execa settles only once the pipes have closed as well, and a child a macro forked holds them:
		// the process's own exit is what counts.
		await Promise.race([settled, processExited(this.#subprocess)]);
		this.#watchdog?.dispose();
		// Children a macro forked hold copies of the host's pipes: they go with the host.
		this.#killGroup();
		this.#cancelExitCleanup?.();
		await releasePipes([this.#subprocess.stdout, this.#subprocess.stderr]);
		const end = await settled;
		await this.#drain();
		// Before the supervisor disposes of the host (and its directory): which call of a batch was running.
		this.#batchProgress = this.#bulk?.batchProgress();
		this.#exit = createHostExit(end, {
			pid: this.#subprocess.pid,
			killedByClient: this.#killedByClient,
			cause: this.#killCause,
			memoryLimitMiB: this.#memoryLimitMiB,
			stderrTail: this.#stderr.text(),
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
