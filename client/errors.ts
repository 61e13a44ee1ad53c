/**
 * Errors the client raises. Local failures (the host process died, could not start, was closed) and
 * wire errors (the host answered a request with a JSON-RPC error) never share a type, and callers
 * branch on fields and flags (`timedOut`, `signal`, `code`), never on message text.
 */
import type { MacroKind, Span } from '../protocol/index.js';
import type { HostExit } from './host-process.js';
import { findPanic } from './panic-message.js';

/** The request a crash interrupted, when the client knows it. */
export interface CrashedCall {
	/** The JSON-RPC method that was running. */
	readonly method: string;
	/** For expand calls: the macro's kind. */
	readonly macroKind?: MacroKind;
	/** For expand calls: the macro's name (derive calls: the derive names joined by ", "). */
	readonly macroName?: string;
	/** For expand calls: the library id the macro came from, when known. */
	readonly library?: string;
	/** For expand calls: the call-site span given with the call. */
	readonly callSite?: Span;
}

/**
 * The host process died (by a signal, an exit code, or a kill after a request timed out) while a
 * request was running. Expand calls turn it into a bail diagnostic; other calls reject with it.
 */
export class HostCrashError extends Error {
	override readonly name = 'HostCrashError';
	/** Process id of the host that died. */
	readonly pid: number | undefined;
	/** The host's exit code; undefined when a signal ended it. */
	readonly exitCode: number | undefined;
	/** The signal that ended the host (e.g. "SIGSEGV"); undefined when it exited. */
	readonly signal: string | undefined;
	/** What the signal means (e.g. "Segmentation fault"). */
	readonly signalDescription: string | undefined;
	/** True when the client killed the host because a request ran longer than `requestTimeoutMs`. */
	readonly timedOut: boolean;
	/** The timeout that expired, when `timedOut`. */
	readonly timeoutMs: number | undefined;
	/** True when the host went over `memoryLimitMiB` (killed at the limit, or an allocation failed). */
	readonly memoryLimitExceeded: boolean;
	/** The memory limit, in MiB, when `memoryLimitExceeded`. */
	readonly memoryLimitMiB: number | undefined;
	/** The last bytes the host wrote to stderr (a macro's own output lands there too). */
	readonly stderrTail: string;
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
		this.pid = exit.pid;
		this.exitCode = exit.exitCode;
		this.signal = exit.signal;
		this.signalDescription = exit.signalDescription;
		this.timedOut = exit.timedOut;
		this.timeoutMs = exit.timeoutMs;
		this.memoryLimitExceeded = exit.memoryLimitExceeded;
		this.memoryLimitMiB = exit.memoryLimitMiB;
		this.stderrTail = exit.stderrTail;
		this.method = call?.method;
		this.macroName = call?.macroName;
		this.macroKind = call?.macroKind;
		this.library = call?.library;
		this.callSite = call?.callSite;
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
		super(`The macro host could not start: \`${command}\` ${reason}.${exit ? stderrSection(exit) : ''}`, options);
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
		super(`The macro host is unavailable: ${reason}; no more restarts are attempted.`, { cause: lastFailure });
		this.reason = reason;
	}
}

/** The MacroHost was closed: the call came after close(), or was still unanswered when the host went away. */
export class HostClosedError extends Error {
	override readonly name = 'HostClosedError';
	constructor(method: string) {
		super(`The macro host is closed; the ${method} call was not run.`);
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
		super(`The ${method} request could not be sent to the macro host: ${reason}`, options);
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

/** "inline macro `wrap` from library /l.so (call site bytes 3..9)": names a call for messages. */
export function describeCall(call: CrashedCall): string {
	if (call.macroName === undefined) return `the ${call.method} request`;
	const kind = call.macroKind === 'derive' ? 'derive' : `${call.macroKind ?? 'inline'} macro`;
	const library = call.library === undefined ? 'an unresolved library' : `library ${call.library}`;
	const site = call.callSite === undefined ? 'no call site given' : `call site bytes ${call.callSite.start}..${call.callSite.end}`;
	return `${kind} \`${call.macroName}\` from ${library} (${site})`;
}

/** How the host ended, as the end of a sentence ("the host was killed by SIGSEGV (Segmentation fault)"). */
export function describeExit(exit: HostExit): string {
	if (exit.spawnError !== undefined) return `the host could not be spawned: ${exit.spawnError}`;
	if (exit.timedOut || exit.residentMiB !== undefined) return `the host was killed with SIGKILL`;
	if (exit.signal !== undefined) {
		const what = exit.signalDescription ? ` (${exit.signalDescription})` : '';
		return `the host was killed by ${exit.signal}${what}`;
	}
	if (exit.exitCode !== undefined) return `the host exited with code ${exit.exitCode}`;
	return 'the host ended for an unknown reason';
}

/** The stderr part of a message: the tail on its own lines, or a sentence saying there was none. */
export function stderrSection(exit: HostExit): string {
	const tail = exit.stderrTail.trimEnd();
	if (tail === '') return exit.stderrTruncated ? '\nThe host wrote to stderr, but stderrTailBytes is 0.' : '\nThe host wrote nothing to stderr.';
	return `\nHost stderr${exit.stderrTruncated ? ` (last ${Buffer.byteLength(exit.stderrTail)} bytes)` : ''}:\n${tail}`;
}

/** "exceeded the memory limit of 256 MiB (resident memory reached 262 MiB)". */
function describeMemory(exit: HostExit): string {
	const how = exit.residentMiB !== undefined ? `the host's resident memory reached ${exit.residentMiB} MiB` : 'an allocation failed';
	return `exceeded the memory limit of ${exit.memoryLimitMiB} MiB (${how})`;
}

function crashMessage(exit: HostExit, call: CrashedCall | undefined): string {
	let head: string;
	if (call === undefined) head = `The macro host died while idle: ${describeExit(exit)}.`;
	else if (exit.timedOut) head = `${describeCall(call)} timed out after ${exit.timeoutMs} ms; ${describeExit(exit)}.`;
	else if (exit.memoryLimitExceeded) head = `${describeCall(call)} ${describeMemory(exit)}; ${describeExit(exit)}.`;
	else head = `${describeCall(call)} crashed the macro host: ${describeExit(exit)}.`;
	// A panic's message is what the macro's author wrote for the user: it goes in the text itself.
	const panic = findPanic(exit.stderrTail);
	const panicked = panic ? `\nThe macro panicked at ${panic.location}: ${panic.message}` : '';
	return head.charAt(0).toUpperCase() + head.slice(1) + panicked + stderrSection(exit);
}
