/**
 * Every sentence the client writes for people about a host: crashes, timeouts, the memory limit,
 * failed starts, quarantine, giving up, closed hosts, unsendable requests and unreadable answers.
 * One module, so the wording is changed (and documented, docs/reliability.md) in one place; callers
 * pass facts, never text to paste together. Option errors stay with their validators.
 */
import type { Span } from '../protocol/expand.js';
import type { MacroKind } from '../protocol/library.js';
import type { HostExit } from './host-exit.js';
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
	/** For expand calls: the package that library was built from, when known (named instead of the library). */
	readonly package?: { readonly name: string; readonly version: string };
	/** For expand calls: the call-site span given with the call. */
	readonly callSite?: Span;
	/** True when the call is not blamed, but run again on a new host: threads earlier calls left running may have killed the host. */
	readonly rerun?: boolean;
}

/**
 * The message of a HostCrashError: what was running and how the host ended (a timeout, the memory
 * limit, a signal or an exit code), then `note` (the client's own words, such as {@link quarantinedNote}),
 * then the host's stderr tail, last, so that nothing the client says reads as the host's output.
 */
export function crashMessage(exit: HostExit, call: CrashedCall | undefined, note = ''): string {
	let head: string;
	if (call === undefined) head = `The macro host died while idle: ${describeExit(exit)}.`;
	else if (exit.timedOut) head = `${describeCall(call)} timed out after ${exit.timeoutMs} ms; ${describeExit(exit)}.`;
	else if (exit.memoryLimitExceeded) head = `${describeCall(call)} ${describeMemory(exit)}; ${describeExit(exit)}.`;
	else if (call.rerun) {
		head =
			`the macro host died while running ${describeCall(call)}, with threads that earlier calls left running: ` +
			`${describeExit(exit)}. The call is not blamed: it runs again on a new host.`;
	} else head = `${describeCall(call)} crashed the macro host: ${describeExit(exit)}.`;
	// A panic's message is what the macro's author wrote for the user: it goes in the text itself.
	const panic = findPanic(exit.stderrTail);
	const panicked = panic ? `\nThe macro panicked at ${panic.location}: ${panic.message}` : '';
	return capitalize(head) + panicked + note + stderrSection(exit);
}

/** Why a host did not start, as {@link startMessage} ends its sentence. */
export type StartFailure =
	/** The process could not be spawned. */
	| { readonly kind: 'spawn'; readonly spawnError: string }
	/** The host answered a start request with an error. */
	| { readonly kind: 'refused'; readonly method: string; readonly message: string }
	/** A start request got no answer in time. */
	| { readonly kind: 'timeout'; readonly step: string; readonly timeoutMs: number | undefined }
	/** The host ended before answering. */
	| { readonly kind: 'ended'; readonly step: string; readonly exit: HostExit }
	/** Anything else. */
	| { readonly kind: 'failed'; readonly message: string };

/**
 * The message of a HostStartError: "The macro host could not start: `command` did not answer
 * initialize within 10 ms." `reason` ends the sentence ({@link describeStartFailure}).
 */
export function startMessage(command: string, reason: string, exit: HostExit | undefined): string {
	return `The macro host could not start: \`${command}\` ${reason}.${exit ? stderrSection(exit) : ''}`;
}

/** The message of a HostUnavailableError; `reason` is the restart policy's sentence ({@link giveUpReason}). */
export function unavailableMessage(reason: string): string {
	return `The macro host is unavailable: ${reason}; no more restarts are attempted.`;
}

/** Why the restart policy gave up: `recent` crashes within the window, more than `maxRestarts`. */
export function giveUpReason(maxRestarts: number, windowMs: number, recent: number): string {
	return maxRestarts === 0
		? 'the macro host crashed and restarts are disabled (restart.maxRestarts is 0)'
		: `the macro host crashed ${recent} times within ${windowMs} ms, ` +
				`more than the ${maxRestarts} restart${maxRestarts === 1 ? '' : 's'} allowed in that time (restart.maxRestarts)`;
}

/** Why the client stopped: a bug of its own (answered to every call rather than leaving them hanging). */
export function clientFailureReason(error: Error): string {
	return `the client failed: ${error.message}`;
}

/** The message of a HostClosedError. */
export function closedMessage(method: string): string {
	return `The macro host is closed; the ${method} call was not run.`;
}

/** The message of a RequestSendError. */
export function sendFailureMessage(method: string, reason: string): string {
	return `The ${method} request could not be sent to the macro host: ${reason}`;
}

/** The sentence added to a crash diagnostic (before its stderr section) when that crash put the macro in quarantine. */
export function quarantinedNote(crashes: number): string {
	return `\nIt has crashed or hung the host ${crashes} times and is now quarantined: later calls to it are not run.`;
}

/** The diagnostic of a call to a quarantined macro, answered without running it. */
export function quarantinedMessage(call: CrashedCall, crashes: number, quarantineAfter: number): string {
	return (
		`${capitalize(describeCall(call))} is quarantined: it crashed or hung the macro host ` +
		`${crashes} times (quarantineAfter is ${quarantineAfter}), so it is not run again.`
	);
}

/** The diagnostic of a call to a macro whose library was dropped because loading it into a restarted host crashed that host. */
export function droppedLibraryMessage(call: CrashedCall, exit: HostExit): string {
	return (
		`${capitalize(describeCall(call))} was not run: its library was dropped, because loading it into a restarted ` +
		`macro host ${exit.timedOut ? `did not finish within ${exit.timeoutMs} ms` : 'crashed that host'}: ${describeExit(exit)}.`
	);
}

/** The diagnostic of an expand call after the client gave up; `unavailable` is the HostUnavailableError's message. */
export function notRunMessage(call: CrashedCall, unavailable: string): string {
	return `${capitalize(describeCall(call))} was not run. ${unavailable}`;
}

/** The diagnostic of an answer whose large tokens could not be read back (`problem` says why). */
export function unreadableAnswerMessage(problem: string): string {
	return `bad result: the host's answer is unreadable: ${problem}`;
}

/** "inline macro `wrap` from library /l.so (call site bytes 3..9)", or "… from package foo 1.2.0 (…)": names a call for messages. */
export function describeCall(call: CrashedCall): string {
	if (call.macroName === undefined) return `the ${call.method} request`;
	const kind = call.macroKind === 'derive' ? 'derive' : `${call.macroKind ?? 'inline'} macro`;
	const library =
		call.package !== undefined ? `package ${call.package.name} ${call.package.version}` : call.library === undefined ? 'an unresolved library' : `library ${call.library}`;
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

/** "exceeded the memory limit of 256 MiB (the host's resident memory reached 262 MiB)". */
function describeMemory(exit: HostExit): string {
	const how = exit.residentMiB !== undefined ? `the host's resident memory reached ${exit.residentMiB} MiB` : 'an allocation failed';
	return `exceeded the memory limit of ${exit.memoryLimitMiB} MiB (${how})`;
}

/** Why a start failed, as the end of "`node main.js …` …". */
export function describeStartFailure(failure: StartFailure): string {
	switch (failure.kind) {
		case 'spawn':
			return `could not be spawned: ${failure.spawnError}`;
		case 'refused':
			return `refused ${failure.method}: ${failure.message}`;
		case 'timeout':
			return `did not answer ${failure.step} within ${failure.timeoutMs} ms`;
		case 'ended':
			return `ended before answering ${failure.step}: ${describeExit(failure.exit)}`;
		case 'failed':
			return `failed: ${failure.message}`;
	}
}

function capitalize(text: string): string {
	return text.charAt(0).toUpperCase() + text.slice(1);
}
