/**
 * The supervisor's crash path with real hosts: quarantine, giving up, reloading libraries after a
 * restart, and crashes of requests other than expand calls.
 */
import { describe, expect, it } from 'vitest';
import { LIBC_FAULTS } from '../hardening/support.js';
import { HostCrashError, HostUnavailableError, type ExpandResult, type RestartEvent } from '../../dist/client/index.js';
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

// Crashes in these tests come fast on purpose; no backoff keeps them quick.
const fastRestarts = { backoffInitialMs: 0 };

describe('quarantine', () => {
	it('quarantines a macro after quarantineAfter crashes: it fails fast, nothing restarts, other macros work', async () => {
		const { host } = await startHost({ quarantineAfter: 2, restart: fastRestarts });
		await host.loadLibrary(LIBC_BASIC);
		const call = () => host.expandInline({ name: 'bang_exit3', args: ident('x', 2), callSite: { start: 0, end: 9 } });

		const first = await call();
		expect(first.diagnostics[0].code).toBe('host-crash');
		expect(first.diagnostics[0].message).not.toContain('quarantined');
		const second = await call();
		expect(second.diagnostics).toHaveLength(1);
		expect(second.diagnostics[0].code).toBe('host-crash');
		expect(second.diagnostics[0].message).toContain(
			'\nIt has crashed or hung the host 2 times and is now quarantined: later calls to it are not run.',
		);
		await whenRestarted(host, 2);
		const pid = host.pid;

		expect(await call()).toEqual<ExpandResult>({
			outcome: 'bail',
			diagnostics: [
				{
					severity: 'error',
					code: 'quarantined',
					span: { start: 0, end: 9 },
					message:
						`Inline macro \`bang_exit3\` from library ${LIBC_BASIC_ID} (call site bytes 0..9) is quarantined: ` +
						'it crashed or hung the macro host 2 times (quarantineAfter is 2), so it is not run again.',
				},
			],
		});
		expect(host.restarts).toBe(2);
		expect(host.pid).toBe(pid);
		await expectBatch(wrapBatch(host, 'w', 5), 'w');
		// Another crashing macro is not quarantined by its neighbour's record.
		expect((await host.expandInline({ name: 'bang_abort', args: ident('y', 1) })).diagnostics[0].code).toBe('host-crash');
	});

	it('answers quarantined calls that were queued behind the crash that quarantined them without running them', async () => {
		const { host } = await startHost({ quarantineAfter: 3, restart: fastRestarts });
		await host.loadLibrary(LIBC_BASIC);
		const batch: Promise<ExpandResult>[] = [];
		for (let i = 0; i < 5; i++) {
			batch.push(...wrapBatch(host, `w${i}_`, 3));
			batch.push(host.expandInline({ name: 'bang_exit3', args: ident('x', 2) }));
		}
		const results = await Promise.all(batch);
		const codes = results.filter((r) => r.outcome === 'bail').map((r) => r.diagnostics[0].code);
		expect(codes).toEqual(['host-crash', 'host-crash', 'host-crash', 'quarantined', 'quarantined']);
		for (let i = 0; i < 5; i++) await expectBatch(results.slice(i * 4, i * 4 + 3).map((r) => Promise.resolve(r)), `w${i}_`);
		expect(host.restarts).toBe(3);
	});
});

describe('giving up', () => {
	it('stops restarting when the policy says so: pending and later expand calls bail with host-unavailable, others reject', async () => {
		const { host } = await startHost({ restart: { ...fastRestarts, maxRestarts: 1, windowMs: 60_000 } });
		await host.loadLibrary(LIBC_BASIC);

		expect((await host.expandInline({ name: 'bang_exit3', args: ident('x', 2) })).diagnostics[0].code).toBe('host-crash');
		await whenRestarted(host, 1);
		const lastPid = host.pid!;

		const crash = host.expandInline({ name: 'bang_abort', args: ident('x', 2) });
		const queued = host.expandInline({ name: 'wrap', args: ident('w', 2), callSite: { start: 4, end: 8 } });
		const list = host.listMacros();
		expect((await crash).diagnostics[0].code).toBe('host-crash');

		const reason =
			'the macro host crashed 2 times within 60000 ms, more than the 1 restart allowed in that time (restart.maxRestarts)';
		const unavailable = `The macro host is unavailable: ${reason}; no more restarts are attempted.`;
		expect(await queued).toEqual<ExpandResult>({
			outcome: 'bail',
			diagnostics: [
				{
					severity: 'error',
					code: 'host-unavailable',
					span: { start: 4, end: 8 },
					message: `Inline macro \`wrap\` from library ${LIBC_BASIC_ID} (call site bytes 4..8) was not run. ${unavailable}`,
				},
			],
		});
		const error = await list.catch((e: unknown) => e);
		expect(error).toBeInstanceOf(HostUnavailableError);
		expect(error).toMatchObject({ message: unavailable, reason });
		expect((error as Error).cause).toBeInstanceOf(HostCrashError);
		expect((error as Error).cause).toMatchObject({ signal: 'SIGABRT', macroName: 'bang_abort' });

		// Later calls fail at once, the same way, and no process is left.
		expect((await host.expandInline({ name: 'noop', args: ident('n', 0) })).diagnostics[0].code).toBe('host-unavailable');
		await expect(host.loadLibrary(RUST_MACROS)).rejects.toThrow(unavailable);
		expect(host.pid).toBeUndefined();
		expect(host.restarts).toBe(1);
		expect(processExists(lastPid)).toBe(false);
		await host.close();
	});
});

describe('restarting', () => {
	it('does not back off after a crash of a host that answered calls since the crash before', async () => {
		// A backoff of 4 s would show at once: each restart below must come without it.
		const { host } = await startHost({ quarantineAfter: 10, restart: { backoffInitialMs: 4_000 } });
		await host.loadLibrary(LIBC_BASIC);
		for (let i = 1; i <= 3; i++) {
			const crash = await host.expandInline({ name: 'bang_exit3', args: ident('x', 2) });
			expect(crash.diagnostics[0].code).toBe('host-crash');
			const crashed = Date.now();
			await expectBatch(wrapBatch(host, `r${i}`, 3), `r${i}`);
			// Far below the 4 s (then 8 s) a streak of crashes would wait; a restart on the ready standby takes a few ms.
			expect(Date.now() - crashed).toBeLessThan(3_000);
			expect(host.restarts).toBe(i);
		}
	});

	it('keeps restarting while crashes stay under the rate limit of the sliding window', async () => {
		// One restart per 1 ms window: crashes further apart than that never add up to a give-up.
		const { host } = await startHost({ quarantineAfter: 10, restart: { ...fastRestarts, maxRestarts: 1, windowMs: 1 } });
		await host.loadLibrary(LIBC_BASIC);
		for (let i = 1; i <= 3; i++) {
			expect((await host.expandInline({ name: 'bang_exit3', args: ident('x', 2) })).diagnostics[0].code).toBe('host-crash');
			await whenRestarted(host, i);
		}
		await expectBatch(wrapBatch(host, 'w', 3), 'w');
	});

	it('reloads every library in load order, and re-sends a loadLibrary that was queued behind the crash', async () => {
		const { host } = await startHost();
		const basic = await host.loadLibrary(LIBC_BASIC);
		expect(basic.library).toBe(LIBC_BASIC_ID);

		const restarted = new Promise<RestartEvent>((resolve) => host.onRestart(resolve));
		const crash = host.expandInline({ name: 'bang_exit0', args: ident('x', 2) });
		const rust = host.loadLibrary(RUST_MACROS);
		expect((await crash).diagnostics[0].code).toBe('host-crash');
		expect((await rust).library).toBe(RUST_MACROS_ID);
		const event = await restarted;
		expect(event.restarts).toBe(1);
		expect(event.pid).toBe(host.pid);
		expect(event.crash.macroName).toBe('bang_exit0');

		const listed = await host.listMacros();
		expect(listed.libraries.map((l) => l.library)).toEqual([LIBC_BASIC_ID, RUST_MACROS_ID]);
		expect(host.libraries.map((l) => l.library)).toEqual([LIBC_BASIC_ID, RUST_MACROS_ID]);

		// Both work in a host that never saw the caller's loadLibrary for either.
		await host.expandInline({ name: 'bang_exit3', args: ident('x', 2) });
		await whenRestarted(host, 2);
		await expectBatch(wrapBatch(host, 'w', 3), 'w');
		const added = await host.expandInline({ name: 'add', args: { text: 'a,b', records: [0, 0, 0, 1, 5, 6, 1, 0, 1, 1, 6, 7, 0, 0, 2, 1, 8, 9] } });
		expect(tokensOf(added.tokens).map((t) => t.text).join(' ')).toBe('( a ) + ( b )');
	});

	it('rejects a non-expand request that was running when the host died with HostCrashError', async () => {
		const { host } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		const pid = host.pid!;
		// Stopped first, so listMacros is surely still unanswered (the running request) when the host dies.
		process.kill(pid, 'SIGSTOP');
		const list = host.listMacros();
		const after = wrapBatch(host, 'w', 5);
		process.kill(pid, 'SIGKILL');

		const error = await list.catch((e: unknown) => e);
		expect(error).toBeInstanceOf(HostCrashError);
		expect(error).toMatchObject({
			method: 'listMacros',
			macroName: undefined,
			signal: 'SIGKILL',
			timedOut: false,
			message: 'The listMacros request crashed the macro host: the host was killed by SIGKILL (Forced termination).\nThe host wrote nothing to stderr.',
		});
		await expectBatch(after, 'w');
		expect(host.restarts).toBe(1);
		expect(processExists(pid)).toBe(false);
	});

	it('restarts a host that dies while idle', async () => {
		const { host, crashes } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		const pid = host.pid!;
		const restarted = new Promise<RestartEvent>((resolve) => host.onRestart(resolve));
		process.kill(pid, 'SIGTERM');
		await restarted;
		expect(crashes).toHaveLength(1);
		expect(crashes[0].message).toBe(
			'The macro host died while idle: the host was killed by SIGTERM (Termination).\nThe host wrote nothing to stderr.',
		);
		expect(crashes[0].method).toBeUndefined();
		await expectBatch(wrapBatch(host, 'w', 3), 'w');
	});

	it('cuts the stderr tail at stderrTailBytes and says so', async () => {
		const { host } = await startHost({ stderrTailBytes: 20 });
		await host.loadLibrary(LIBC_FAULTS);
		const result = await host.expandInline({ name: 'fault_says_then_segv', args: ident('x', 2) });
		// The call wrote "fault_says_then_segv stdout: x\nfault_says_then_segv stderr: x\n"; its last 20 bytes are kept.
		expect(result.diagnostics[0].message).toMatch(/\(Segmentation fault\)\.\nHost stderr \(last 20 bytes\):\nthen_segv stderr: x$/);
	});
});
