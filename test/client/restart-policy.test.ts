import { describe, expect, it } from 'vitest';
import { DEFAULT_RESTART_POLICY, decideRestart, normalizeRestartPolicy } from '../../dist/client/index.js';
import { pruneCrashTimes } from '../../dist/client/restart-policy.js';

const policy = normalizeRestartPolicy({ maxRestarts: 3, windowMs: 10_000, backoffInitialMs: 100, backoffMaxMs: 1_000, healthyAfterMs: 2_000 });

describe('decideRestart', () => {
	it('restarts at once after the first crash', () => {
		expect(decideRestart(policy, [5_000], 5_000)).toEqual({ restart: true, delayMs: 0, streak: 1 });
	});

	it('doubles the wait for each crash that comes fast, up to the cap', () => {
		const times: number[] = [];
		const delays: number[] = [];
		const wide = normalizeRestartPolicy({ ...policy, maxRestarts: 100 });
		for (let i = 0; i < 7; i++) {
			times.push(i * 500);
			const decision = decideRestart(wide, times, i * 500);
			if (!decision.restart) throw new Error('gave up');
			delays.push(decision.delayMs);
		}
		expect(delays).toEqual([0, 100, 200, 400, 800, 1_000, 1_000]);
	});

	it('starts the backoff over after a healthy period', () => {
		const wide = normalizeRestartPolicy({ ...policy, maxRestarts: 100 });
		expect(decideRestart(wide, [0, 500, 3_000], 3_000)).toEqual({ restart: true, delayMs: 0, streak: 1 });
		expect(decideRestart(wide, [0, 500, 3_000, 3_100], 3_100)).toEqual({ restart: true, delayMs: 100, streak: 2 });
	});

	it('starts the backoff over when a host answered a call since the crash before (servedAt)', () => {
		const wide = normalizeRestartPolicy({ ...policy, maxRestarts: 100 });
		// Crashes 500 ms apart, each after a host that served: every restart is immediate.
		expect(decideRestart(wide, [0, 500, 1_000], 1_000, 700)).toEqual({ restart: true, delayMs: 0, streak: 1 });
		// Served before the second crash only: the last two crashes came from hosts that did not serve.
		expect(decideRestart(wide, [0, 500, 1_000], 1_000, 300)).toEqual({ restart: true, delayMs: 100, streak: 2 });
		expect(decideRestart(wide, [0, 500, 1_000], 1_000)).toEqual({ restart: true, delayMs: 200, streak: 3 });
	});

	it('gives up when more than maxRestarts crashes fall within the window, with a sentence why', () => {
		expect(decideRestart(policy, [0, 1_000, 2_000], 2_000).restart).toBe(true);
		expect(decideRestart(policy, [0, 1_000, 2_000, 3_000], 3_000)).toEqual({
			restart: false,
			reason:
				'the macro host crashed 4 times within 10000 ms, more than the 3 restarts allowed in that time (restart.maxRestarts)',
		});
	});

	it('counts only crashes inside the sliding window', () => {
		// The crash at 0 has left the window by 10_500.
		expect(decideRestart(policy, [0, 8_000, 9_000, 10_500], 10_500).restart).toBe(true);
	});

	it('never restarts when maxRestarts is 0', () => {
		const never = normalizeRestartPolicy({ maxRestarts: 0 });
		expect(decideRestart(never, [1], 1)).toEqual({
			restart: false,
			reason: 'the macro host crashed and restarts are disabled (restart.maxRestarts is 0)',
		});
	});

	it('keeps the crash history small', () => {
		const times = Array.from({ length: 200 }, (_, i) => i);
		pruneCrashTimes(policy, times);
		expect(times).toHaveLength(64);
		expect(times[63]).toBe(199);
	});
});

describe('normalizeRestartPolicy', () => {
	it('applies the documented defaults', () => {
		expect(normalizeRestartPolicy(undefined)).toEqual({
			maxRestarts: 10,
			windowMs: 30_000,
			backoffInitialMs: 100,
			backoffMaxMs: 5_000,
			healthyAfterMs: 10_000,
		});
		expect(DEFAULT_RESTART_POLICY.maxRestarts).toBe(10);
	});

	it('names the field, the expectation and the value in its errors', () => {
		expect(() => normalizeRestartPolicy({ windowMs: 0 })).toThrow(
			new TypeError('The `restart.windowMs` option must be an integer 1 or more (milliseconds), but received 0 (number).'),
		);
		expect(() => normalizeRestartPolicy({ maxRestarts: '3' })).toThrow(
			new TypeError("The `restart.maxRestarts` option must be an integer 0 or more (restarts), but received '3' (string)."),
		);
		expect(() => normalizeRestartPolicy({ maxRestart: 3 })).toThrow(
			new TypeError(
				'Unknown restart option `maxRestart`; known options are: maxRestarts, windowMs, backoffInitialMs, backoffMaxMs, healthyAfterMs.',
			),
		);
		expect(() => normalizeRestartPolicy(5)).toThrow(
			new TypeError('The `restart` option must be an object, but received 5 (number).'),
		);
	});
});
