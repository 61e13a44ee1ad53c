/**
 * Session replay with real hosts: a library whose file vanished since it was loaded cannot be
 * replayed into the next host, after a cold restart or a warm standby swap alike. The client then
 * forgets it (a cold host answers calls to its macros with its own error); the restart itself
 * succeeds and the other libraries answer.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MacroHostErrorCodes, MacroHostRequestError } from '../../dist/client/index.js';
import { ident, LIBC_BASIC, RUST_MACROS, RUST_MACROS_ID, startHost, whenRestarted } from './support.js';

let dir: string;
beforeEach(() => {
	dir = mkdtempSync(join(tmpdir(), 'macro-host-replay-'));
});
afterEach(() => {
	rmSync(dir, { recursive: true, force: true });
});

describe.each([
	['a cold restart', false],
	['a warm standby swap', true],
] as const)('session replay after %s', (_, warmStandby) => {
	it('forgets a library whose file vanished and keeps the others, in load order', async () => {
		const copy = join(dir, 'libvanishing.so');
		copyFileSync(LIBC_BASIC, copy);
		const { host } = await startHost({ warmStandby, restart: { backoffInitialMs: 0 } });
		await host.loadLibrary(copy);
		await host.loadLibrary(RUST_MACROS);
		if (warmStandby) expect(await host.standbyReady()).toBe(true);
		rmSync(copy);

		const crashed = await host.expandInline({ name: 'bang_segv', args: ident('x', 0) });
		expect(crashed.diagnostics[0].code).toBe('host-crash');
		await whenRestarted(host, 1);

		expect(host.libraries.map((l) => l.library)).toEqual([RUST_MACROS_ID]);
		if (!warmStandby) {
			// A cold host never had it: a call to one of its macros gets the host's own error.
			const error = await host.expandInline({ name: 'wrap', args: ident('w', 0) }).then(
				() => undefined,
				(e: unknown) => e,
			);
			expect(error).toBeInstanceOf(MacroHostRequestError);
			expect((error as MacroHostRequestError).code).toBe(MacroHostErrorCodes.UnknownMacro);
			expect((error as Error).message).toContain('wrap');
		}
		// (A standby loaded it before the file went, and keeps it mapped: the client forgets it all the same.)
		// The library still there answers in the new host.
		const added = await host.expandInline({ name: 'add', args: { text: 'a,b', records: [0, 0, 0, 1, 5, 6, 1, 0, 1, 1, 6, 7, 0, 0, 2, 1, 8, 9] } });
		expect(added.outcome).toBe('replace');
	});
});
