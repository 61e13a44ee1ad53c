/**
 * Writes the call mark (protocol/call-mark.ts) to fd 2 before each request, once the client asked for it in
 * `initialize`. Written straight to the descriptor, as a macro's own output is, so the mark and what the macro
 * writes reach the pipe in the order they happened.
 */
import { writeSync } from 'node:fs';
import { CALL_MARK } from '../protocol/call-mark.js';

const MARK = Buffer.from(CALL_MARK, 'latin1');
let enabled = false;

/** Turns the marks on or off (the `markCalls` field of initialize). */
export function setCallMarks(on: boolean): void {
	enabled = on;
}

/** Marks the start of a request on stderr, when marks are on. */
export function markCallStart(): void {
	if (!enabled) return;
	try {
		writeSync(2, MARK);
	} catch {
		// A macro closed or redirected fd 2: the host puts it back after the call; this one call goes unmarked.
	}
}
