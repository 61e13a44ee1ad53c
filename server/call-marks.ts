/**
 * Writes the call mark (protocol/call-mark.ts) to fd 2 after each request, once the client asked for it in
 * `initialize`, and the threads mark after a request that left more threads running than there were.
 * The mark goes after the request and not before the next one: a lone call's mark then follows its reply
 * by a few microseconds, and a waiting client reads both in one wake-up; written before the call, the mark
 * woke the client once more per call (13 µs of its CPU on a 20-token echo). The output between two marks is
 * the same either way, since nothing runs between one request's end and the next one's start.
 * Written straight to the descriptor, as a macro's own output is, so the marks and what the macro writes
 * reach the pipe in the order they happened.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { CALL_MARK, THREADS_MARK } from '../protocol/call-mark.js';

const MARK = Buffer.from(CALL_MARK, 'latin1');
const THREADS = Buffer.from(THREADS_MARK, 'latin1');
/**
 * Threads are counted after each of the first CHECK_FIRST requests, then after a request that ends at
 * least CHECK_INTERVAL_MS after the last count: a read of /proc/self/stat costs 4 µs in a bare node and
 * up to 140 µs in a busy host (profiled under expand-project), as much as several small calls; a thread
 * left running keeps the count up until a check sees it.
 */
const CHECK_FIRST = 16;
const CHECK_INTERVAL_MS = 10;
let lastCheck = 0;
let enabled = false;
let requests = 0;
let lastThreads: number | undefined;
let statFd: number | undefined;
let noProc = false;
const statBuffer = Buffer.alloc(1024);

/** Turns the marks on or off (the `markCalls` field of initialize). */
export function setCallMarks(on: boolean): void {
	enabled = on;
}

/** Marks the end of a request on stderr, when marks are on: what follows belongs to the next. */
export function markCallEnd(): void {
	if (enabled) write(MARK);
}

/**
 * The calls of a batch run while the client waits for the batch's one reply, so each of their marks woke
 * it (a third of a batch's cost on 20-token calls). A mark only matters after a call that wrote something:
 * the output after the last mark is then still the running call's alone, since every call before it either
 * wrote nothing or was followed by a mark. So in a batch the host counts its process's write system calls
 * (`syscw` in /proc/self/io, every thread's: 3 µs a read, no wake-up of anyone) and writes a call's mark only
 * when the count moved during it. A write the count misses (a socket `send`, not `write`) only lets an
 * earlier call's output into a crash report; where there is no /proc, every call gets its mark.
 */
let writesAtMark: number | undefined;

/** Before the first call of a batch: the write count from which {@link markBatchCallEnd} looks for output. */
export function startBatchMarks(): void {
	writesAtMark = enabled ? writeCount() : undefined;
}

/** After a call of a batch: its mark, when the process wrote since the last one (or cannot tell). */
export function markBatchCallEnd(): void {
	if (!enabled) return;
	const writes = writeCount();
	if (writes !== undefined && writes === writesAtMark) return;
	write(MARK);
	// The mark is one write system call of its own; had it failed, the next count differs and marks again.
	writesAtMark = writes === undefined ? undefined : writes + 1;
}

let ioFd: number | undefined;
let noIo = false;
const ioBuffer = Buffer.alloc(256);
const SYSCW = Buffer.from('syscw: ', 'latin1');

/** How many write system calls the process has made (`syscw` of /proc/self/io), or undefined without one. */
function writeCount(): number | undefined {
	if (noIo) return undefined;
	try {
		ioFd ??= openSync('/proc/self/io', 'r');
		const length = readSync(ioFd, ioBuffer, 0, ioBuffer.length, 0);
		let at = ioBuffer.subarray(0, length).indexOf(SYSCW);
		if (at === -1) throw new Error('no syscw in /proc/self/io');
		let count = 0;
		for (at += SYSCW.length; at < length; at++) {
			const digit = ioBuffer[at]! - 0x30;
			if (digit < 0 || digit > 9) break;
			count = count * 10 + digit;
		}
		return count;
	} catch {
		if (ioFd !== undefined) closeSync(ioFd);
		ioFd = undefined;
		// No /proc/self/io (not Linux, or a kernel without task I/O accounting): every call of a batch is marked.
		noIo = true;
		return undefined;
	}
}

/** After a request: writes the threads mark when the host now runs more threads than at the last check. */
export function markThreadsLeftBehind(): void {
	if (!enabled || noProc) return;
	requests++;
	if (requests > CHECK_FIRST) {
		const now = performance.now();
		if (now - lastCheck < CHECK_INTERVAL_MS) return;
		lastCheck = now;
	}
	const count = threadCount();
	if (count === undefined) return;
	if (lastThreads !== undefined && count > lastThreads) write(THREADS);
	lastThreads = count;
}

function write(mark: Buffer): void {
	try {
		writeSync(2, mark);
	} catch {
		// A macro closed or redirected fd 2: the host puts it back after the call; this one mark is lost.
	}
}

/** The process's thread count (field 20 of /proc/self/stat), or undefined where there is no /proc. */
function threadCount(): number | undefined {
	try {
		statFd ??= openSync('/proc/self/stat', 'r');
		const length = readSync(statFd, statBuffer, 0, statBuffer.length, 0);
		const text = statBuffer.toString('latin1', 0, length);
		// The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
		const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
		const count = Number(fields[17]);
		return Number.isInteger(count) ? count : undefined;
	} catch {
		if (statFd !== undefined) closeSync(statFd);
		statFd = undefined;
		// No /proc (not Linux): threads are not counted, call marks go on.
		noProc = true;
		return undefined;
	}
}
