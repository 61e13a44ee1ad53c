import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { connectHost, EMPTY, fixture, frame, FrameReader, HOST_MAIN, initialize, spawnHost, type HostProcess } from './harness.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
	for (const cleanup of cleanups.splice(0)) cleanup();
});
function track<T extends HostProcess>(host: T): T {
	cleanups.push(() => host.child.kill('SIGKILL'));
	return host;
}

/** True while `pid` exists and is not a zombie. */
function isAlive(pid: number): boolean {
	try {
		return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
	} catch {
		return false;
	}
}

async function waitUntilGone(pid: number): Promise<void> {
	// Not a timing assertion: the test fails by timeout only if the host never dies.
	while (isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('process hygiene', () => {
	it('exits 0 when its input ends, after answering every request already sent', async () => {
		const host = track(spawnHost());
		const frames = new FrameReader(host.child.stdout);
		host.child.stdin.write(frame({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: 1 } }));
		host.child.stdin.write(frame({ jsonrpc: '2.0', id: 2, method: 'loadLibrary', params: { path: fixture('libc_basic.so') } }));
		for (let id = 3; id < 13; id++) {
			host.child.stdin.write(frame({ jsonrpc: '2.0', id, method: 'expandInline', params: { name: 'noop', args: EMPTY } }));
		}
		host.child.stdin.end();
		const ids: unknown[] = [];
		for (let i = 0; i < 12; i++) ids.push(((await frames.next()) as { id: unknown }).id);
		expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
		expect(await host.exited).toEqual({ code: 0, signal: null });
	});

	it('gives macros a deep stack (6 MiB of recursion, beyond koffi\'s 2 MiB default)', async () => {
		const host = track(connectHost('json'));
		await initialize(host.connection);
		await host.connection.sendRequest('loadLibrary', { path: fixture('libc_edge.so') });
		expect(await host.connection.sendRequest('expandInline', { name: 'edge_deep_recursion', args: EMPTY })).toEqual({
			outcome: 'leave',
			diagnostics: [],
			auxData: { depth: 6144, check: 1 },
		});
		expect(await host.close()).toEqual({ code: 0, signal: null });
	});

	it('a segfaulting macro kills the host with SIGSEGV and leaves no core file', async () => {
		const cwd = mkdtempSync(join(tmpdir(), 'macro-host-core-test-'));
		cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
		// Core dumps allowed by the shell, core_pattern permitting a file in cwd: only the host's own limit stops one.
		const host = track(connectHost('json', { cwd, shellPrefix: 'ulimit -c unlimited' }));
		await initialize(host.connection);
		await host.connection.sendRequest('loadLibrary', { path: fixture('libc_basic.so') });
		const limits = readFileSync(`/proc/${host.child.pid}/limits`, 'utf8');
		expect(limits).toMatch(/^Max core file size\s+0\s+0\s+bytes\s*$/m);

		host.connection.sendRequest('expandInline', { name: 'bang_segv', args: EMPTY }).catch(() => undefined);
		expect(await host.exited).toEqual({ code: null, signal: 'SIGSEGV' });
		host.connection.dispose();
		expect(readdirSync(cwd)).toEqual([]);
	});

	it('dies with its parent (PR_SET_PDEATHSIG) even while its stdin stays open', async () => {
		// A middle process spawns the host with inherited stdio, so the host's stdin is this test's
		// pipe and stays open after the middle process is killed: only the death signal can end it.
		const middle = spawn(process.execPath, [
			'-e',
			`require('child_process').spawn(process.execPath, [${JSON.stringify(HOST_MAIN)}], { stdio: 'inherit' }); setInterval(() => {}, 1000);`,
		]);
		cleanups.push(() => middle.kill('SIGKILL'));
		const connection = createMessageConnection(new StreamMessageReader(middle.stdout), new StreamMessageWriter(middle.stdin));
		connection.listen();
		cleanups.push(() => connection.dispose());
		const { pid } = (await initialize(connection)) as { pid: number };
		cleanups.push(() => {
			if (isAlive(pid)) process.kill(pid, 'SIGKILL');
		});
		expect(pid).not.toBe(middle.pid);
		expect(isAlive(pid)).toBe(true);
		middle.kill('SIGKILL');
		await waitUntilGone(pid);
		expect(isAlive(pid)).toBe(false);
	});
});
