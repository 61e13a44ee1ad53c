/**
 * The memory limit, enforced from the client. A macro runs as one synchronous call that blocks the
 * host's event loop, so the host cannot watch its own memory while the macro grows it: the client
 * does, reading the host's resident memory from /proc while a request is in flight, and kills the
 * host at the limit. The host adds a data-segment ceiling (RLIMIT_DATA, server/memory-limit.ts), so
 * a single huge allocation fails inside the macro at once; {@link isAllocationFailure} recognises
 * the crash that follows by what the allocator printed.
 */
import { readFileSync } from 'node:fs';

/** The memory limit when none is given, in MiB (the host's own default is the same). */
export const DEFAULT_MEMORY_LIMIT_MIB = 2048;

/** The smallest memory limit accepted, in MiB: a host with a few libraries loaded needs about 60. */
export const MIN_MEMORY_LIMIT_MIB = 64;

/** How often the host's memory is read while a request runs. A read costs a few microseconds. */
export const MEMORY_POLL_MS = 20;

const MIB = 1024 * 1024;

/** The host's command-line flag for a limit: none for the host's own default, so the command line stays short. */
export function memoryLimitArgs(limitMiB: number): string[] {
	return limitMiB === DEFAULT_MEMORY_LIMIT_MIB ? [] : ['--memory-limit-mib', String(limitMiB)];
}

/**
 * What allocators print when an allocation fails, just before they abort: Rust's default handler,
 * C++'s uncaught std::bad_alloc, V8 and Go running out of memory, and strerror(ENOMEM).
 */
const ALLOCATION_FAILURE = /memory allocation of \d+ bytes failed|std::bad_alloc|out of memory|Cannot allocate memory/i;

/** True when a dying host's stderr tail says an allocation failed. */
export function isAllocationFailure(stderrTail: string): boolean {
	return ALLOCATION_FAILURE.test(stderrTail);
}

/** The resident memory of a process in bytes (VmRSS), or undefined when it cannot be read (gone, not Linux). */
export function readResidentBytes(pid: number): number | undefined {
	let status: string;
	try {
		status = readFileSync(`/proc/${pid}/status`, 'latin1');
	} catch {
		return undefined;
	}
	const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
	return match ? Number(match[1]) * 1024 : undefined;
}

/** Bytes as whole MiB, for messages. */
export function toMiB(bytes: number): number {
	return Math.round(bytes / MIB);
}

/** Polls one process's resident memory while it has work, and reports once when it crosses the limit. */
export class MemoryWatchdog {
	readonly #pid: number;
	readonly #limitBytes: number;
	readonly #onExceeded: (residentBytes: number) => void;
	#busy = 0;
	#timer: NodeJS.Timeout | undefined;
	#fired = false;

	/** @param onExceeded called once, with the resident memory that crossed `limitMiB`. */
	constructor(pid: number, limitMiB: number, onExceeded: (residentBytes: number) => void) {
		this.#pid = pid;
		this.#limitBytes = limitMiB * MIB;
		this.#onExceeded = onExceeded;
	}

	/** A request was sent: poll until every request sent has settled. */
	begin(): void {
		if (++this.#busy === 1 && !this.#fired) {
			this.#timer = setInterval(() => this.#check(), MEMORY_POLL_MS);
			// The watchdog never keeps the client alive on its own.
			this.#timer.unref();
		}
	}

	/** A request settled. */
	end(): void {
		if (this.#busy > 0 && --this.#busy === 0) this.#stop();
	}

	/** Stops for good (the process is gone). */
	dispose(): void {
		this.#fired = true;
		this.#stop();
	}

	#check(): void {
		const resident = readResidentBytes(this.#pid);
		if (resident === undefined || resident < this.#limitBytes || this.#fired) return;
		this.dispose();
		this.#onExceeded(resident);
	}

	#stop(): void {
		if (this.#timer !== undefined) clearInterval(this.#timer);
		this.#timer = undefined;
	}
}
