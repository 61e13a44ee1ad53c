/**
 * A Scarb macro that panics: the panic unwinds into `extern "C"`, Rust aborts the host (SIGABRT) as it
 * aborts Scarb, and the client turns the crash into a diagnostic whose text carries the panic's own
 * message, with the calls around it unharmed.
 */
import { realpathSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startHost, tokensOf } from '../client/support.js';
import { fixture } from './harness.js';

describe.each([
	{ abi: 'v1', path: fixture('libv1_macros.so') },
	{ abi: 'v2', path: fixture('libv2_macros.so') },
])('a panicking Scarb $abi macro', ({ abi, path }) => {
	it('aborts the host; the crash diagnostic quotes the panic message; the next call runs on a new host', async () => {
		const { host, crashes } = await startHost();
		await host.loadLibrary(path);
		const id = realpathSync(path);

		const result = await host.expandInline({ name: 'boom', args: { text: 'x', records: [0, 0, 0, 1, 5, 6] }, callSite: { start: 0, end: 8 } });

		expect(result.outcome).toBe('bail');
		expect(result.diagnostics).toHaveLength(1);
		const [diagnostic] = result.diagnostics;
		expect(diagnostic).toMatchObject({ severity: 'error', code: 'host-crash', span: { start: 0, end: 8 } });
		const head = `Inline macro \`boom\` from library ${id} (call site bytes 0..8) crashed the macro host: the host was killed by SIGABRT (Aborted).`;
		expect(diagnostic.message).toMatch(new RegExp(`^${escape(head)}\\nThe macro panicked at src/lib\\.rs:\\d+:\\d+: boom: the ${abi} macro gave up on purpose\\nHost stderr`));
		expect(crashes).toHaveLength(1);
		expect(crashes[0]).toMatchObject({ signal: 'SIGABRT' });

		// The library is loaded again on the restarted host, and an innocent call works.
		const after = await host.expandInline({ name: 'identity', args: { text: 'y', records: [0, 0, 0, 1, 5, 6] } });
		expect(after.outcome).toBe('replace');
		expect(tokensOf(after.tokens).map((t) => t.text)).toEqual(['(', 'y', ')']);
	});
});

function escape(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
