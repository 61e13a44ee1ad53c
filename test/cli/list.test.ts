import { realpathSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from '../server/harness.js';
import { LIBC_ABI_V2, LIBC_BASIC, LIBC_MISSING_EXPAND, NOT_A_LIBRARY, ROOT, runCli } from './run-cli.js';

const BASIC_ID = realpathSync(LIBC_BASIC);

describe('macro-host list', () => {
	it('prints a table of name, kind and doc under the library id', async () => {
		const run = await runCli(['list', LIBC_BASIC]);
		expect(run.stderr).toBe('');
		expect(run.exitCode).toBe(0);
		const lines = run.stdout.split('\n');
		expect(lines[0]).toBe(`${BASIC_ID} (ABI 1, 14 macros)`);
		expect(lines[1]).toMatch(/^NAME {16}KIND {7}DOC$/);
		expect(lines).toContain('wrap                inline     Wraps the arguments in parentheses.');
		expect(lines).toContain('tag                 attribute  Puts #[tagged] before the item.');
		expect(lines).toContain('Named               derive     impl Named for X {}');
		expect(lines).toContain('bang_prints_stdout  inline     Prints a fake protocol frame to stdout, then acts like wrap.');
		expect(lines.length).toBe(2 + 14 + 1);
	});

	it('names a Scarb library\'s ABI and fingerprint, and marks executable attributes', async () => {
		const path = realpathSync(fixture('libv2_macros.so'));
		const run = await runCli(['list', path]);
		expect(run.exitCode).toBe(0);
		const lines = run.stdout.split('\n');
		expect(lines[0]).toBe(`${path} (Scarb stable ABI v2, 12 macros, fingerprint 18364758547147500489)`);
		expect(lines).toContain('Named             derive                  Derives Named.');
		expect(lines).toContain('entry             attribute (executable)');
		const v1 = realpathSync(fixture('libv1_macros.so'));
		expect((await runCli(['list', v1])).stdout.split('\n')[0]).toBe(`${v1} (Scarb stable ABI v1, 8 macros)`);
	});

	it('prints the library info as JSON with --json, over either encoding', async () => {
		for (const encoding of ['json', 'msgpack']) {
			const run = await runCli(['list', relative(ROOT, LIBC_BASIC), '--json', '--encoding', encoding]);
			expect(run.exitCode).toBe(0);
			expect(run.stderr).toBe('');
			const info = JSON.parse(run.stdout);
			expect(info).toMatchObject({ library: BASIC_ID, abiVersion: 1, hasPostProcess: true });
			expect(info.macros).toHaveLength(14);
			expect(info.macros[0]).toEqual({ name: 'noop', kind: 'inline', doc: 'Leaves the call unchanged.' });
			expect(info.macros.map((m: { name: string }) => m.name)).toContain('Hello');
		}
	});

	it('exits 1 with the path and the reason when the library does not load', async () => {
		const cases: Array<[string, string]> = [
			['test/fixtures/build/no-such.so', 'the file does not exist'],
			[NOT_A_LIBRARY, 'not a loadable shared library'],
			[LIBC_MISSING_EXPAND, 'it does not export the required symbol mh_expand'],
			[LIBC_ABI_V2, 'it was built for macro ABI version 2, but this host speaks version 1'],
		];
		for (const [path, reason] of cases) {
			const run = await runCli(['list', path]);
			expect(run.exitCode).toBe(1);
			expect(run.stdout).toBe('');
			expect(run.stderr).toContain(`error: cannot load macro library ${path}: ${reason}`);
		}
	});
});
