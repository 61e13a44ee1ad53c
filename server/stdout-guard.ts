/**
 * Makes the protocol channel private before any macro library is loaded.
 *
 * Architecture invariant: nothing but protocol frames ever reaches the host's stdout, and nothing
 * but the client's frames is ever read from its stdin. The original stdout and stdin are duplicated
 * to private close-on-exec fds that only the protocol uses; fd 1 is then pointed at stderr (so a
 * macro's printf or println! lands in the host's log) and fd 0 at /dev/null (so a macro that reads
 * stdin sees end-of-file instead of eating protocol bytes).
 */
import { closeSync, createReadStream, createWriteStream, fstatSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { isatty, ReadStream, WriteStream } from 'node:tty';
import { getLibc, LibcConstants } from './libc.js';

/** The private protocol streams that replace stdin and stdout. */
export interface ProtocolStdio {
	/** Reads the client's frames (the original stdin). */
	input: Readable;
	/** Writes frames to the client (the original stdout). */
	output: Writable;
	/** The private fds behind them, for tests and diagnostics. */
	inputFd: number;
	outputFd: number;
}

let guarded: ProtocolStdio | undefined;
/** A private copy of the original stderr, and the identity fds 1 and 2 must keep (see repairStdio). */
let savedStderr: { fd: number; dev: number; ino: number } | undefined;

/**
 * Moves the protocol onto private fds and points fd 1 at stderr and fd 0 at /dev/null. Call it
 * before anything touches process.stdout and before any macro library is loaded. Idempotent.
 */
export function guardStdio(): ProtocolStdio {
	if (guarded) return guarded;
	const libc = getLibc();
	// Fds below 3 are stdio; the private copies go above them and do not leak into child processes.
	const outputFd = libc.fcntlInt(1, LibcConstants.F_DUPFD_CLOEXEC, 3);
	if (outputFd < 0) throw new Error(`stdout guard: cannot duplicate stdout: ${libc.lastError()}`);
	if (libc.dup2(2, 1) < 0) throw new Error(`stdout guard: cannot point stdout at stderr: ${libc.lastError()}`);
	const inputFd = libc.fcntlInt(0, LibcConstants.F_DUPFD_CLOEXEC, 3);
	if (inputFd < 0) throw new Error(`stdout guard: cannot duplicate stdin: ${libc.lastError()}`);
	const devNull = openSync('/dev/null', 'r');
	const redirected = libc.dup2(devNull, 0);
	closeSync(devNull);
	if (redirected < 0) throw new Error(`stdout guard: cannot point stdin at /dev/null: ${libc.lastError()}`);
	const stderrFd = libc.fcntlInt(2, LibcConstants.F_DUPFD_CLOEXEC, 3);
	if (stderrFd >= 0) {
		const stat = fstatSync(stderrFd);
		savedStderr = { fd: stderrFd, dev: stat.dev, ino: stat.ino };
	}
	routeConsoleToStderr();
	guarded = { input: openInput(inputFd), output: openOutput(outputFd), inputFd, outputFd };
	return guarded;
}

/**
 * Puts fds 1 and 2 back on the original stderr when a macro closed them or pointed them elsewhere
 * (`close(2)`, `dup2(devnull, 1)`). Without it the host's own log, and every later macro's output,
 * would be lost, or would land in whatever file next took the closed fd's number. Called after
 * every request; two fstat calls when nothing changed. Returns the fds it repaired.
 */
export function repairStdio(): number[] {
	const saved = savedStderr;
	if (saved === undefined) return [];
	const repaired: number[] = [];
	for (const fd of [1, 2]) {
		let intact = false;
		try {
			const stat = fstatSync(fd);
			intact = stat.dev === saved.dev && stat.ino === saved.ino;
		} catch {
			// EBADF: the macro closed it.
		}
		if (!intact && getLibc().dup2(saved.fd, fd) >= 0) repaired.push(fd);
	}
	return repaired;
}

/** console.log and console.info would write to fd 1; say explicitly that they belong in the log. */
function routeConsoleToStderr(): void {
	console.log = console.error;
	console.info = console.error;
	console.debug = console.error;
}

// A pipe or socket gets a net.Socket: libuv makes the fd non-blocking, and an fs stream would then
// fail with EAGAIN. A terminal gets a tty stream; a regular file (e.g. `serve < requests`) an fs-backed one.
function openInput(fd: number): Readable {
	const stat = fstatSync(fd);
	if (stat.isFIFO() || stat.isSocket()) return new Socket({ fd, readable: true, writable: false });
	if (isatty(fd)) return new ReadStream(fd);
	return createReadStream('', { fd, autoClose: true });
}

function openOutput(fd: number): Writable {
	const stat = fstatSync(fd);
	if (stat.isFIFO() || stat.isSocket()) return new Socket({ fd, readable: false, writable: true });
	if (isatty(fd)) return new WriteStream(fd);
	return createWriteStream('', { fd, autoClose: true });
}
