/**
 * A restart storm end to end: every call crashes the host. The client must not spin: restarts back
 * off (each waits at least the policy's delay), quarantined macros answer at once without touching
 * the host, and once the rate limit is reached the client stops restarting and says so on every
 * call, naming why. The number of host processes started stays bounded by the policy.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostCrashError, HostUnavailableError } from '../../dist/client/index.js';
import { startHost } from '../client/support.js';
import { eventually, ident, isAlive, LIBC_BASIC, LIBC_BASIC_ID, LIBC_FAULTS, LIBC_FAULTS_ID, LIBC_LOAD_FAULTS, loadedPids } from './support.js';

const CRASHERS = ['bang_segv', 'bang_abort', 'bang_exit3', 'bang_exit0'];
const POLICY = { maxRestarts: 4, windowMs: 120_000, backoffInitialMs: 100, backoffMaxMs: 400, healthyAfterMs: 120_000 };

describe('a restart storm', () => {
	it('backs off, quarantines, then gives up and says so; it never spawns more hosts than the policy allows', async () => {
		const { host } = await startHost({ restart: POLICY, quarantineAfter: 1 });
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_FAULTS);
		const pids = [host.pid!];
		const crashedAt: number[] = [];
		const restartedAt: number[] = [];
		// The monotonic clock: Date.now() follows the wall clock, which may be stepped mid-test.
		host.onCrash(() => crashedAt.push(performance.now()));
		host.onRestart((event) => {
			restartedAt.push(performance.now());
			pids.push(event.pid!);
		});

		// Phase 1: twelve calls, all of them crashers, sent at once.
		const storm = [1, 2, 3].flatMap(() => CRASHERS).map((name) => host.expandInline({ name, args: ident('x') }));
		const answers = await Promise.all(storm);
		const codes = answers.map((a) => a.diagnostics.map((d) => d.code).join());
		// Each macro crashes the host once and is then quarantined: its later calls never run.
		expect(codes).toEqual([...CRASHERS.map(() => 'host-crash'), ...Array(8).fill('quarantined')]);
		expect(answers[4].diagnostics[0].message).toBe(
			`Inline macro \`bang_segv\` from library ${LIBC_BASIC_ID} (no call site given) is quarantined: ` +
				'it crashed or hung the macro host 1 times (quarantineAfter is 1), so it is not run again.',
		);
		expect(host.restarts).toBe(4);
		// Backoff: the first restart of the streak is immediate, then 100, 200, 400 ms at least. Node's
		// timers count whole milliseconds from the start of the loop turn, so one may fire up to 1 ms
		// short of its delay as performance.now() measures it.
		expect(restartedAt).toHaveLength(4);
		expect(crashedAt.length).toBeGreaterThanOrEqual(4);
		const waited = restartedAt.map((t, i) => t - crashedAt[i]);
		[0, 100, 200, 400].forEach((delay, i) => expect(waited[i]).toBeGreaterThanOrEqual(delay - 1));

		// Quarantined macros fail fast: no host is touched, none is started.
		const pid = host.pid;
		const fast = await Promise.all(Array.from({ length: 50 }, (_, i) => host.expandInline({ name: CRASHERS[i % 4], args: ident('q') })));
		expect(new Set(fast.map((a) => a.diagnostics[0].code))).toEqual(new Set(['quarantined']));
		expect(host.pid).toBe(pid);
		expect(host.restarts).toBe(4);

		// Phase 2: one more crasher goes over maxRestarts. The client gives up and tells every caller why.
		const last = await host.expandInline({ name: 'fault_stack_overflow', args: ident('o') });
		expect(last.diagnostics.map((d) => d.code)).toEqual(['host-crash']);
		const reason = 'the macro host crashed 5 times within 120000 ms, more than the 4 restarts allowed in that time (restart.maxRestarts)';
		const unavailable = `The macro host is unavailable: ${reason}; no more restarts are attempted.`;
		expect(await host.expandInline({ name: 'wrap', args: ident('w') })).toEqual({
			outcome: 'bail',
			diagnostics: [
				{
					severity: 'error',
					code: 'host-unavailable',
					message: `Inline macro \`wrap\` from library ${LIBC_BASIC_ID} (no call site given) was not run. ${unavailable}`,
				},
			],
		});
		const error = await host.listMacros().then(
			() => undefined,
			(e: unknown) => e,
		);
		expect(error).toBeInstanceOf(HostUnavailableError);
		expect(error).toMatchObject({ message: unavailable, reason });
		// The cause is the crash that made the policy give up.
		expect((error as Error).cause).toBeInstanceOf(HostCrashError);
		expect((error as Error).cause).toMatchObject({ macroName: 'fault_stack_overflow', library: LIBC_FAULTS_ID, signal: 'SIGSEGV' });

		// Bounded: the first host plus maxRestarts, and none of them is left running.
		expect(pids).toHaveLength(1 + POLICY.maxRestarts);
		expect(host.pid).toBeUndefined();
		expect(pids.filter(isAlive)).toEqual([]);
	});
});

describe('hosts that all die soon after loading a library, standbys included', () => {
	it('start no more hosts than the restart policy allows (standby respawns count and back off), then the client gives up', async () => {
		const log = join(mkdtempSync(join(tmpdir(), 'mh-standby-storm-')), 'pids');
		// Long waits between restarts: without counting them, standbys would be respawned many times meanwhile.
		const policy = { maxRestarts: 4, windowMs: 120_000, backoffInitialMs: 1_000, backoffMaxMs: 4_000, healthyAfterMs: 120_000 };
		const { host } = await startHost({ restart: policy, env: { MH_FIXTURE_LOAD_LOG: log, MH_FIXTURE_KILL_AFTER_MS: '300' } });
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_LOAD_FAULTS);

		// Idle (no call answered, so every crash is one of a streak): each host dies 300 ms after loading the
		// library. Every passing decision starts at most two hosts (a new active one and a standby), plus the
		// first two; once the policy refuses, none at all, however long we look.
		const bound = 2 + 2 * policy.maxRestarts;
		expect(await eventually(() => loadedPids(log).length > bound, 12_000)).toBe(false);

		const last = await host.expandInline({ name: 'wrap', args: ident('w') });
		expect(last.diagnostics[0]).toMatchObject({ code: 'host-unavailable' });
		expect(last.diagnostics[0].message).toContain('more than the 4 restarts allowed in that time (restart.maxRestarts)');
		expect(host.standbyPid).toBeUndefined();
		expect(await eventually(() => loadedPids(log).every((pid) => !isAlive(pid)), 5_000)).toBe(true);
	});
});

