/**
 * A library whose reload crashes the new host (after a restart, or in a warm standby): it is dropped,
 * its calls answer a `library-dropped` diagnostic naming the load failure, the other libraries keep
 * working, and no storm of restarts follows. The fixture (test/fixtures/c/libc_load_faults.c) raises
 * SIGSEGV while loading once the test has created its marker file.
 */
import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExpandResult } from '../../dist/client/index.js';
import { expectBatch, startHost, wrapBatch } from '../client/support.js';
import { ident, LIBC_BASIC, LIBC_BASIC_ID, LIBC_LOAD_FAULTS, loadedPids } from './support.js';

const LOAD_FAULTS_ID = realpathSync(LIBC_LOAD_FAULTS);
const DROPPED: ExpandResult = {
	outcome: 'bail',
	diagnostics: [
		{
			severity: 'error',
			code: 'library-dropped',
			span: { start: 0, end: 5 },
			message:
				`Inline macro \`load_fault_tag\` from library ${LOAD_FAULTS_ID} (call site bytes 0..5) was not run: its library was dropped, ` +
				'because loading it into a restarted macro host crashed that host: the host was killed by SIGSEGV (Segmentation fault).',
		},
	],
};

/** A marker path (not created yet) and a pid log, in a fresh directory. */
function files(): { marker: string; log: string } {
	const dir = mkdtempSync(join(tmpdir(), 'mh-reload-crash-'));
	return { marker: join(dir, 'armed'), log: join(dir, 'pids') };
}

describe('a library whose reload crashes the new host', () => {
	it('is dropped after a restart: its calls answer library-dropped, the other libraries keep working, no storm', async () => {
		const { marker, log } = files();
		const { host, crashes } = await startHost({ warmStandby: false, env: { MH_FIXTURE_CRASH_ON_LOAD_IF: marker, MH_FIXTURE_LOAD_LOG: log } });
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_LOAD_FAULTS);
		expect(await host.expandInline({ name: 'load_fault_tag', args: ident('t') })).toEqual({ outcome: 'leave', diagnostics: [], auxData: { loaded: true } });

		writeFileSync(marker, '');
		expect((await host.expandInline({ name: 'bang_segv', args: ident('x') })).diagnostics[0].code).toBe('host-crash');
		await expectBatch(wrapBatch(host, 'a'), 'a');
		expect(await host.expandInline({ name: 'load_fault_tag', args: ident('t'), callSite: { start: 0, end: 5 } })).toEqual(DROPPED);
		expect(host.libraries.map((library) => library.library)).toEqual([LIBC_BASIC_ID]);

		// Another crash: the dropped library is not loaded again, the restart is clean.
		expect((await host.expandInline({ name: 'bang_abort', args: ident('x') })).diagnostics[0].code).toBe('host-crash');
		await expectBatch(wrapBatch(host, 'b'), 'b');
		expect(await host.expandInline({ name: 'load_fault_tag', args: ident('t'), callSite: { start: 0, end: 5 } })).toEqual(DROPPED);
		// The first host, and the one restarted host that crashed while loading it: no more.
		expect(loadedPids(log)).toHaveLength(2);
		expect(host.restarts).toBe(2);
		expect(crashes.map((crash) => crash.macroName)).toEqual(['bang_segv', 'bang_abort']);
	});

	it('is dropped when it crashes the warm standby: the active host and the next standby go on without it', async () => {
		const { marker, log } = files();
		const { host } = await startHost({ env: { MH_FIXTURE_CRASH_ON_LOAD_IF: marker, MH_FIXTURE_LOAD_LOG: log } });
		await host.loadLibrary(LIBC_BASIC);
		await host.loadLibrary(LIBC_LOAD_FAULTS);
		expect(await host.standbyReady()).toBe(true);

		writeFileSync(marker, '');
		// The ready standby (which loaded the library before the marker) takes over; the next standby crashes loading it.
		expect((await host.expandInline({ name: 'bang_segv', args: ident('x') })).diagnostics[0].code).toBe('host-crash');
		const deadline = Date.now() + 20_000;
		let answer = await host.expandInline({ name: 'load_fault_tag', args: ident('t'), callSite: { start: 0, end: 5 } });
		while (answer.outcome !== 'bail' && Date.now() < deadline) {
			await new Promise((resolve) => setTimeout(resolve, 20));
			answer = await host.expandInline({ name: 'load_fault_tag', args: ident('t'), callSite: { start: 0, end: 5 } });
		}
		expect(answer).toEqual(DROPPED);
		// A standby without it gets ready, and takes over at the next crash.
		const readyBy = Date.now() + 20_000;
		while (!(await host.standbyReady()) && Date.now() < readyBy) await new Promise((resolve) => setTimeout(resolve, 20));
		expect(await host.standbyReady()).toBe(true);
		expect((await host.expandInline({ name: 'bang_abort', args: ident('x') })).diagnostics[0].code).toBe('host-crash');
		await expectBatch(wrapBatch(host, 'a'), 'a');
		// The first host, its first standby, and the standby that crashed loading it.
		expect(loadedPids(log)).toHaveLength(3);
		expect(host.restarts).toBe(2);
	});
});
