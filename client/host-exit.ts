/**
 * How a host process ended, latched once ({@link HostExit}), and why the client killed it
 * ({@link KillReason}). A leaf: the errors, the messages and the process all read it, and it
 * imports none of them.
 */
import { isAllocationFailure, toMiB } from './memory-watchdog.js';

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

/**
 * Why the client kills a host. `stop` asks it to end (SIGTERM, then SIGKILL after
 * `forceKillAfterMs`): close(), a failed start, a standby let go of. `timeout` and `memory` kill it
 * at once with SIGKILL, with its process group; the first of those two is the one the exit reports.
 */
export type KillReason =
	| { readonly kind: 'stop' }
	| { readonly kind: 'timeout'; /** The request timeout that expired. */ readonly timeoutMs: number }
	| { readonly kind: 'memory'; /** The resident memory that crossed the limit. */ readonly residentBytes: number };

/** What the process reported when it ended (execa's result, or why it could not be spawned). */
export interface ProcessEnd {
	readonly exitCode?: number;
	readonly signal?: string;
	readonly signalDescription?: string;
	readonly originalMessage?: string;
	readonly shortMessage?: string;
}

/** What the client knew of a host when it ended. */
export interface ExitContext {
	readonly pid: number | undefined;
	/** Whether the client asked it to die, for any reason. */
	readonly killedByClient: boolean;
	/** The timeout or memory kill that came first, if any. */
	readonly cause: Extract<KillReason, { kind: 'timeout' | 'memory' }> | undefined;
	readonly memoryLimitMiB: number;
	readonly stderrTail: string;
	readonly stderrTruncated: boolean;
}

/** Latches how a host ended into a frozen HostExit. */
export function createHostExit(end: ProcessEnd, context: ExitContext): HostExit {
	const spawned = end.exitCode !== undefined || end.signal !== undefined;
	const abnormal = end.signal !== undefined || (end.exitCode !== undefined && end.exitCode !== 0);
	const allocationFailed = !context.killedByClient && abnormal && isAllocationFailure(context.stderrTail);
	const cause = context.cause;
	const memoryLimitExceeded = cause?.kind === 'memory' || allocationFailed;
	return Object.freeze({
		pid: context.pid,
		exitCode: end.exitCode,
		signal: end.signal,
		signalDescription: end.signalDescription,
		timedOut: cause?.kind === 'timeout',
		timeoutMs: cause?.kind === 'timeout' ? cause.timeoutMs : undefined,
		killedByClient: context.killedByClient,
		memoryLimitExceeded,
		memoryLimitMiB: memoryLimitExceeded ? context.memoryLimitMiB : undefined,
		residentMiB: cause?.kind === 'memory' ? toMiB(cause.residentBytes) : undefined,
		spawnError: spawned ? undefined : (end.originalMessage ?? end.shortMessage ?? 'unknown error'),
		stderrTail: context.stderrTail,
		stderrTruncated: context.stderrTruncated,
	});
}
