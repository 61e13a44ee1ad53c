/**
 * When to restart a crashed host: a pure decision from the crash history, with no process and no
 * timer, so it is tested on plain numbers. The supervisor owns the clock and the sleeping.
 *
 * - Rate limit: more than `maxRestarts` crashes within `windowMs` means the host cannot be kept
 *   alive; the policy gives up and says so in a sentence.
 * - Backoff: the first crash after a healthy period restarts at once; each further crash that comes
 *   within `healthyAfterMs` of the previous one doubles the wait, from `backoffInitialMs` up to
 *   `backoffMaxMs`. A host that stays up for `healthyAfterMs` resets the streak, and so does one that
 *   answered a call since the crash before: the backoff is for hosts that die without serving, and a
 *   macro that crashes now and then among successful calls must not slow every later restart.
 */
import { giveUpReason } from './messages.js';
import { rejectUnknownKeys, validateInteger, validateObject } from './option-validation.js';

/** How the client restarts a host that died. Every field is optional. */
export interface RestartPolicyOptions {
	/**
	 * The most restarts allowed within `windowMs`. One more crash in that window and the client gives
	 * up: every pending and later call then fails with `HostUnavailableError` (expand calls answer
	 * bail with a `host-unavailable` diagnostic). 0 never restarts.
	 * @default 10
	 */
	readonly maxRestarts?: number;
	/**
	 * The sliding window, in milliseconds, over which `maxRestarts` is counted.
	 * @default 30_000
	 */
	readonly windowMs?: number;
	/**
	 * Milliseconds to wait before the second restart of a streak of fast crashes; doubled for each
	 * further crash of the streak. The first restart after a healthy period is immediate.
	 * @default 100
	 */
	readonly backoffInitialMs?: number;
	/**
	 * The longest wait before a restart, in milliseconds.
	 * @default 5_000
	 */
	readonly backoffMaxMs?: number;
	/**
	 * Crashes further apart than this many milliseconds belong to different streaks: a host that
	 * lived this long was healthy, and the backoff starts over.
	 * @default 10_000
	 */
	readonly healthyAfterMs?: number;
}

/** A restart policy with every default applied. */
export type RestartPolicy = Required<RestartPolicyOptions>;

/** The defaults of {@link RestartPolicyOptions}. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = Object.freeze({
	maxRestarts: 10,
	windowMs: 30_000,
	backoffInitialMs: 100,
	backoffMaxMs: 5_000,
	healthyAfterMs: 10_000,
});

/** What to do after a crash. */
export type RestartDecision =
	| {
			readonly restart: true;
			/** Milliseconds to wait before spawning the new host. */
			readonly delayMs: number;
			/** How many crashes in a row came fast (1 after a healthy period). */
			readonly streak: number;
	  }
	| {
			readonly restart: false;
			/** Why the policy gives up, as a sentence. */
			readonly reason: string;
	  };

/** Applies the defaults and checks each field; the option is called `restart` in MacroHostOptions. */
export function normalizeRestartPolicy(options: unknown, name = 'restart'): RestartPolicy {
	const given = validateObject(name, options) ?? {};
	rejectUnknownKeys(name, given, Object.keys(DEFAULT_RESTART_POLICY));
	const merged = { ...DEFAULT_RESTART_POLICY, ...(given as RestartPolicyOptions) };
	const policy: RestartPolicy = {
		maxRestarts: validateInteger(`${name}.maxRestarts`, merged.maxRestarts, 0, 'restarts'),
		windowMs: validateInteger(`${name}.windowMs`, merged.windowMs, 1, 'milliseconds'),
		backoffInitialMs: validateInteger(`${name}.backoffInitialMs`, merged.backoffInitialMs, 0, 'milliseconds'),
		backoffMaxMs: validateInteger(`${name}.backoffMaxMs`, merged.backoffMaxMs, 0, 'milliseconds'),
		healthyAfterMs: validateInteger(`${name}.healthyAfterMs`, merged.healthyAfterMs, 0, 'milliseconds'),
	};
	return Object.freeze(policy);
}

/**
 * Decides about the crash that happened last. `crashTimes` holds the time (ms) of every crash so far
 * in ascending order, the latest one included; `now` is the current time in the same clock;
 * `servedAt` is when a host last answered a call (not counting the replay of a new host's session).
 */
export function decideRestart(policy: RestartPolicy, crashTimes: readonly number[], now: number, servedAt = -Infinity): RestartDecision {
	const recent = crashTimes.filter((t) => now - t < policy.windowMs).length;
	if (recent > policy.maxRestarts) {
		return { restart: false, reason: giveUpReason(policy.maxRestarts, policy.windowMs, recent) };
	}
	const streak = crashStreak(policy, crashTimes, servedAt);
	const delayMs = streak <= 1 ? 0 : Math.min(policy.backoffInitialMs * 2 ** (streak - 2), policy.backoffMaxMs);
	return { restart: true, delayMs, streak };
}

/** Number of trailing crashes each within `healthyAfterMs` of the one before it, with no call answered between them. */
function crashStreak(policy: RestartPolicy, crashTimes: readonly number[], servedAt: number): number {
	if (crashTimes.length === 0) return 0;
	let streak = 1;
	for (let i = crashTimes.length - 1; i > 0; i--) {
		if (crashTimes[i] - crashTimes[i - 1] >= policy.healthyAfterMs || servedAt >= crashTimes[i - 1]) break;
		streak++;
	}
	return streak;
}

/** Drops crash times that can no longer matter to a decision, so the history stays small. */
export function pruneCrashTimes(policy: RestartPolicy, crashTimes: number[]): void {
	// The window needs maxRestarts + 1 entries; past a few dozen a streak's delay is at its cap anyway.
	const keep = Math.max(policy.maxRestarts + 1, 64);
	if (crashTimes.length > keep) crashTimes.splice(0, crashTimes.length - keep);
}
