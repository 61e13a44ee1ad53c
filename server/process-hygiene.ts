/**
 * The host process's manners: no core dumps, death with its parent, exit at the end of its input,
 * and a C stack deep enough for recursive macros.
 */
import koffi from 'koffi';
import type { Readable } from 'node:stream';
import { getLibc, LibcConstants } from './libc.js';

/**
 * Stack size for synchronous koffi calls, i.e. for every macro call: koffi runs native code on its
 * own stack block (2 MiB by default, which a deeply recursive macro overflows). 16 MiB is koffi's maximum.
 */
export const MACRO_STACK_SIZE = 16 * 1024 * 1024;

/** How often to look for a dead parent where PR_SET_PDEATHSIG does not exist. */
const PARENT_POLL_MS = 1000;

// Read as early as possible: once the parent dies, getppid() changes to the reaper's pid.
const parentAtStart = process.ppid;

/**
 * Raises koffi's synchronous stack. Koffi refuses configuration once any library is loaded
 * (libc included), so this must run before guardStdio() and before any macro library.
 */
export function configureMacroStack(): void {
	koffi.config({ ...koffi.config(), sync_stack_size: MACRO_STACK_SIZE });
}

/** Options of {@link applyProcessHygiene}. */
export interface HygieneOptions {
	/** Called when the parent process is found dead (where no death signal is available). */
	onParentGone: () => void;
}

/** What the host keeps of freed memory before it gives it back to the kernel (see keepFreedMemory). */
const TRIM_THRESHOLD_BYTES = 256 * 1024 * 1024;
/** Allocations from this size get their own mapping (glibc's own upper bound for its dynamic threshold). */
const MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024;

/**
 * Keeps the memory a macro frees for its next call. With glibc's defaults, a library that allocates and
 * frees buffers of a few MiB per call (Scarb's token arrays for a large input, say) has them handed back
 * to the kernel and faulted in again, call after call: a Scarb identity of 20,000 tokens went from 0.4 ms
 * to 5–7 ms in phases of tens of calls. The host then keeps up to 256 MiB of free heap, and maps only
 * allocations from 32 MiB. A no-op where the C library is not glibc.
 */
export function keepFreedMemory(): void {
	const libc = getLibc();
	if (libc.mallopt === undefined) return;
	if (libc.mallopt(LibcConstants.M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) !== 1 || libc.mallopt(LibcConstants.M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) !== 1) {
		console.error('macro-host: cannot tune malloc (mallopt refused): large calls may be slower');
	}
}

/** Turns off core dumps and ties the host's life to its parent's. */
export function applyProcessHygiene(options: HygieneOptions): void {
	const libc = getLibc();
	// A crashing macro must not leave a core file (often hundreds of MiB) in the user's project.
	if (libc.setrlimit(LibcConstants.RLIMIT_CORE, { rlim_cur: 0, rlim_max: 0 }) !== 0) {
		console.error(`macro-host: cannot disable core dumps: ${libc.lastError()}`);
	}
	if (libc.prctl) {
		// The kernel kills the host when the thread that spawned it dies.
		if (libc.prctl(LibcConstants.PR_SET_PDEATHSIG, LibcConstants.SIGKILL) !== 0) {
			console.error(`macro-host: cannot set the parent-death signal: ${libc.lastError()}`);
		}
		// The parent may have died before prctl ran; then no signal will ever come.
		if (libc.getppid() !== parentAtStart) options.onParentGone();
		return;
	}
	const timer = setInterval(() => {
		if (libc.getppid() !== parentAtStart) options.onParentGone();
	}, PARENT_POLL_MS);
	timer.unref();
}

/** Calls `onEnd` once when the protocol input reaches end-of-file (the client closed our stdin). */
export function onEndOfInput(input: Readable, onEnd: () => void): void {
	let ended = false;
	const end = (): void => {
		if (ended) return;
		ended = true;
		onEnd();
	};
	input.once('end', end);
	input.once('close', end);
}
