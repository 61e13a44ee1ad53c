/** `macro-host build <project-dir>`, run as a real process: listing, progress, cache hits, errors and exit codes. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { EXAMPLES, removeTempDirs, tempDir, writeCairoPackage, writeFiles, writeMacroPackage } from './helpers.js';

afterAll(removeTempDirs);

let root: string;
let cacheDir: string;
beforeAll(() => {
	root = tempDir('cli-build');
	cacheDir = join(root, 'cache');
});

describe('macro-host build', () => {
	it('builds the example project with progress on stderr and lists the macros per package', { timeout: 240_000 }, async () => {
		const run = await runCli(['build', join(EXAMPLES, 'hello-macros'), '--cache-dir', cacheDir]);
		expect(run.exitCode, run.stderr).toBe(0);
		const lines = run.stdout.trimEnd().split('\n');
		expect(lines).toHaveLength(8);
		expect(lines[0]).toMatch(new RegExp(`^add_macro 0\\.1\\.0 \\(built\\): ${cacheDir}/libs/[0-9a-f]{64}/libadd_macro\\.so$`));
		expect(lines[1]).toBe('  add         inline     Adds two expressions: `add!(a, b)` is `(a) + (b)`.');
		expect(lines[2]).toMatch(/^tracing_macro 0\.1\.0 \(built\): /);
		expect(lines[3]).toBe('  instrument  attribute  Prints "enter NAME" and "exit NAME" around the function\'s body.');
		expect(lines[4]).toMatch(/^to_value_macro 0\.1\.0 \(built\): /);
		expect(lines[5]).toBe('  ToValue     derive     Implements `ToValue<T>` for a struct: the sum of its fields as felt252.');
		expect(lines[6]).toMatch(/^crash_macro 0\.1\.0 \(built\): /);
		expect(lines[7]).toBe('  crash       attribute  Crashes the process that runs it (a write through a null pointer), to show crash isolation.');
		// Piped, each step is one plain line: the package once, another crate only when cargo compiles one.
		expect(run.stderr).toMatch(/^Compiling add_macro v0\.1\.0$/m);
		expect(run.stderr).not.toMatch(/^Compiling add_macro v0\.1\.0(: |.*, compiling add_macro)/m);
		expect(run.stderr).not.toMatch(/^Compiling .*\(\d+\.\ds\)$/m);
		expect(run.stderr).toMatch(/^Built to_value_macro v0\.1\.0 in \d+\.\ds$/m);
	});

	it('a second run uses the cache: no compiling', { timeout: 60_000 }, async () => {
		const run = await runCli(['build', join(EXAMPLES, 'hello-macros'), '--cache-dir', cacheDir, '--json']);
		expect(run.exitCode, run.stderr).toBe(0);
		expect(run.stderr).toBe('');
		const project = JSON.parse(run.stdout) as { cargoRuns: number; packages: { name: string; source: string }[] };
		expect(project.cargoRuns).toBe(0);
		expect(project.packages.map((p) => [p.name, p.source])).toEqual([
			['add_macro', 'cache'],
			['tracing_macro', 'cache'],
			['to_value_macro', 'cache'],
			['crash_macro', 'cache'],
		]);
	});

	it('exits 1 with file:line:col for a manifest error', async () => {
		const app = join(root, 'bad-toml');
		writeFiles(app, { 'Scarb.toml': '[package]\nname = "app"\nversion = 0.1.0\n' });
		const run = await runCli(['build', app, '--cache-dir', cacheDir]);
		expect(run.exitCode).toBe(1);
		expect(run.stdout).toBe('');
		expect(run.stderr).toBe(`error: ${join(app, 'Scarb.toml')}:3:14: TOML syntax error: illegal character in numeric literal\n`);
	});

	it('exits 1 for an unknown dependency path, and for a requirement the package does not match', async () => {
		writeMacroPackage(join(root, 'm'), { name: 'm', version: '0.1.0' });
		const app = writeCairoPackage(join(root, 'mismatch'), 'mismatch', {
			m: '{ path = "../m", version = "0.2" }',
			gone: '{ path = "../gone" }',
		});
		const manifest = join(app, 'Scarb.toml');
		const first = await runCli(['build', app, '--cache-dir', cacheDir]);
		expect(first.exitCode).toBe(1);
		expect(first.stderr).toBe(`error: ${manifest}:7:17: dependency "gone": unknown dependency path "../gone": ${join(root, 'gone')} does not exist\n`);

		writeCairoPackage(app, 'mismatch', { m: '{ path = "../m", version = "0.2" }' });
		const second = await runCli(['build', app, '--cache-dir', cacheDir]);
		expect(second.exitCode).toBe(1);
		expect(second.stderr).toBe(`error: ${manifest}:6:32: dependency "m" requires version 0.2, but ${join(root, 'm', 'Scarb.toml')} is m 0.1.0\n`);
	});

	it('exits 1 with rustc\'s message for a compile error', { timeout: 240_000 }, async () => {
		writeMacroPackage(join(root, 'broken'), { name: 'broken', source: 'fn f() -> u32 { "text" }\n' });
		const app = writeCairoPackage(join(root, 'broken-app'), 'broken_app', { broken: '{ path = "../broken" }' });
		const run = await runCli(['build', app, '--cache-dir', cacheDir]);
		expect(run.exitCode).toBe(1);
		expect(run.stderr).toMatch(/^error: could not compile macro package broken v0\.1\.0 \(.*\); cargo said:\n/m);
		expect(run.stderr).toContain('error[E0308]: mismatched types');
		expect(run.stderr).toContain(`${join(root, 'broken', 'src', 'lib.rs')}:1:`);
	});

	it('exits 2 without a project dir', async () => {
		const run = await runCli(['build']);
		expect(run.exitCode).toBe(2);
		expect(run.stderr).toBe("error: missing <project-dir>: give the directory of the project's Scarb.toml\nhint: run 'macro-host build --help' for usage\n");
	});
});
