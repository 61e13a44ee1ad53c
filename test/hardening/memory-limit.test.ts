/**
 * The memory limit (MacroHost option `memoryLimitMiB` → host flag `--memory-limit-mib`): a macro
 * that grows its memory is stopped at the limit by the client's watchdog; one that asks for a huge
 * block at once has the allocation refused by the host's data ceiling. Both answer "exceeded the
 * memory limit of N MiB" with code memory-limit, and the host is restarted.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MacroHost, type ExpandResult } from '../../dist/client/index.js';
import { expectBatch, startHost, wrapBatch } from '../client/support.js';
import { HOST_MAIN, ident, isAlive, LIBC_BASIC, LIBC_FAULTS, LIBC_FAULTS_ID } from './support.js';

const LIMIT_MIB = 256;

describe('a macro that allocates without bound', () => {
	it('growing step by step: the client kills the host at the limit; the call says so and the calls around it succeed', async () => {
		const { host, crashes } = await startHost({ memoryLimitMiB: LIMIT_MIB });
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_FAULTS);
		const firstPid = host.pid!;

		const before = wrapBatch(host, 'a');
		const grower = host.expandInline({ name: 'fault_alloc_grow', args: ident('g'), callSite: { start: 2, end: 30 } });
		const after = wrapBatch(host, 'b');

		const result = await grower;
		expect(result.outcome).toBe('bail');
		expect(result.diagnostics).toHaveLength(1);
		const [diagnostic] = result.diagnostics;
		expect(diagnostic).toMatchObject({ severity: 'error', code: 'memory-limit', span: { start: 2, end: 30 } });
		expect(diagnostic.message).toMatch(
			new RegExp(
				`^Inline macro \`fault_alloc_grow\` from library ${escape(LIBC_FAULTS_ID)} \\(call site bytes 2\\.\\.30\\) ` +
					`exceeded the memory limit of ${LIMIT_MIB} MiB \\(the host's resident memory reached (\\d+) MiB\\); the host was killed with SIGKILL\\.\\n`,
			),
		);
		const reached = Number(/reached (\d+) MiB/.exec(diagnostic.message)![1]);
		expect(reached).toBeGreaterThanOrEqual(LIMIT_MIB);
		await expectBatch(before, 'a');
		await expectBatch(after, 'b');

		expect(crashes).toHaveLength(1);
		expect(crashes[0]).toMatchObject({
			memoryLimitExceeded: true,
			memoryLimitMiB: LIMIT_MIB,
			timedOut: false,
			signal: 'SIGKILL',
			macroName: 'fault_alloc_grow',
		});
		expect(host.restarts).toBe(1);
		expect(isAlive(firstPid)).toBe(false);
		await expectBatch(wrapBatch(host, 'c', 3), 'c');
	});

	it('one huge allocation: the host\'s data ceiling refuses it at once, and the allocator\'s abort is reported as the memory limit', async () => {
		const { host, crashes } = await startHost({ memoryLimitMiB: LIMIT_MIB });
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_FAULTS);

		const before = wrapBatch(host, 'a');
		const huge = host.expandInline({ name: 'fault_alloc_huge', args: ident('h') });
		const after = wrapBatch(host, 'b');
		expect(await huge).toEqual<ExpandResult>({
			outcome: 'bail',
			diagnostics: [
				{
					severity: 'error',
					code: 'memory-limit',
					message:
						`Inline macro \`fault_alloc_huge\` from library ${LIBC_FAULTS_ID} (no call site given) exceeded the memory limit of ${LIMIT_MIB} MiB ` +
						'(an allocation failed); the host was killed by SIGABRT (Aborted).\nHost stderr:\nmemory allocation of 1073741824 bytes failed',
				},
			],
		});
		await expectBatch(before, 'a');
		await expectBatch(after, 'b');
		expect(crashes[0]).toMatchObject({ memoryLimitExceeded: true, memoryLimitMiB: LIMIT_MIB, signal: 'SIGABRT' });
	});

	it('under the default limit (2 GiB) the same 1 GiB allocation succeeds and nothing is touched', async () => {
		const { host, crashes } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_FAULTS);
		const pid = host.pid;
		expect(await host.expandInline({ name: 'fault_alloc_huge', args: ident('h') })).toEqual({ outcome: 'leave', diagnostics: [] });
		await expectBatch(wrapBatch(host, 'a', 20), 'a');
		expect(host.pid).toBe(pid);
		expect(crashes).toEqual([]);
	});
});

describe('the memory limit option and flag', () => {
	it.each([
		[10, 'The `memoryLimitMiB` option must be an integer 64 or more (MiB), but received 10 (number).'],
		[1.5, 'The `memoryLimitMiB` option must be an integer 64 or more (MiB), but received 1.5 (number).'],
		['2G', 'The `memoryLimitMiB` option must be an integer 64 or more (MiB), but received \'2G\' (string).'],
	])('MacroHost refuses memoryLimitMiB %j', async (value, message) => {
		await expect(MacroHost.start({ memoryLimitMiB: value as number })).rejects.toThrow(new TypeError(message));
	});

	it.each([
		[['--memory-limit-mib', '12'], 'macro-host serve: --memory-limit-mib must be a whole number of MiB, at least 64, got "12"'],
		[['--memory-limit-mib'], 'macro-host serve: --memory-limit-mib must be a whole number of MiB, at least 64, got nothing'],
		[['--memory-limit-mib=lots'], 'macro-host serve: --memory-limit-mib must be a whole number of MiB, at least 64, got "lots"'],
	])('the host refuses %j with a usage error', async (args, message) => {
		const child = spawn(process.execPath, [HOST_MAIN, ...args]);
		let stderr = '';
		child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
		const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
		expect(code).toBe(2);
		expect(stderr.split('\n')[0]).toBe(message);
	});
});

function escape(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
