/**
 * The host's memory limit. The limit itself is enforced on resident memory by the client, which
 * polls the host while a request runs and kills it at the limit (a synchronous macro call blocks
 * the host's own event loop, so the host cannot watch itself). What the host adds is a ceiling on
 * address space it may fill: RLIMIT_DATA at the limit plus headroom, so that one huge allocation
 * fails at once inside the macro instead of paging the machine to death before the next poll.
 * Not RLIMIT_AS: V8 reserves large address ranges it never touches, and would fail under it.
 */
import { getLibc, LibcConstants } from './libc.js';

/** The memory limit when neither the client nor `--memory-limit-mib` sets one: 2 GiB. */
export const DEFAULT_MEMORY_LIMIT_MIB = 2048;

/** The smallest limit accepted: a host with a few libraries loaded needs about 60 MiB. */
export const MIN_MEMORY_LIMIT_MIB = 64;

/**
 * The data ceiling (RLIMIT_DATA) for a limit, in MiB: the limit plus half of it, at least 256 MiB
 * more. The headroom leaves the client's watchdog time to see a macro that grows step by step.
 */
export function dataCeilingMiB(limitMiB: number): number {
	return limitMiB + Math.max(Math.ceil(limitMiB / 2), 256);
}

/** Sets RLIMIT_DATA (soft and hard, so a macro cannot raise it) for a memory limit of `limitMiB`. */
export function applyMemoryLimit(limitMiB: number): void {
	const bytes = dataCeilingMiB(limitMiB) * 1024 * 1024;
	const libc = getLibc();
	if (libc.setrlimit(LibcConstants.RLIMIT_DATA, { rlim_cur: bytes, rlim_max: bytes }) !== 0) {
		console.error(`macro-host: cannot limit the data segment to ${dataCeilingMiB(limitMiB)} MiB: ${libc.lastError()}`);
	}
}
