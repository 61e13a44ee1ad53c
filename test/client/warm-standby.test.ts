/**
 * The warm standby with real hosts: a crash swaps it in with its libraries already loaded, a
 * standby that dies on its own is replaced, close() kills it, and the option turns it off.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MacroHost } from '../../dist/client/index.js';
import {
	expectBatch,
	ident,
	LIBC_BASIC,
	LIBC_BASIC_ID,
	processExists,
	RUST_MACROS,
	RUST_MACROS_ID,
	startHost,
	tokensOf,
	whenRestarted,
	wrapBatch,
} from './support.js';

/** True when the process has the shared library mapped into memory (it was loaded there). */
function hasMapped(pid: number, library: string): boolean {
	return readFileSync(`/proc/${pid}/maps`, 'utf8').includes(library);
}

/** Waits (without a clock of its own: the test's timeout bounds it) until the standby is a ready process other than `previous`. */
async function nextStandby(host: MacroHost, previous: number | undefined): Promise<number> {
	for (;;) {
		const pid = host.standbyPid;
		if (pid !== undefined && pid !== previous && (await host.standbyReady()) && host.standbyPid === pid) return pid;
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

describe('warm standby', () => {
	it('is swapped in on a crash, with the libraries already loaded, and the queued calls re-sent to it', async () => {
		const { host, crashes } = await startHost({ restart: { backoffInitialMs: 0 } });
		const activePid = host.pid!;
		await host.loadLibrary(LIBC_BASIC);
		const standbyPid = await nextStandby(host, undefined);
		expect(standbyPid).not.toBe(activePid);
		// Loaded into the standby before any crash: forwarded from the active host's loadLibrary.
		await host.loadLibrary(RUST_MACROS);
		await expect.poll(() => hasMapped(standbyPid, LIBC_BASIC_ID) && hasMapped(standbyPid, RUST_MACROS_ID)).toBe(true);

		const crashed = host.expandInline({ name: 'bang_segv', args: ident('x', 0) });
		const queued = wrapBatch(host, 'q', 10);
		expect((await crashed).diagnostics[0].code).toBe('host-crash');
		await expectBatch(queued, 'q');
		await whenRestarted(host, 1);

		expect(host.pid).toBe(standbyPid);
		expect(processExists(activePid)).toBe(false);
		expect(crashes).toHaveLength(1);
		expect(host.libraries.map((l) => l.library)).toEqual([LIBC_BASIC_ID, RUST_MACROS_ID]);
		const added = await host.expandInline({ name: 'add', args: { text: 'a,b', records: [0, 0, 0, 1, 5, 6, 1, 0, 1, 1, 6, 7, 0, 0, 2, 1, 8, 9] } });
		expect(tokensOf(added.tokens).map((t) => t.text).join(' ')).toBe('( a ) + ( b )');
		// A new standby is started behind the one that took over.
		const next = await nextStandby(host, standbyPid);
		expect(next).not.toBe(host.pid);
		expect(hasMapped(next, LIBC_BASIC_ID)).toBe(true);
	});

	it('replaces a standby that dies on its own, without counting it as a crash or a restart', async () => {
		const { host, crashes } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		const activePid = host.pid;
		const first = await nextStandby(host, undefined);
		process.kill(first, 'SIGKILL');
		const second = await nextStandby(host, first);
		expect(second).not.toBe(first);
		expect(hasMapped(second, LIBC_BASIC_ID)).toBe(true);
		expect(host.pid).toBe(activePid);
		expect(host.restarts).toBe(0);
		expect(crashes).toHaveLength(0);
		await expectBatch(wrapBatch(host, 'w', 5), 'w');
	});

	it('is killed by close(), with the active host', async () => {
		const { host } = await startHost();
		const activePid = host.pid!;
		const standbyPid = await nextStandby(host, undefined);
		await host.close();
		expect(processExists(activePid)).toBe(false);
		expect(processExists(standbyPid)).toBe(false);
		expect(host.standbyPid).toBeUndefined();
	});

	it('is killed by close() while it is still starting', async () => {
		const { host } = await startHost();
		const standbyPid = host.standbyPid!;
		expect(standbyPid).toBeDefined();
		await host.close();
		expect(processExists(standbyPid)).toBe(false);
	});

	it('is not started with warmStandby: false, and a crash then restarts cold', async () => {
		const { host } = await startHost({ warmStandby: false, restart: { backoffInitialMs: 0 } });
		expect(host.standbyPid).toBeUndefined();
		expect(await host.standbyReady()).toBe(false);
		await host.loadLibrary(LIBC_BASIC);
		const activePid = host.pid;
		expect((await host.expandInline({ name: 'bang_abort', args: ident('x', 0) })).diagnostics[0].code).toBe('host-crash');
		await expectBatch(wrapBatch(host, 'c', 3), 'c');
		expect(host.pid).not.toBe(activePid);
		expect(host.standbyPid).toBeUndefined();
	});
});
