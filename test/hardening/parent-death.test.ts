/**
 * Parent death: a real client process (test/hardening/fixtures/sigkill-client.mjs) starts a host and
 * is then SIGKILLed, so none of its exit handlers run. The host and its warm standby must be gone within
 * a second, idle or in the middle of a macro that never returns (PR_SET_PDEATHSIG: the kernel kills them).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { eventually, isAlive, LIBC_BASIC } from './support.js';

const CLIENT = fileURLToPath(new URL('./fixtures/sigkill-client.mjs', import.meta.url));

/** Starts the client script and resolves with it and the pids of its host and standby once it has printed them. */
async function startClient(mode: 'idle' | 'busy'): Promise<{ clientPid: number; hostPid: number; standbyPid: number; exited: Promise<unknown> }> {
	const child = spawn(process.execPath, [CLIENT, LIBC_BASIC, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
	const exited = new Promise((resolve) => child.on('close', resolve));
	const line = await new Promise<string>((resolve, reject) => {
		createInterface({ input: child.stdout }).once('line', resolve);
		child.once('close', (code) => reject(new Error(`the client ended (code ${code}) before printing the host pid`)));
	});
	const { hostPid, standbyPid } = JSON.parse(line) as { hostPid: number; standbyPid: number };
	return { clientPid: child.pid!, hostPid, standbyPid, exited };
}

describe('when the client process is SIGKILLed', () => {
	it.each(['idle', 'busy'] as const)('the host (%s) and its warm standby are gone within 1 s', async (mode) => {
		const { clientPid, hostPid, standbyPid, exited } = await startClient(mode);
		expect(isAlive(hostPid)).toBe(true);
		expect(isAlive(standbyPid)).toBe(true);
		process.kill(clientPid, 'SIGKILL');
		await exited;
		expect(await eventually(() => !isAlive(hostPid) && !isAlive(standbyPid), 1000)).toBe(true);
	});
});
