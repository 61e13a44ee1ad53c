/**
 * Batches through the client, with real host processes: small calls made in the same tick travel in
 * one expandBatch, and a macro that kills the host inside a batch is answered as a lone call would be
 * (one host-crash diagnostic naming it), while every other call of the batch, before and after it,
 * gets its own answer from the restarted host.
 */
import { describe, expect, it } from 'vitest';
import type { ExpandResult } from '../../dist/client/index.js';
import { LIBC_FAULTS } from '../hardening/support.js';
import { expectBatch, ident, LIBC_BASIC, LIBC_BASIC_ID, startHost, whenRestarted, wrapBatch } from './support.js';

const CRASH = `Inline macro \`bang_segv\` from library ${LIBC_BASIC_ID} (call site bytes 0..20) crashed the macro host: the host was killed by SIGSEGV (Segmentation fault).`;

/** Sends innocent calls, the crash, and more innocent calls, all in this tick; returns the crash's answer. */
async function crashInsideBatch(host: Awaited<ReturnType<typeof startHost>>['host']): Promise<ExpandResult> {
	const before = wrapBatch(host, 'a', 10);
	const crashed = host.expandInline({ name: 'bang_segv', args: ident('boom', 7), callSite: { start: 0, end: 20 } });
	const after = wrapBatch(host, 'b', 10);
	const result = await crashed;
	await expectBatch(before, 'a');
	await expectBatch(after, 'b');
	return result;
}

function expectCrashAnswer(result: ExpandResult): void {
	expect(result.outcome).toBe('bail');
	expect(result.diagnostics).toHaveLength(1);
	expect(result.diagnostics[0]).toMatchObject({ severity: 'error', code: 'host-crash', span: { start: 0, end: 20 } });
	expect(result.diagnostics[0].message.startsWith(CRASH)).toBe(true);
}

describe('a crash inside a batch', () => {
	it('with the progress file (bulk directory): the culprit is named at the first crash, the rest re-run', async () => {
		const { host, crashes } = await startHost({ warmStandby: false });
		await host.loadLibrary(LIBC_BASIC);
		expectCrashAnswer(await crashInsideBatch(host));
		await whenRestarted(host, 1);
		expect(host.restarts).toBe(1);
		expect(crashes).toHaveLength(1);
		expect(crashes[0]).toMatchObject({ macroName: 'bang_segv', signal: 'SIGSEGV' });
	});

	it('without it (bulk: false): the batch re-runs alone, and the culprit is named when it kills the host again', async () => {
		const { host, crashes } = await startHost({ warmStandby: false, bulk: false });
		await host.loadLibrary(LIBC_BASIC);
		expectCrashAnswer(await crashInsideBatch(host));
		await whenRestarted(host, 2);
		// The first death had no culprit (the batch said nothing); the second names it.
		expect(crashes).toHaveLength(2);
		expect(crashes[0].macroName).toBeUndefined();
		expect(crashes[1]).toMatchObject({ macroName: 'bang_segv', signal: 'SIGSEGV' });
		// Re-sent alone from then on, the batch's calls still answer.
		await expectBatch(wrapBatch(host, 'c'), 'c');
	});

	it('with batch: false the same calls go alone: one crash, named at once', async () => {
		const { host, crashes } = await startHost({ warmStandby: false, bulk: false, batch: false });
		await host.loadLibrary(LIBC_BASIC);
		expectCrashAnswer(await crashInsideBatch(host));
		await whenRestarted(host, 1);
		expect(crashes).toHaveLength(1);
		expect(crashes[0]).toMatchObject({ macroName: 'bang_segv' });
	});
});

describe('batches', () => {
	it('answer each call of a burst as it would be answered alone, errors included', async () => {
		const { host } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		const good = wrapBatch(host, 'x', 50);
		const unknown = host.expandInline({ name: 'nope', args: ident('n', 1) });
		const more = wrapBatch(host, 'y', 50);
		await expect(unknown).rejects.toMatchObject({ name: 'MacroHostRequestError', method: 'expandInline', message: expect.stringContaining('no loaded library provides an inline macro named nope') });
		await expectBatch(good, 'x');
		await expectBatch(more, 'y');
		expect(host.restarts).toBe(0);
	});
});

describe('the request timeout inside a batch', () => {
	it('times each call of the batch, not the batch: slow calls that each fit in the timeout all answer', async () => {
		// Four calls of 600 ms in one batch: 2.4 s in all, against a 1.5 s timeout per call.
		const { host, crashes } = await startHost({ requestTimeoutMs: 1500, warmStandby: false });
		await host.loadLibrary(LIBC_FAULTS);
		const slow = Array.from({ length: 4 }, (_, i) => host.expandInline({ name: 'fault_sleeps', args: ident(`s${i}`, 1) }));
		for (const result of await Promise.all(slow)) expect(result).toEqual({ outcome: 'leave', diagnostics: [] });
		expect(crashes).toEqual([]);
		expect(host.restarts).toBe(0);
	});

	it('still stops a call of the batch that hangs, and names it', async () => {
		const { host, crashes } = await startHost({ requestTimeoutMs: 1000, warmStandby: false });
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_FAULTS);
		const slow = host.expandInline({ name: 'fault_sleeps', args: ident('s', 1) });
		const hung = host.expandInline({ name: 'bang_hang', args: ident('h', 1), callSite: { start: 0, end: 9 } });
		const after = wrapBatch(host, 'b', 5);
		expect(await slow).toEqual({ outcome: 'leave', diagnostics: [] });
		const result = await hung;
		expect(result.outcome).toBe('bail');
		expect(result.diagnostics[0]).toMatchObject({ code: 'timeout' });
		expect(result.diagnostics[0].message).toContain('`bang_hang`');
		await expectBatch(after, 'b');
		expect(crashes).toHaveLength(1);
		expect(crashes[0]).toMatchObject({ macroName: 'bang_hang', timedOut: true });
	});
});
