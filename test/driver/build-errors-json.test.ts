/**
 * Build failures in `--message-format json`: each rustc diagnostic of a macro package that does not
 * compile is a record with its file, line and column as fields (real cargo, real rustc); a manifest
 * error too; a summary record always comes last.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { CACHE_DIR, removeTempDirs, tempDir, writeFiles } from './support.js';

afterAll(removeTempDirs);

/** JSON lines of stdout. */
const records = (stdout: string) => stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

describe('expand-project --message-format json on a failed build', () => {
	it('passes rustc diagnostics through with file, line, column, code and rendered text, then the summary', async () => {
		const dir = tempDir('broken');
		writeFiles(dir, {
			'app/Scarb.toml': '[package]\nname = "app"\nversion = "0.1.0"\n\n[dependencies]\nbroken_macros = { path = "../broken" }\n',
			'app/src/lib.cairo': 'fn f() {}\n',
			'broken/Scarb.toml': '[package]\nname = "broken_macros"\nversion = "0.1.0"\n\n[cairo-plugin]\n',
			'broken/src/lib.rs': 'use macro_host_sdk::{export_macros, ProcMacroResult, TokenStream};\n\nfn m(_args: &TokenStream) -> ProcMacroResult {\n    nothing_here\n}\n\nexport_macros! {\n    inline m,\n}\n',
		});
		const run = await runCli(['expand-project', join(dir, 'app'), '--message-format', 'json', '--cache-dir', CACHE_DIR], { cwd: dir });
		expect(run.exitCode).toBe(1);
		const lines = records(run.stdout);
		const error = lines.find((l) => l.rustcCode === 'E0425');
		expect(error).toMatchObject({
			type: 'diagnostic',
			severity: 'error',
			code: 'compile',
			message: 'cannot find value `nothing_here` in this scope',
			file: 'broken/src/lib.rs',
			line: 4,
			column: 5,
			endLine: 4,
			endColumn: 17,
			package: 'broken_macros',
		});
		expect(error!.rendered).toContain('error[E0425]: cannot find value `nothing_here` in this scope');
		expect(lines.at(-1)).toMatchObject({ type: 'summary', files: 0, expansions: 0, outDir: null });
		expect((lines.at(-1)!.errors as number) >= 1).toBe(true);
		expect(lines.slice(0, -1).every((l) => l.type === 'diagnostic')).toBe(true);
	});

	it('gives a manifest error its file, line and column as fields, then the summary', async () => {
		const dir = tempDir('bad-manifest');
		writeFiles(dir, { 'app/Scarb.toml': '[package]\nname = "app"\nversion = "one"\n', 'app/src/lib.cairo': '' });
		const run = await runCli(['expand-project', join(dir, 'app'), '--message-format', 'json', '--cache-dir', CACHE_DIR], { cwd: dir });
		expect(run.exitCode).toBe(1);
		const lines = records(run.stdout);
		expect(lines).toHaveLength(2);
		expect(lines[0]).toMatchObject({ type: 'diagnostic', severity: 'error', code: 'manifest', file: 'app/Scarb.toml', line: 3, column: 11 });
		expect(lines[0]!.message).toMatch(/^package version: /);
		expect(lines[1]).toEqual({ type: 'summary', files: 0, expansions: 0, errors: 1, warnings: 0, notes: 0, outDir: null });
	});
});
