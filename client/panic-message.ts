/**
 * The message of a Rust panic, read back from what the panic hook printed on the host's stderr.
 * A macro that panics across `extern "C"` (as every Scarb macro does: nothing catches it) aborts
 * the host, and the message the author wrote for the user is only in that text. Both forms the
 * standard hook has printed are read:
 * - Rust 1.73 and later: `thread 'NAME' (TID) panicked at FILE:LINE:COL:` then the message on the
 *   following lines (up to a `note:` line, a backtrace, the next `thread '…'` line or the end);
 * - before 1.73: `thread 'NAME' panicked at 'MESSAGE', FILE:LINE:COL`.
 * An abort through `extern "C"` prints a second panic from the runtime ("panic in a function that
 * cannot unwind"); the macro's own panic is preferred over such follow-ups.
 */

/** One panic the hook printed. */
export interface PanicReport {
	/** What the panicking code said (may span lines). */
	message: string;
	/** Where it panicked, as printed: `src/lib.rs:58:5`. */
	location: string;
}

// `panicked at FILE:LINE:COL:` at the end of a line: the modern form.
const MODERN = /panicked at (.+?:\d+:\d+):\n/g;
// `panicked at 'MESSAGE', FILE:LINE:COL`: the form before Rust 1.73.
const CLASSIC = /panicked at '([\s\S]*?)', (\S+?:\d+:\d+)/g;
// Lines that end a modern panic's message.
const MESSAGE_END = /^(note: |stack backtrace:|thread '|\s+\d+: )/;
// Panics the runtime adds after the real one when unwinding is impossible.
const RUNTIME_FOLLOW_UP = /^panic in a (function that cannot unwind|destructor during cleanup|drop implementation)/;

/** The macro's panic in a stderr tail: the last one that is not a runtime follow-up, else the last; undefined when none. */
export function findPanic(stderr: string): PanicReport | undefined {
	const found: { at: number; report: PanicReport }[] = [];
	for (const match of stderr.matchAll(MODERN)) {
		const start = match.index + match[0].length;
		const lines: string[] = [];
		for (const line of stderr.slice(start).split('\n')) {
			if (MESSAGE_END.test(line)) break;
			lines.push(line);
		}
		found.push({ at: match.index, report: { message: lines.join('\n').trimEnd(), location: match[1] } });
	}
	for (const match of stderr.matchAll(CLASSIC)) {
		found.push({ at: match.index, report: { message: match[1], location: match[2] } });
	}
	found.sort((a, b) => a.at - b.at);
	const own = found.filter((f) => !RUNTIME_FOLLOW_UP.test(f.report.message));
	return (own.at(-1) ?? found.at(-1))?.report;
}
