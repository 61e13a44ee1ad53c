/**
 * Faults beyond the crash matrix, through the client with real host processes: a stack overflow, a
 * macro reading stdin, closing or redirecting fd 1 and 2, forking and leaving children behind,
 * results the host must refuse (invalid UTF-8, bad offsets and spans, NULL, absurd sizes), and a
 * library whose manifest is not JSON. Each gives one exact answer, and the calls around it succeed.
 */
import { realpathSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MacroHostErrorCodes, MacroHostRequestError, type ExpandResult } from '../../dist/client/index.js';
import { expectBatch, startHost, wrapBatch } from '../client/support.js';
import { eventually, fixture, groupMembers, ident, isAlive, LIBC_BASIC, LIBC_EDGE, LIBC_FAULTS, LIBC_FAULTS_ID } from './support.js';

const EDGE_ID = realpathSync(LIBC_EDGE);

describe('a macro that overflows its stack', () => {
	it('kills the host with SIGSEGV on the guard page of the 16 MiB macro stack: one host-crash diagnostic, the calls around it succeed', async () => {
		const { host, crashes } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_FAULTS);
		const firstPid = host.pid!;

		const before = wrapBatch(host, 'a');
		const overflow = host.expandInline({ name: 'fault_stack_overflow', args: ident('x', 3), callSite: { start: 0, end: 25 } });
		const after = wrapBatch(host, 'b');

		expect(await overflow).toEqual<ExpandResult>({
			outcome: 'bail',
			diagnostics: [
				{
					severity: 'error',
					code: 'host-crash',
					span: { start: 0, end: 25 },
					message:
						`Inline macro \`fault_stack_overflow\` from library ${LIBC_FAULTS_ID} (call site bytes 0..25) crashed the macro host: ` +
						'the host was killed by SIGSEGV (Segmentation fault).\nThe host wrote nothing to stderr.',
				},
			],
		});
		await expectBatch(before, 'a');
		await expectBatch(after, 'b');
		expect(crashes).toHaveLength(1);
		expect(crashes[0]).toMatchObject({ signal: 'SIGSEGV', macroName: 'fault_stack_overflow', memoryLimitExceeded: false });
		expect(host.restarts).toBe(1);
		expect(isAlive(firstPid)).toBe(false);
	});
});

describe('a macro that reads the host\'s private protocol input', () => {
	it('takes requests queued behind it; the client sees the gap in the answers and sends them again: all answered, nobody blamed', async () => {
		// A short timeout: without the re-send the taken requests would wait for it and one of them would be blamed.
		const { host, stderr, crashes } = await startHost({ requestTimeoutMs: 4000 });
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_FAULTS);
		const pid = host.pid;

		const reader = host.expandInline({ name: 'fault_reads_protocol', args: ident('r') });
		// Sent while the macro waits: these frames sit in the socket until the macro reads them.
		expect(await eventually(() => stderr().includes('fault_reads_protocol: reading\n'), 5_000)).toBe(true);
		const taken = wrapBatch(host, 't', 5);
		const result = await reader;
		expect(result.outcome).toBe('leave');
		expect((result.auxData as { read: number }).read).toBeGreaterThan(0);
		// The next answer comes while the taken ones are outstanding: the gap that makes the client send them again.
		await expectBatch(wrapBatch(host, 'n', 1), 'n');
		await expectBatch(taken, 't');
		await expectBatch(wrapBatch(host, 'after', 3), 'after');
		expect(host.pid).toBe(pid);
		expect(crashes).toEqual([]);
	});
});

describe('a thread a macro left running, which crashes the host later', () => {
	it('does not get the call that was running blamed: that call runs again on a new host and answers; nothing is counted', async () => {
		const { host, crashes } = await startHost({ quarantineAfter: 1 });
		await host.loadLibrary(LIBC_FAULTS);
		expect(await host.expandInline({ name: 'fault_thread_crash_later', args: ident('t') })).toEqual({ outcome: 'leave', diagnostics: [] });
		// The thread raises SIGSEGV 200 ms later, while this innocent call sleeps.
		expect(await host.expandInline({ name: 'fault_sleeps', args: ident('s') })).toEqual({ outcome: 'leave', diagnostics: [] });
		expect(crashes).toHaveLength(1);
		expect(crashes[0].message).toBe(
			`The macro host died while running inline macro \`fault_sleeps\` from library ${LIBC_FAULTS_ID} (no call site given), ` +
				'with threads that earlier calls left running: the host was killed by SIGSEGV (Segmentation fault). ' +
				'The call is not blamed: it runs again on a new host.\nThe host wrote nothing to stderr.',
		);
		// Not counted toward its quarantine (quarantineAfter is 1).
		expect(await host.expandInline({ name: 'fault_sleeps', args: ident('s') })).toEqual({ outcome: 'leave', diagnostics: [] });
		expect(host.restarts).toBe(1);
	});

	it('still blames a call that crashes the host itself: it crashes the next host too', async () => {
		const { host, crashes } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_FAULTS);
		await host.expandInline({ name: 'fault_thread_crash_later', args: ident('t') });
		// Sent at once: the host dies of bang_segv before the thread wakes, yet there are threads left.
		const result = await host.expandInline({ name: 'bang_segv', args: ident('x') });
		expect(result.diagnostics).toHaveLength(1);
		expect(result.diagnostics[0].code).toBe('host-crash');
		expect(result.diagnostics[0].message).toMatch(/^Inline macro `bang_segv` from library .* crashed the macro host: the host was killed by SIGSEGV/);
		expect(crashes.map((crash) => crash.macroName)).toEqual(['bang_segv', 'bang_segv']);
		await expectBatch(wrapBatch(host, 'a', 3), 'a');
	});
});

describe('a macro that changes the working directory', () => {
	it('does not move later relative loadLibrary paths: they resolve against the host\'s start directory (the cwd option)', async () => {
		const { host, crashes } = await startHost({ cwd: dirname(LIBC_FAULTS) });
		// An absolute path first: the host has not looked at its working directory before the chdir.
		expect((await host.loadLibrary(LIBC_FAULTS)).library).toBe(LIBC_FAULTS_ID);
		expect(await host.expandInline({ name: 'fault_chdir', args: ident('x') })).toEqual({ outcome: 'leave', diagnostics: [] });
		expect((await host.loadLibrary(basename(LIBC_BASIC))).library).toBe(realpathSync(LIBC_BASIC));
		await expectBatch(wrapBatch(host, 'a'), 'a');
		expect(crashes).toEqual([]);
	});
});

describe('a macro that reads stdin', () => {
	it('reads end-of-file (fd 0 is /dev/null), never the protocol bytes queued behind it', async () => {
		const { host, crashes } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_EDGE);
		const before = wrapBatch(host, 'a');
		const reader = host.expandInline({ name: 'edge_reads_stdin', args: ident('r') });
		const after = wrapBatch(host, 'b');
		expect(await reader).toEqual({ outcome: 'leave', diagnostics: [], auxData: { read: 0 } });
		await expectBatch(before, 'a');
		await expectBatch(after, 'b');
		expect(crashes).toEqual([]);
	});
});

describe('a macro that closes or redirects fd 1 or fd 2', () => {
	it.each([
		{ name: 'fault_close_stdout', fd: 1 },
		{ name: 'fault_close_stderr', fd: 2 },
		{ name: 'fault_dup2_stdout', fd: 1 },
		{ name: 'fault_dup2_stderr', fd: 2 },
	])('$name: the protocol is untouched (it is on private fds), and the host points fd $fd back at stderr', async ({ name, fd }) => {
		const { host, stderr, crashes } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_FAULTS);
		const pid = host.pid;

		const before = wrapBatch(host, 'a');
		const culprit = host.expandInline({ name, args: ident('x') });
		const after = wrapBatch(host, 'b');
		// A later macro's printf and eprintf both reach the client again.
		const says = host.expandInline({ name: 'fault_says', args: ident('later') });

		expect(await culprit).toEqual({ outcome: 'leave', diagnostics: [] });
		await expectBatch(before, 'a');
		await expectBatch(after, 'b');
		expect(await says).toEqual({ outcome: 'leave', diagnostics: [] });
		// stderr is a pipe of its own: the replies may be read before the output written beside them.
		const lines = [`macro-host: expandInline: fd ${fd} was closed or redirected by a macro; pointed it back at stderr\n`, 'fault_says stdout: later\n', 'fault_says stderr: later\n'];
		await eventually(() => lines.every((line) => stderr().includes(line)), 5_000);
		expect(stderr()).toContain(`macro-host: expandInline: fd ${fd} was closed or redirected by a macro; pointed it back at stderr\n`);
		expect(stderr()).toContain('fault_says stdout: later\n');
		expect(stderr()).toContain('fault_says stderr: later\n');
		expect(host.pid).toBe(pid);
		expect(crashes).toEqual([]);
	});
});

describe('a macro that replaces the host\'s private protocol fds', () => {
	it('the host puts them back before the reply is written and logs it: every call is answered, none waits for the timeout', async () => {
		// A short timeout: without the repair the culprit's reply would go to /dev/null and the call would time out.
		const { host, stderr, crashes } = await startHost({ requestTimeoutMs: 5000 });
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_FAULTS);
		const pid = host.pid;

		const before = wrapBatch(host, 'a');
		const culprit = host.expandInline({ name: 'fault_dup2_protocol', args: ident('x') });
		const after = wrapBatch(host, 'b');

		// The input and the output of the protocol: two socket fds.
		expect(await culprit).toEqual({ outcome: 'leave', diagnostics: [], auxData: { replaced: 2 } });
		await expectBatch(before, 'a');
		await expectBatch(after, 'b');
		// Inside a batch the protocol's fds are checked once, before the batch's reply: the log names expandBatch.
		await eventually(() => (stderr().match(/was closed or redirected by a macro; put it back\n/g) ?? []).length >= 2, 5_000);
		expect(stderr()).toMatch(/macro-host: expand(?:Inline|Batch): fd \d+ \(the protocol's input from the client\) was closed or redirected by a macro; put it back\n/);
		expect(stderr()).toMatch(/macro-host: expand(?:Inline|Batch): fd \d+ \(the protocol's output to the client\) was closed or redirected by a macro; put it back\n/);
		await expectBatch(wrapBatch(host, 'c'), 'c');
		expect(host.pid).toBe(pid);
		expect(crashes).toEqual([]);
	});
});

describe('a macro that forks and leaves a child behind', () => {
	it('the child (which holds the host\'s pipes) dies with the host: close() is not wedged and leaves no process', async () => {
		const { host } = await startHost();
		await host.loadLibrary(LIBC_FAULTS);
		const pid = host.pid!;
		const result = await host.expandInline({ name: 'fault_fork_child', args: ident('f') });
		const child = (result.auxData as { child: number }).child;
		expect(result).toEqual({ outcome: 'leave', diagnostics: [], auxData: { child } });
		// The host leads its own process group, and the child is in it.
		expect(groupMembers(pid).sort()).toEqual([pid, child].sort());

		await host.close();
		expect(await eventually(() => !isAlive(child), 2000)).toBe(true);
		expect(groupMembers(pid)).toEqual([]);
	});

	it('a crash after the fork is answered as a crash (not a timeout), and the restarted host serves the calls behind it', async () => {
		const { host, crashes } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_FAULTS);
		const firstPid = host.pid!;
		const forked = await host.expandInline({ name: 'fault_fork_child', args: ident('f') });
		const child = (forked.auxData as { child: number }).child;

		const crashed = host.expandInline({ name: 'bang_segv', args: ident('s') });
		const after = wrapBatch(host, 'b');
		const result = await crashed;
		expect(result.diagnostics.map((d) => d.code)).toEqual(['host-crash']);
		await expectBatch(after, 'b');
		expect(crashes).toHaveLength(1);
		expect(crashes[0]).toMatchObject({ signal: 'SIGSEGV', timedOut: false });
		expect(await eventually(() => !isAlive(child), 2000)).toBe(true);
		expect(groupMembers(firstPid)).toEqual([]);
	});

	it('a child that leaves the process group (setsid) keeps the pipes open, yet the client stops waiting for them', async () => {
		const { host, crashes } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_FAULTS);
		const forked = await host.expandInline({ name: 'fault_fork_setsid', args: ident('f') });
		const child = (forked.auxData as { child: number }).child;
		try {
			const crashed = host.expandInline({ name: 'bang_abort', args: ident('s') });
			const after = wrapBatch(host, 'b');
			expect((await crashed).diagnostics.map((d) => d.code)).toEqual(['host-crash']);
			await expectBatch(after, 'b');
			expect(crashes[0]).toMatchObject({ signal: 'SIGABRT', timedOut: false });
			await host.close();
			// Out of the client's reach by design (it left the group); only the test can end it.
			expect(isAlive(child)).toBe(true);
		} finally {
			process.kill(child, 'SIGKILL');
		}
	});
});

describe('results the host refuses: the library\'s error, never a host crash', () => {
	const edge = (name: string) => `bad result: the inline macro ${name} (${EDGE_ID})`;
	const faults = (name: string) => `bad result: the inline macro ${name} (${LIBC_FAULTS_ID})`;
	const cases: Array<[string, string]> = [
		['edge_null_result', `${edge('edge_null_result')} returned no result (NULL)`],
		['edge_bad_utf8', `${edge('edge_bad_utf8')} output text is not valid UTF-8`],
		['edge_bad_records', `${edge('edge_bad_records')} output: token 0 text ends at byte 6, past the text's 2 bytes`],
		['edge_bad_outcome', `${edge('edge_bad_outcome')} returned unknown outcome 9`],
		['edge_bad_severity', `${edge('edge_bad_severity')} returned diagnostic 0 with unknown severity 7`],
		['fault_huge_token_count', `${faults('fault_huge_token_count')} output has 1099511627776 tokens, more than the 2097152 a result may hold`],
		['fault_huge_text', `${faults('fault_huge_text')} output text has 67108865 bytes, more than the 67108864 a result may hold`],
		['fault_huge_diagnostic_count', `${faults('fault_huge_diagnostic_count')} result has 1099511627776 diagnostics, more than the 100000 a result may hold`],
		['fault_reversed_span', `${faults('fault_reversed_span')} output: token 0 has span 9..3, which ends before it starts`],
		[
			'fault_half_span',
			`${faults('fault_half_span')} output: token 0 has span call-site..5: only one end is the call site (0xFFFFFFFF), a generated token has both`,
		],
		['fault_reversed_diagnostic_span', `${faults('fault_reversed_diagnostic_span')} diagnostic 0 has span 9..3, which ends before it starts`],
		['fault_deep_aux', `${faults('fault_deep_aux')} returned aux data nested more than 1000 levels deep, more than aux data may be`],
	];

	it('answers each with bail and one bad-result diagnostic; the host lives on and serves the next call', async () => {
		const { host, crashes } = await startHost();
		await host.loadLibrary(LIBC_EDGE);
		await host.loadLibrary(LIBC_FAULTS);
		const pid = host.pid;
		const results = await Promise.all(cases.map(([name]) => host.expandInline({ name, args: ident('x', 4), callSite: { start: 0, end: 9 } })));
		results.forEach((result, i) => {
			expect(result).toEqual({ outcome: 'bail', diagnostics: [{ severity: 'error', message: cases[i][1], code: 'bad-result' }] });
		});
		expect(await host.expandInline({ name: 'fault_says', args: ident('ok') })).toEqual({ outcome: 'leave', diagnostics: [] });
		expect(host.pid).toBe(pid);
		expect(crashes).toEqual([]);
	});
});

describe('a library whose manifest is not valid JSON', () => {
	it('is refused with LibraryLoadFailed (reason badManifest); the host lives on', async () => {
		const { host } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		const pid = host.pid;
		const path = fixture('libc_bad_manifest.so');
		let parseMessage = '';
		try {
			JSON.parse('[{"name":"noop",');
		} catch (error) {
			parseMessage = (error as Error).message;
		}
		const error = await host.loadLibrary(path).then(
			() => undefined,
			(e: unknown) => e,
		);
		expect(error).toBeInstanceOf(MacroHostRequestError);
		expect(error).toMatchObject({
			code: MacroHostErrorCodes.LibraryLoadFailed,
			message: `cannot load macro library ${path}: its manifest (mh_manifest) is not valid JSON (${parseMessage})`,
			data: { path, reason: 'badManifest' },
		});
		await expectBatch(wrapBatch(host, 'a', 3), 'a');
		expect(host.pid).toBe(pid);
		expect(host.libraries.map((l) => l.library)).toEqual([realpathSync(LIBC_BASIC)]);
	});
});
