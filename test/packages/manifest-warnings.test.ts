/**
 * Warnings about manifests, each at its line and column: an unknown `[cairo-plugin]` key, a misspelt
 * `[cairo-plugin]` table, and a path dependency with Rust sources but no `[cairo-plugin]`. Real
 * manifests on disk; the CLI runs end to end (no macro package is built, so no cargo runs).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../dist/client/packages/manifest.js';
import { formatPackageWarning } from '../../dist/client/packages/package-warnings.js';
import { resolveProject } from '../../dist/client/packages/resolve.js';
import { runCli } from '../cli/run-cli.js';
import { removeTempDirs, tempDir, writeFiles } from './helpers.js';

afterAll(removeTempDirs);

/** `line:col: message` of each warning of a manifest text. */
function warnings(text: string): string[] {
	const manifest = parseManifest(join(tempDir('warn'), 'Scarb.toml'), text);
	return manifest.warnings.map((w) => `${w.position?.line}:${w.position?.column}: ${w.message}`);
}

describe('warnings of one manifest', () => {
	it('names an unknown [cairo-plugin] key at its line and column, with the closest known key', () => {
		expect(warnings('[package]\nname = "m"\nversion = "0.1.0"\n\n[cairo-plugin]\ntarget = "native"\n  tagret = "wasm"\nbuiltin = true\n')).toEqual([
			'7:3: unknown key `tagret` in [cairo-plugin], ignored: did you mean `target`?',
			'8:1: unknown key `builtin` in [cairo-plugin], ignored: the keys are `target` and `expansion-cache`',
		]);
	});

	it('names a table that looks like a misspelt [cairo-plugin] in a package without one', () => {
		expect(warnings('[package]\nname = "m"\nversion = "0.1.0"\n\n[cairo_plugin]\n')).toEqual([
			'5:1: unknown table [cairo_plugin]: did you mean [cairo-plugin]? Without [cairo-plugin] this package is not a macro package, and its macros are not built',
		]);
	});

	it('says nothing of a clean macro package or a clean Cairo package', () => {
		expect(warnings('[package]\nname = "m"\nversion = "0.1.0"\n\n[cairo-plugin]\ntarget = "native"\nexpansion-cache = false\n')).toEqual([]);
		expect(warnings('[package]\nname = "app"\nversion = "0.1.0"\n\n[dependencies]\n\n[tool.scarb]\n')).toEqual([]);
	});
});

/** A project depending on `macros`, a package with Rust sources whose Scarb.toml is `macrosToml`. */
function projectWithRustDependency(macrosToml: string): string {
	const dir = tempDir('rust-dep');
	writeFiles(dir, {
		'app/Scarb.toml': '[package]\nname = "app"\nversion = "0.1.0"\n\n[dependencies]\nmy_macros = { path = "../my-macros" }\n',
		'app/src/lib.cairo': 'fn f() -> u8 { 1 }\n',
		'my-macros/Scarb.toml': macrosToml,
		'my-macros/src/lib.rs': 'use macro_host_sdk::export_macros;\n',
	});
	return join(dir, 'app');
}

describe('a path dependency that looks like a macro package', () => {
	it('is warned about at the dependency key of the project that depends on it, naming the table', () => {
		const project = projectWithRustDependency('[package]\nname = "my_macros"\nversion = "0.1.0"\n');
		const { warnings, macroPackages } = resolveProject(project);
		expect(macroPackages).toEqual([]);
		expect(warnings).toHaveLength(1);
		expect(warnings[0]).toMatchObject({ kind: 'missing-plugin-table', package: 'app', position: { line: 6, column: 1 } });
		expect(warnings[0].message).toMatch(/^dependency "my_macros" looks like a macro package \(it has Rust sources: src\/lib\.rs\) but .*my-macros\/Scarb\.toml has no \[cairo-plugin\] table, so it provides no macros: add an empty \[cairo-plugin\] table to it$/);
		expect(formatPackageWarning(warnings[0])).toMatch(/^warning: app v0\.1\.0: dependency "my_macros" .*\n --> .*app\/Scarb\.toml:6:1\n$/);
	});

	it('a misspelt table is warned about in the dependency itself, and the project that depends on it is told it has no [cairo-plugin]', () => {
		const project = projectWithRustDependency('[package]\nname = "my_macros"\nversion = "0.1.0"\n\n[cairo_plugin]\n');
		const kinds = resolveProject(project).warnings.map((w) => `${w.package} ${w.kind}`);
		expect(kinds).toEqual(['my_macros misspelt-plugin-table', 'app missing-plugin-table']);
	});

	it('macro-host build prints the warning with its place, then "no macro packages", exit 0', async () => {
		const project = projectWithRustDependency('[package]\nname = "my_macros"\nversion = "0.1.0"\n');
		const run = await runCli(['build', project]);
		expect(run.exitCode).toBe(0);
		expect(run.stdout).toBe('app 0.1.0: no macro packages\n');
		expect(run.stderr).toMatch(/^warning: app v0\.1\.0: dependency "my_macros" looks like a macro package .*\n --> .*app\/Scarb\.toml:6:1\n$/);
	});

	it('expand-project renders it like any diagnostic, with the manifest line and a caret under the key', async () => {
		const project = projectWithRustDependency('[package]\nname = "my_macros"\nversion = "0.1.0"\n');
		const run = await runCli(['expand-project', project, '--no-expansion-cache'], { cwd: join(project, '..') });
		expect(run.exitCode).toBe(0);
		expect(run.stderr).toContain('warning[package-warning]: dependency "my_macros" looks like a macro package');
		expect(run.stderr).toContain(' --> app/Scarb.toml:6:1\n  |\n6 | my_macros = { path = "../my-macros" }\n  | ^^^^^^^^^\n');
		expect(run.stderr).toContain('1 file, 0 expansions, 0 errors, 1 warning');
	});
});

describe('a macro package without its library source', () => {
	it('is an error naming the package and the missing file at its manifest, before cargo runs (generated and own Cargo.toml)', async () => {
		const { buildProject } = await import('../../dist/client/packages/build-project.js');
		const { ManifestError } = await import('../../dist/client/packages/errors.js');
		const dir = tempDir('no-lib');
		writeFiles(dir, {
			'app/Scarb.toml': '[package]\nname = "app"\nversion = "0.1.0"\n\n[dependencies]\ndescribe_macro = { path = "../describe" }\n',
			'describe/Scarb.toml': '[package]\nname = "describe_macro"\nversion = "0.1.0"\n\n[cairo-plugin]\n',
			'describe/src/other.rs': '',
		});
		const error = await buildProject(join(dir, 'app'), { cacheDir: join(dir, 'cache') }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(ManifestError);
		const [d] = (error as InstanceType<typeof ManifestError>).diagnostics;
		expect(d).toMatchObject({ file: join(dir, 'describe', 'Scarb.toml'), line: 5, column: 1 });
		expect(d!.message).toMatch(/^macro package describe_macro v0\.1\.0 has no library source: \S*describe\/src\/lib\.rs does not exist \(a macro package's Rust code starts in src\/lib\.rs\)$/);

		writeFiles(dir, { 'describe/Cargo.toml': '[package]\nname = "describe_macro"\nversion = "0.1.0"\nedition = "2021"\n\n[lib]\ncrate-type = ["cdylib"]\npath = "src/macros.rs"\n' });
		const own = await buildProject(join(dir, 'app'), { cacheDir: join(dir, 'cache') }).catch((e: unknown) => e);
		expect(own).toBeInstanceOf(ManifestError);
		expect((own as InstanceType<typeof ManifestError>).diagnostics[0]!.message).toMatch(/has no library source: \S*describe\/src\/macros\.rs does not exist \(a macro package's Rust code starts in its \[lib\] path, by default src\/lib\.rs\)$/);
	});
});
