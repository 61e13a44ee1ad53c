/**
 * Spawning a host process and waiting for it to be gone. The host leads a process group of its own
 * (spawned detached), so that whatever a macro forks dies with it: once the host has exited, the
 * client kills the group. Waiting for the host's pipes to close is bounded, since a child that left
 * the group may still hold them.
 */
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import { memoryLimitArgs } from './memory-watchdog.js';
import type { NormalizedOptions } from './options.js';

/** A spawned host process (execa's subprocess). */
export type HostSubprocess = ReturnType<typeof spawnHost>;

/** The host's command line: the node binary, then its arguments. */
export function hostCommandLine(options: NormalizedOptions): { file: string; args: string[]; command: string } {
	const args = [options.hostScript, '--encoding', options.encoding, ...memoryLimitArgs(options.memoryLimitMiB), ...options.hostArgs];
	return { file: options.nodePath, args, command: [options.nodePath, ...args].join(' ') };
}

/**
 * Spawns the host with piped stdio, collecting nothing: stdout feeds the connection, stderr the tail.
 * Never throws for a bad command: a failed spawn shows up when the subprocess settles.
 */
export function spawnHost(options: NormalizedOptions, file: string, args: readonly string[]) {
	return execa(file, args, {
		stdin: 'pipe',
		stdout: 'pipe',
		stderr: 'pipe',
		buffer: false,
		reject: false,
		encoding: 'buffer',
		cwd: options.cwd,
		env: options.env,
		extendEnv: true,
		// execa escalates our SIGTERM to SIGKILL after this delay.
		forceKillAfterDelay: options.forceKillAfterMs,
		// Its own process group, killed as a whole (see killProcessGroup). execa's cleanup skips detached
		// children, so the host process registers the group with exit-cleanup.ts for when the client
		// exits; when the client is killed outright, the host's PR_SET_PDEATHSIG does.
		detached: true,
	});
}

/** SIGKILLs a process group; a group that is already empty is fine. */
export function killProcessGroup(pgid: number): void {
	try {
		process.kill(-pgid, 'SIGKILL');
	} catch {
		// ESRCH: nothing left in the group.
	}
}

/** Resolves when the process has exited (at once if it already has); never, when it was never spawned. */
export function processExited(child: HostSubprocess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise((resolve) => {
		child.once('exit', () => resolve());
	});
}

/**
 * Waits for the host's pipes (replies first) to close once it has exited, and destroys them when a
 * child that left the process group (setsid) still holds one after the grace periods.
 */
export async function releasePipes(streams: readonly Readable[]): Promise<void> {
	if (!(await closedWithin(streams, PIPE_CLOSE_GRACE_MS))) {
		for (const stream of streams) stream.destroy();
	}
}

/** How long the host's pipes may stay open after it exited and its group was killed. */
const PIPE_CLOSE_GRACE_MS = 1000;

/** Grace periods in all that a dead host's replies pipe may keep delivering data before the client stops waiting. */
const MAX_GRACE_PERIODS = 5;

/**
 * Resolves true when every stream has closed, false once `ms` passed with nothing read from the
 * first one, the replies (or {@link MAX_GRACE_PERIODS} periods in all, for a child that keeps
 * writing). An expired timer looks again after the reads already waiting have run: a client stalled
 * for longer than `ms` (a loaded machine) runs its timers before its reads when it wakes, and would
 * otherwise give up on replies sitting in the pipe, and blame the wrong call for the crash.
 */
async function closedWithin(streams: readonly Readable[], ms: number): Promise<boolean> {
	let reads = 0;
	const onData = (): void => {
		reads++;
	};
	const replies = streams[0];
	replies?.on('data', onData);
	let timer: NodeJS.Timeout | undefined;
	const timedOut = new Promise<false>((resolve) => {
		let seen = reads;
		let periods = 1;
		const check = (): void => {
			// setImmediate runs after this turn's poll phase, so pending reads are counted first.
			setImmediate(() => {
				if (reads === seen || ++periods >= MAX_GRACE_PERIODS) return resolve(false);
				seen = reads;
				timer = setTimeout(check, ms);
			});
		};
		timer = setTimeout(check, ms);
	});
	const closed = Promise.all(streams.map(streamClosed)).then(() => true as const);
	try {
		return await Promise.race([closed, timedOut]);
	} finally {
		clearTimeout(timer);
		replies?.off('data', onData);
	}
}

/** Resolves when a stream has closed (at once if it already has). */
function streamClosed(stream: Readable): Promise<void> {
	if (stream.closed || stream.destroyed) return Promise.resolve();
	return new Promise((resolve) => {
		stream.once('close', () => resolve());
	});
}
