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
import { getLibc, LibcConstants, STAT_BUFFER_BYTES, statIdentityOffsets } from './libc.js';

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
/** A spare copy of an fd, and the identity (device, inode) the fd must keep. */
interface SavedFd {
	fd: number;
	dev: number;
	ino: number;
}
/** A private copy of the original stderr, and the identity fds 1 and 2 must keep (see repairStdio). */
let savedStderr: SavedFd | undefined;
/** Spare copies of the private protocol fds, to put them back when a macro closed or replaced them. */
let savedProtocol: Array<{ fd: number; what: string; spare: SavedFd }> = [];

/**
 * Where the spare copies of the protocol fds go: far above the fds a process normally uses, so that a macro
 * that closes or replaces "every fd from 3 to N" takes the protocol fds but not their spares. Lower starts are
 * tried when the fd limit is below one.
 */
const SPARE_FD_STARTS = [1000, 512, 256, 3];

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
	savedProtocol = [
		{ fd: inputFd, what: "the protocol's input from the client" },
		{ fd: outputFd, what: "the protocol's output to the client" },
	].flatMap(({ fd, what }) => {
		const spare = spareCopy(fd);
		return spare === undefined ? [] : [{ fd, what, spare }];
	});
	routeConsoleToStderr();
	guarded = { input: openInput(inputFd), output: openOutput(outputFd), inputFd, outputFd };
	return guarded;
}

/** Which fds {@link repairStdio} checks: fds 1 and 2, the private protocol fds, or both. */
export type StdioParts = 'stdio' | 'protocol' | 'all';

/**
 * Puts fds 1 and 2 back on the original stderr when a macro closed them or pointed them elsewhere
 * (`close(2)`, `dup2(devnull, 1)`), and the private protocol fds back on the client's pipes. Without it
 * the host's own log, and every later macro's output, would be lost, or would land in whatever file next
 * took the closed fd's number; and a replaced protocol fd would send the reply nowhere, which the client
 * would only notice at its request timeout. Called after every request (see guard() in dispatch.ts for
 * when); an fstat per fd checked when nothing changed. Returns one sentence per fd it repaired, for the host's log.
 */
export function repairStdio(parts: StdioParts = 'all'): string[] {
	const repaired: string[] = [];
	const saved = savedStderr;
	if (saved !== undefined && parts !== 'protocol') {
		for (const fd of [1, 2]) {
			if (!isIntact(fd, saved) && getLibc().dup2(saved.fd, fd) >= 0) repaired.push(`fd ${fd} was closed or redirected by a macro; pointed it back at stderr`);
		}
	}
	for (const { fd, what, spare } of parts === 'stdio' ? [] : savedProtocol) {
		if (isIntact(fd, spare)) continue;
		// The spare itself may be gone too (a macro that closed every fd): then the protocol is lost, and the log says so.
		const restored = isIntact(spare.fd, spare) && getLibc().dup2(spare.fd, fd) >= 0;
		repaired.push(
			restored
				? `fd ${fd} (${what}) was closed or redirected by a macro; put it back`
				: `fd ${fd} (${what}) was closed or redirected by a macro, and its spare copy is gone: ${getLibc().lastError()}`,
		);
	}
	return repaired;
}

const statBuffer = Buffer.alloc(STAT_BUFFER_BYTES);

/** True when `fd` is open on the file `saved` recorded. */
function isIntact(fd: number, saved: SavedFd): boolean {
	// Four of these run after every call: libc's fstat into one buffer costs about 1.6 µs here, node's
	// fstatSync (a Stats object each time) about 2.4 µs.
	const at = statIdentityOffsets;
	if (at !== undefined) {
		if (getLibc().fstat(fd, statBuffer) < 0) return false;
		return readU64(statBuffer, at.dev) === saved.dev && readU64(statBuffer, at.ino) === saved.ino;
	}
	try {
		const stat = fstatSync(fd);
		return stat.dev === saved.dev && stat.ino === saved.ino;
	} catch {
		// EBADF: the macro closed it.
		return false;
	}
}

/** A little-endian 64-bit field as a number (exact below 2^53, as node's own Stats numbers are). */
function readU64(buf: Buffer, at: number): number {
	return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * 0x1_0000_0000;
}

/** A close-on-exec copy of `fd` at a high number (see SPARE_FD_STARTS), with its identity; undefined when none can be made. */
function spareCopy(fd: number): SavedFd | undefined {
	const libc = getLibc();
	for (const start of SPARE_FD_STARTS) {
		const spare = libc.fcntlInt(fd, LibcConstants.F_DUPFD_CLOEXEC, start);
		if (spare < 0) continue;
		const stat = fstatSync(spare);
		return { fd: spare, dev: stat.dev, ino: stat.ino };
	}
	return undefined;
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
