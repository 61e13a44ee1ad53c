/**
 * Shared pieces of the hardening tests: fixture paths, process checks that see through zombies and
 * process groups, and a poll helper for "this must become true".
 */
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of a compiled fixture library (test/fixtures/build/, made by the global setup). */
export function fixture(name: string): string {
	return fileURLToPath(new URL(`../fixtures/build/${name}`, import.meta.url));
}

export const LIBC_BASIC = fixture('libc_basic.so');
export const LIBC_EDGE = fixture('libc_edge.so');
export const LIBC_FAULTS = fixture('libc_faults.so');
/** Does its harm while loading, as the host's environment says (see test/fixtures/c/libc_load_faults.c). */
export const LIBC_LOAD_FAULTS = fixture('libc_load_faults.so');
/** Library ids as the host reports them: canonical absolute paths. */
export const LIBC_BASIC_ID = realpathSync(LIBC_BASIC);
export const LIBC_FAULTS_ID = realpathSync(LIBC_FAULTS);
/** The compiled host entry. */
export const HOST_MAIN = fileURLToPath(new URL('../../dist/server/main.js', import.meta.url));

/** One identifier token whose source span starts at `spanStart`. */
export function ident(text: string, spanStart = 0): { text: string; records: number[] } {
	const bytes = Buffer.byteLength(text);
	return { text, records: [0, 0, 0, bytes, spanStart, spanStart + bytes] };
}

/** True while the process exists and is not a zombie (a killed orphan may wait a moment to be reaped). */
export function isAlive(pid: number): boolean {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
		return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
	} catch {
		return false;
	}
}

/** Pids of live processes in process group `pgid` (a host leads its own group). */
export function groupMembers(pgid: number): number[] {
	const members: number[] = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(entry));
		} catch {
			// It ended while we looked.
		}
	}
	return members;
}

/** Pids of the hosts that loaded libc_load_faults with MH_FIXTURE_LOAD_LOG set to `log`, in load order. */
export function loadedPids(log: string): number[] {
	try {
		return readFileSync(log, 'utf8').split('\n').filter(Boolean).map(Number);
	} catch {
		return [];
	}
}

/** Polls `condition` every 10 ms until it holds; false when `ms` passed first. */
export async function eventually(condition: () => boolean, ms: number): Promise<boolean> {
	const deadline = Date.now() + ms;
	for (;;) {
		if (condition()) return true;
		if (Date.now() > deadline) return false;
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}
