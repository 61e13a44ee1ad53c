/**
 * The crash matrix through the client, with real host processes: each misbehaving macro gives one
 * exact diagnostic, and a batch of innocent calls sent in the same tick, before and after it, all
 * succeed as if nothing had happened.
 */
import { describe, expect, it } from 'vitest';
import type { ExpandResult } from '../../dist/client/index.js';
import {
	expectBatch,
	expectWrapped,
	ident,
	LIBC_BASIC,
	LIBC_BASIC_ID,
	processExists,
	RUST_MACROS,
	RUST_MACROS_ID,
	startHost,
	tokensOf,
	wrapBatch,
} from './support.js';

const PRINTED = 'Content-Length: 52\r\n\r\n{"jsonrpc":"2.0","id":1,"result":"corrupted"}bang_prints_stdout: a normal line on stdout\n';

describe('a macro that kills the host', () => {
	it.each([
		{ name: 'bang_segv', exit: 'the host was killed by SIGSEGV (Segmentation fault)', signal: 'SIGSEGV', signalDescription: 'Segmentation fault', exitCode: undefined },
		{ name: 'bang_abort', exit: 'the host was killed by SIGABRT (Aborted)', signal: 'SIGABRT', signalDescription: 'Aborted', exitCode: undefined },
		{ name: 'bang_exit0', exit: 'the host exited with code 0', signal: undefined, signalDescription: undefined, exitCode: 0 },
		{ name: 'bang_exit3', exit: 'the host exited with code 3', signal: undefined, signalDescription: undefined, exitCode: 3 },
	])('$name: bails with one host-crash diagnostic; the calls around it succeed', async ({ name, exit, signal, signalDescription, exitCode }) => {
		const { host, stderr, crashes } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		const firstPid = host.pid!;

		const before = wrapBatch(host, 'a');
		// Its stdout lands on the host's stderr; the listener sees it, the crash report does not (it was not the crash's call).
		const printer = host.expandInline({ name: 'bang_prints_stdout', args: ident('p', 50) });
		let stderrAtCrash = '';
		const crashed = host.expandInline({ name, args: ident('boom', 7), callSite: { start: 0, end: 20 } }).then((result) => {
			stderrAtCrash = stderr();
			return result;
		});
		const after = wrapBatch(host, 'b');

		const result = await crashed;
		expect(stderrAtCrash).toBe(PRINTED);
		const message =
			`Inline macro \`${name}\` from library ${LIBC_BASIC_ID} (call site bytes 0..20) crashed the macro host: ${exit}.\n` +
			'The host wrote nothing to stderr.';
		expect(result).toEqual<ExpandResult>({
			outcome: 'bail',
			diagnostics: [{ severity: 'error', code: 'host-crash', message, span: { start: 0, end: 20 } }],
		});

		await expectBatch(before, 'a');
		expectWrapped(await printer, 'p', 50);
		await expectBatch(after, 'b');

		expect(crashes).toHaveLength(1);
		expect(crashes[0]).toMatchObject({
			name: 'HostCrashError',
			message,
			pid: firstPid,
			exitCode,
			signal,
			signalDescription,
			timedOut: false,
			timeoutMs: undefined,
			stderrTail: '',
			method: 'expandInline',
			macroName: name,
			macroKind: 'inline',
			library: LIBC_BASIC_ID,
			callSite: { start: 0, end: 20 },
		});
		expect(host.restarts).toBe(1);
		expect(host.pid).not.toBe(firstPid);
		// Reaped, not a zombie.
		expect(processExists(firstPid)).toBe(false);
		// The restarted host works for later calls too.
		await expectBatch(wrapBatch(host, 'c', 3), 'c');
	});

	it('bang_hang: the host is killed with SIGKILL after requestTimeoutMs, and the call says it timed out', async () => {
		const { host, crashes } = await startHost({ requestTimeoutMs: 1500 });
		await host.loadLibrary(LIBC_BASIC);
		const firstPid = host.pid!;

		const before = wrapBatch(host, 'a');
		const hung = host.expandInline({ name: 'bang_hang', args: ident('h', 3), callSite: { start: 1, end: 13 } });
		const after = wrapBatch(host, 'b');

		const message =
			`Inline macro \`bang_hang\` from library ${LIBC_BASIC_ID} (call site bytes 1..13) timed out after 1500 ms; ` +
			'the host was killed with SIGKILL.\nThe host wrote nothing to stderr.';
		expect(await hung).toEqual<ExpandResult>({
			outcome: 'bail',
			diagnostics: [{ severity: 'error', code: 'timeout', message, span: { start: 1, end: 13 } }],
		});
		await expectBatch(before, 'a');
		await expectBatch(after, 'b');
		expect(crashes).toHaveLength(1);
		expect(crashes[0]).toMatchObject({ timedOut: true, timeoutMs: 1500, signal: 'SIGKILL', exitCode: undefined, macroName: 'bang_hang' });
		expect(host.restarts).toBe(1);
		expect(processExists(firstPid)).toBe(false);
	});
});

describe('a macro that misbehaves without killing the host', () => {
	it('bang_panic: the Rust panic is a bail diagnostic from the host, which lives on', async () => {
		const { host, crashes } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(RUST_MACROS);
		const pid = host.pid;

		const before = wrapBatch(host, 'a');
		const panicked = host.expandInline({ name: 'bang_panic', args: ident('x', 4), callSite: { start: 0, end: 15 } });
		const after = wrapBatch(host, 'b');

		const result = await panicked;
		expect(result.outcome).toBe('bail');
		expect(result.diagnostics).toHaveLength(1);
		expect(result.diagnostics[0].severity).toBe('error');
		expect(result.diagnostics[0].message).toContain('boom at the macro');
		expect(result.diagnostics[0].code).toBeUndefined();
		await expectBatch(before, 'a');
		await expectBatch(after, 'b');
		expect(host.pid).toBe(pid);
		expect(host.restarts).toBe(0);
		expect(crashes).toEqual([]);
		// The library that panicked still works.
		const added = await host.expandInline({ name: 'add', args: { text: 'a,b', records: [0, 0, 0, 1, 5, 6, 1, 0, 1, 1, 6, 7, 0, 0, 2, 1, 8, 9] } });
		expect(added.outcome).toBe('replace');
		expect(tokensOf(added.tokens).map((t) => t.text).join(' ')).toBe('( a ) + ( b )');
	});

	it.each([
		{ name: 'bang_prints_stdout', library: LIBC_BASIC_ID, printed: 'bang_prints_stdout: a normal line on stdout', expected: ['(', 'q', ')'] },
		{ name: 'rust_prints_stdout', library: RUST_MACROS_ID, printed: 'rust_prints_stdout was here', expected: ['q'] },
	])('$name: the frame-shaped output goes to stderr; the answer and the calls around it are right', async ({ name, library, printed, expected }) => {
		const { host, stderr, crashes } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(RUST_MACROS);
		const pid = host.pid;

		const before = wrapBatch(host, 'a');
		const printing = host.expandInline({ name, library, args: ident('q', 9) });
		const after = wrapBatch(host, 'b');

		const result = await printing;
		expect(result.outcome).toBe('replace');
		expect(result.diagnostics).toEqual([]);
		expect(tokensOf(result.tokens).map((t) => t.text)).toEqual(expected);
		expect(tokensOf(result.tokens).find((t) => t.text === 'q')?.span).toEqual([9, 10]);
		await expectBatch(before, 'a');
		await expectBatch(after, 'b');
		// The host's stderr is another pipe than its answers: what the macro printed may arrive after them.
		await expect.poll(stderr).toContain(printed);
		await expect.poll(stderr).toContain('"result":"corrupted"');
		expect(host.pid).toBe(pid);
		expect(host.restarts).toBe(0);
		expect(crashes).toEqual([]);
	});
});
