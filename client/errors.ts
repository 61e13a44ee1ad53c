/**
 * Errors the client raises. Local failures (the host process died, could not start, was closed) and
 * wire errors (the host answered a request with a JSON-RPC error) never share a type, and callers
 * branch on fields and flags (`timedOut`, `signal`, `code`), never on message text.
 */
import type { Span } from '../protocol/expand.js';
import type { MacroKind } from '../protocol/library.js';
import type { HostExit } from './host-exit.js';
import { closedMessage, crashMessage, sendFailureMessage, startMessage, unavailableMessage, type CrashedCall } from './messages.js';

export type { CrashedCall };

/**
 * The host process died (by a signal, an exit code, or a kill after a request timed out) while a
 * request was running. Expand calls turn it into a bail diagnostic; other calls reject with it.
 */
export class HostCrashError extends Error {
	override readonly name = 'HostCrashError';
	/** How the host ended (its exit code or signal, why the client killed it, its stderr tail). */
	readonly exit: HostExit;
	/** The request that was running; undefined when the host died while idle. */
	readonly method: string | undefined;
	/** The macro that was running, for expand calls. */
	readonly macroName: string | undefined;
	/** The macro's kind, for expand calls. */
	readonly macroKind: MacroKind | undefined;
	/** The library id of the macro, when the client could tell. */
	readonly library: string | undefined;
	/** The call site given with the expand call. */
	readonly callSite: Span | undefined;

	constructor(exit: HostExit, call?: CrashedCall) {
		super(crashMessage(exit, call));
		this.exit = exit;
		this.method = call?.method;
		this.macroName = call?.macroName;
		this.macroKind = call?.macroKind;
		this.library = call?.library;
		this.callSite = call?.callSite;
	}

	/** Process id of the host that died. */
	get pid(): number | undefined {
		return this.exit.pid;
	}
	/** The host's exit code; undefined when a signal ended it. */
	get exitCode(): number | undefined {
		return this.exit.exitCode;
	}
	/** The signal that ended the host (e.g. "SIGSEGV"); undefined when it exited. */
	get signal(): string | undefined {
		return this.exit.signal;
	}
	/** What the signal means (e.g. "Segmentation fault"). */
	get signalDescription(): string | undefined {
		return this.exit.signalDescription;
	}
	/** True when the client killed the host because a request ran longer than `requestTimeoutMs`. */
	get timedOut(): boolean {
		return this.exit.timedOut;
	}
	/** The timeout that expired, when `timedOut`. */
	get timeoutMs(): number | undefined {
		return this.exit.timeoutMs;
	}
	/** True when the host went over `memoryLimitMiB` (killed at the limit, or an allocation failed). */
	get memoryLimitExceeded(): boolean {
		return this.exit.memoryLimitExceeded;
	}
	/** The memory limit, in MiB, when `memoryLimitExceeded`. */
	get memoryLimitMiB(): number | undefined {
		return this.exit.memoryLimitMiB;
	}
	/** The last bytes the host wrote to stderr (a macro's own output lands there too). */
	get stderrTail(): string {
		return this.exit.stderrTail;
	}
}

/** The host process could not be started: spawn failed, or it died or failed before answering `initialize`. */
export class HostStartError extends Error {
	override readonly name = 'HostStartError';
	/** The command line that was run. */
	readonly command: string;
	/** How the process ended, when it did (undefined when initialize was refused by a live host). */
	readonly exit: HostExit | undefined;

	constructor(command: string, reason: string, exit: HostExit | undefined, options?: { cause?: unknown }) {
		super(startMessage(command, reason, exit), options);
		this.command = command;
		this.exit = exit;
	}
}

/**
 * The host keeps failing and the restart policy gave up. Non-expand calls reject with it from then
 * on; expand calls answer bail with a `host-unavailable` diagnostic carrying the same message.
 */
export class HostUnavailableError extends Error {
	override readonly name = 'HostUnavailableError';
	/** The policy's sentence on why it gave up. */
	readonly reason: string;

	/** @param lastFailure the crash (or failed start) that made the policy give up. */
	constructor(reason: string, lastFailure: Error | undefined) {
		super(unavailableMessage(reason), { cause: lastFailure });
		this.reason = reason;
	}
}

/** The MacroHost was closed: the call came after close(), or was still unanswered when the host went away. */
export class HostClosedError extends Error {
	override readonly name = 'HostClosedError';
	constructor(method: string) {
		super(closedMessage(method));
	}
}

/**
 * A request could not be sent to a live host because its params could not be encoded (a cycle, a
 * BigInt, a function…). The host never saw it; nothing else is affected.
 */
export class RequestSendError extends Error {
	override readonly name = 'RequestSendError';
	/** The method that could not be sent. */
	readonly method: string;
	constructor(method: string, reason: string, options?: { cause?: unknown }) {
		super(sendFailureMessage(method, reason), options);
		this.method = method;
	}
}

/**
 * The host answered a request with a JSON-RPC error (unknown macro, library load failure, ABI
 * mismatch, bad params…). `code` is one of MacroHostErrorCodes; `data` is the typed data it documents.
 */
export class MacroHostRequestError<D = unknown> extends Error {
	override readonly name = 'MacroHostRequestError';
	/** The JSON-RPC error code. */
	readonly code: number;
	/** The error's `data`, typed per code in protocol/errors.ts. */
	readonly data: D | undefined;
	/** The method that was refused. */
	readonly method: string;

	constructor(method: string, code: number, message: string, data: D | undefined) {
		super(message);
		this.method = method;
		this.code = code;
		this.data = data;
	}
}
