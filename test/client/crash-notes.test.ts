/**
 * What a crash report quotes of the host's stderr: only what was written while the failing call ran (the
 * host marks each call's end on stderr, protocol/call-mark.ts), never the output of earlier calls; the
 * client's own sentences come before that quote; and the marks never reach the `onStderr` listener.
 */
import { describe, expect, it } from 'vitest';
import { CALL_MARK, THREADS_MARK } from '../../dist/protocol/index.js';
import { CallMarkFilter } from '../../dist/client/call-mark-filter.js';
import { ident, LIBC_FAULTS, LIBC_FAULTS_ID } from '../hardening/support.js';
import { expectBatch, LIBC_BASIC, LIBC_BASIC_ID, startHost, wrapBatch } from './support.js';

describe('the stderr note of a crash', () => {
	it('holds only what the failing call wrote, not the output of the calls before it', async () => {
		const { host, stderr } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_FAULTS);
		await host.expandInline({ name: 'fault_says', args: ident('earlier') });
		await host.expandInline({ name: 'bang_prints_stdout', args: ident('p') });
		const result = await host.expandInline({ name: 'fault_says_then_segv', args: ident('boom'), callSite: { start: 0, end: 4 } });
		expect(result.diagnostics).toEqual([
			{
				severity: 'error',
				code: 'host-crash',
				span: { start: 0, end: 4 },
				message:
					`Inline macro \`fault_says_then_segv\` from library ${LIBC_FAULTS_ID} (call site bytes 0..4) crashed the macro host: ` +
					'the host was killed by SIGSEGV (Segmentation fault).\n' +
					'Host stderr:\nfault_says_then_segv stdout: boom\nfault_says_then_segv stderr: boom',
			},
		]);
		// The listener saw everything, in order, and no mark.
		expect(stderr()).toContain('fault_says stderr: earlier\n');
		expect(stderr()).toContain('bang_prints_stdout: a normal line on stdout\n');
		expect(stderr()).not.toContain('\u001b]');
	});

	it('says the host wrote nothing when the failing call wrote nothing, however chatty the calls before it were', async () => {
		const { host } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_FAULTS);
		const chatty = [host.expandInline({ name: 'fault_says', args: ident('a') }), host.expandInline({ name: 'bang_prints_stdout', args: ident('p') })];
		const result = await host.expandInline({ name: 'bang_segv', args: ident('x') });
		await Promise.all(chatty);
		expect(result.diagnostics[0].message).toBe(
			`Inline macro \`bang_segv\` from library ${LIBC_BASIC_ID} (no call site given) crashed the macro host: ` +
				'the host was killed by SIGSEGV (Segmentation fault).\nThe host wrote nothing to stderr.',
		);
		await expectBatch(wrapBatch(host, 'w', 3), 'w');
	});

	it('in a batch, holds only what the failing call wrote, after chatty and quiet calls of the same batch', async () => {
		// One tick: one expandBatch. Its calls are marked only when they wrote something (server/call-marks.ts).
		const { host } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_FAULTS);
		const before = [
			host.expandInline({ name: 'fault_says', args: ident('chatty') }),
			...wrapBatch(host, 'q', 2),
			host.expandInline({ name: 'bang_prints_stdout', args: ident('p') }),
			...wrapBatch(host, 'r', 2),
		];
		const failing = host.expandInline({ name: 'fault_says_then_segv', args: ident('boom') });
		const after = wrapBatch(host, 's', 2);
		expect((await failing).diagnostics[0].message).toBe(
			`Inline macro \`fault_says_then_segv\` from library ${LIBC_FAULTS_ID} (no call site given) crashed the macro host: ` +
				'the host was killed by SIGSEGV (Segmentation fault).\n' +
				'Host stderr:\nfault_says_then_segv stdout: boom\nfault_says_then_segv stderr: boom',
		);
		await Promise.all(before);
		await expectBatch(after, 's');
	});

	it('puts the quarantine sentence before the stderr quote, not inside it', async () => {
		const { host } = await startHost({ quarantineAfter: 1 });
		await host.loadLibrary(LIBC_FAULTS);
		const result = await host.expandInline({ name: 'fault_says_then_segv', args: ident('q') });
		expect(result.diagnostics[0].message).toBe(
			`Inline macro \`fault_says_then_segv\` from library ${LIBC_FAULTS_ID} (no call site given) crashed the macro host: ` +
				'the host was killed by SIGSEGV (Segmentation fault).\n' +
				'It has crashed or hung the host 1 times and is now quarantined: later calls to it are not run.\n' +
				'Host stderr:\nfault_says_then_segv stdout: q\nfault_says_then_segv stderr: q',
		);
	});
});

describe('CallMarkFilter', () => {
	/** Feeds `chunks`; returns the output and a "|" where each call started. */
	function filter(chunks: Buffer[]): string {
		let out = '';
		const f = new CallMarkFilter({ output: (b) => (out += b.toString('latin1')), callStarted: () => (out += '|'), threadsLeftBehind: () => (out += '+') });
		for (const chunk of chunks) f.push(chunk);
		f.end();
		return out;
	}

	it('removes marks however the bytes are split, and keeps bytes that only look like a mark\'s start', () => {
		const stream = Buffer.from(`a${CALL_MARK}bc${THREADS_MARK}${CALL_MARK}\u001b]7701;macro-host x${CALL_MARK}d\u001b]77`, 'latin1');
		const expected = 'a|bc+|\u001b]7701;macro-host x|d\u001b]77';
		expect(filter([stream])).toBe(expected);
		expect(filter([...stream].map((byte) => Buffer.from([byte])))).toBe(expected);
		for (let cut = 1; cut < stream.length; cut++) {
			expect(filter([stream.subarray(0, cut), stream.subarray(cut)])).toBe(expected);
		}
	});
});
