/**
 * Macro packages in Scarb's layout, built by real cargo and loaded into real hosts: a package with the author's own
 * Cargo.toml beside one whose Cargo.toml macro-host generates, cache hits and rebuilds, the Cargo/Scarb name-mismatch
 * warning, compile and manifest errors that name the package, and prebuilt libraries (allowed, not allowed, allowed
 * through a dependency tree, missing, not loadable). One cache dir for the file, so the SDK compiles once.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProject } from '../../dist/client/packages/build-project.js';
import { ManifestError, PackageBuildError } from '../../dist/client/packages/errors.js';
import { loadProject } from '../../dist/client/packages/load-project.js';
import { hostTargetTriple } from '../../dist/client/packages/prebuilt.js';
import { resolveProject } from '../../dist/client/packages/resolve.js';
import { runCli } from '../cli/run-cli.js';
import { expandInline, hostStarter } from './expand-helpers.js';
import {
	EXAMPLES,
	failingCargo,
	inlineMacroSource,
	removeTempDirs,
	RUST_FIXTURE_LIBRARY,
	tempDir,
	writeCairoPackage,
	writeMacroPackage,
	writeOwnCargoPackage,
} from './helpers.js';

afterAll(removeTempDirs);

let root: string;
let cacheDir: string;
beforeAll(() => {
	root = tempDir('scarb-layout');
	cacheDir = join(root, 'cache');
});
const startHost = hostStarter();

/** A project `<name>_app` depending on the packages in `<root>/<dir>` (dir → package name). */
function app(name: string, deps: Record<string, string>, extraToml = ''): string {
	const specs = Object.fromEntries(Object.entries(deps).map(([dir, pkg]) => [pkg, `{ path = "../${dir}" }`]));
	return writeCairoPackage(join(root, `${name}-app`), `${name}_app`, specs, extraToml);
}

/** Puts `content` (a file to copy, or text) where `pkg` ships its prebuilt library; returns that path. */
function shipPrebuilt(pkgDir: string, name: string, version: string, content: { copyOf: string } | { text: string }): string {
	const dir = join(pkgDir, 'target', 'scarb', 'cairo-plugin');
	mkdirSync(dir, { recursive: true });
	const path = join(dir, `${name}_v${version}_${hostTargetTriple()}.so`);
	if ('copyOf' in content) copyFileSync(content.copyOf, path);
	else writeFileSync(path, content.text);
	return path;
}

const NAME_MISMATCH = (cargo: string, scarb: string): string =>
	`package name differs between Cargo and Scarb manifest\ncargo: \`${cargo}\`, scarb: \`${scarb}\`\nthis might become an error in future Scarb releases`;

describe("a macro package with the author's own Cargo.toml", () => {
	let mixed: string;
	let ownLibrary: string;

	it('builds as it is, beside a package with a generated Cargo.toml, and both load and expand', { timeout: 240_000 }, async () => {
		const own = writeOwnCargoPackage(join(root, 'own'), { name: 'own_macro', source: inlineMacroSource('own_m', 'own v1') });
		writeMacroPackage(join(root, 'gen'), { name: 'gen_macro' });
		mixed = app('mixed', { own: 'own_macro', gen: 'gen_macro' });

		const host = await startHost();
		const loaded = await loadProject(host, mixed, { cacheDir });
		expect(loaded.cargoRuns).toBe(2);
		expect(loaded.warnings).toEqual([]);
		expect(loaded.packages.map((p) => [p.name, p.cargoLayout, p.source])).toEqual([
			['own_macro', 'own', 'built'],
			['gen_macro', 'generated', 'built'],
		]);
		const [ownPkg] = loaded.packages;
		ownLibrary = ownPkg!.libraryPath;
		// The library keeps the name the author's [lib] gives it.
		expect(ownLibrary).toBe(join(cacheDir, 'libs', ownPkg!.cacheKey!, 'libown_macro.so'));
		expect(ownPkg!.packageId).toBe(`own_macro 0.1.0 (path+file://${join(own, 'Scarb.toml')})`);
		expect(loaded.packageId).toBe(`mixed_app 0.1.0 (path+file://${join(mixed, 'Scarb.toml')})`);
		expect(loaded.macros.map((m) => [m.name, m.package, m.doc])).toEqual([
			['own_m', 'own_macro', 'own v1'],
			['gen_macro_m', 'gen_macro', 'v1'],
		]);
		expect(await expandInline(host, 'own_m', 'a + b')).toEqual({ outcome: 'replace', code: 'a + b' });
		expect(await expandInline(host, 'gen_macro_m', 'c')).toEqual({ outcome: 'replace', code: 'c' });
		// cargo ran in the package's folder and wrote its Cargo.lock there, as under Scarb; nothing else was added.
		expect(readdirSync(own).sort()).toEqual(['Cargo.lock', 'Cargo.toml', 'Scarb.toml', 'src']);
	});

	it('examples/double-macro (Scarb\'s layout, the SDK by relative path) builds, loads and expands', { timeout: 240_000 }, async () => {
		const project = writeCairoPackage(join(root, 'double-app'), 'double_app', { double_macro: `{ path = ${JSON.stringify(join(EXAMPLES, 'double-macro'))} }` });
		const host = await startHost();
		const loaded = await loadProject(host, project, { cacheDir });
		expect(loaded.packages.map((p) => [p.name, p.cargoLayout])).toEqual([['double_macro', 'own']]);
		expect(loaded.warnings).toEqual([]);
		expect(loaded.macros.map((m) => [m.name, m.kind, m.doc])).toEqual([['double', 'inline', 'Doubles an expression: `double!(x)` is `(x) * 2`.']]);
		expect(await expandInline(host, 'double', 'a + 1')).toEqual({ outcome: 'replace', code: '(a + 1) * 2' });
		const empty = await host.expandInline({ name: 'double', args: { text: '', records: [] } });
		expect(empty.diagnostics.map((d) => d.message)).toEqual(['double! takes an expression, e.g. double!(21)']);
	});

	it('a second build is a cache hit that starts no cargo, the Cargo.lock cargo wrote included', { timeout: 60_000 }, async () => {
		const { cargo, marker } = failingCargo(join(root, 'fake-bin'));
		const again = await buildProject(mixed, { cacheDir, cargo });
		expect(again.cargoRuns).toBe(0);
		expect(again.packages.map((p) => p.source)).toEqual(['cache', 'cache']);
		expect(again.packages[0]!.libraryPath).toBe(ownLibrary);
		expect(existsSync(marker)).toBe(false);
	});

	it('expand-project expands calls of both packages from the cache', { timeout: 120_000 }, async () => {
		writeFileSync(join(mixed, 'src', 'lib.cairo'), 'fn main() -> felt252 {\n    own_m!(1) + gen_macro_m!(2)\n}\n');
		const out = join(root, 'mixed-out');
		const run = await runCli(['expand-project', mixed, '--cache-dir', cacheDir, '--out', out, '--jobs', '1']);
		expect(run.exitCode, run.stderr).toBe(0);
		expect(run.stderr).not.toMatch(/Compiling/);
		expect(run.stderr).toMatch(/^1 file, 2 expansions, 0 errors, 0 warnings$/m);
		expect(readFileSync(join(out, 'src', 'lib.cairo'), 'utf8')).toBe('fn main() -> felt252 {\n    1 + 2\n}\n');
	});

	it('rebuilds after a source edit', { timeout: 240_000 }, async () => {
		writeFileSync(join(root, 'own', 'src', 'lib.rs'), inlineMacroSource('own_m', 'own v2'));
		const again = await buildProject(mixed, { cacheDir });
		expect(again.cargoRuns).toBe(1);
		expect(again.packages.map((p) => p.source)).toEqual(['built', 'cache']);
		expect(again.packages[0]!.libraryPath).not.toBe(ownLibrary);
		expect(readFileSync(again.packages[0]!.libraryPath).includes('own v2')).toBe(true);
		ownLibrary = again.packages[0]!.libraryPath;
	});

	it("rebuilds after the author's Cargo.toml changes", { timeout: 240_000 }, async () => {
		const cargoToml = join(root, 'own', 'Cargo.toml');
		writeFileSync(cargoToml, `${readFileSync(cargoToml, 'utf8')}\n[features]\nextra = []\n`);
		const again = await buildProject(mixed, { cacheDir });
		expect(again.cargoRuns).toBe(1);
		expect(again.packages[0]!.source).toBe('built');
		expect(again.packages[0]!.libraryPath).not.toBe(ownLibrary);
	});

	it('warns, in Scarb\'s words, when the Cargo and Scarb package names differ, on every build', { timeout: 240_000 }, async () => {
		const dir = writeOwnCargoPackage(join(root, 'renamed'), { name: 'renamed_macro', cargoName: 'renamed-macros' });
		const project = app('renamed', { renamed: 'renamed_macro' });
		const expected = {
			kind: 'package-name-mismatch',
			package: 'renamed_macro',
			version: '0.1.0',
			manifestPath: join(dir, 'Scarb.toml'),
			message: NAME_MISMATCH('renamed-macros', 'renamed_macro'),
		};
		const first = await buildProject(project, { cacheDir });
		expect(first.packages[0]!.packageWarnings).toEqual([expected]);
		// cargo names the library after the Cargo package.
		expect(first.packages[0]!.libraryPath).toMatch(/\/librenamed_macros\.so$/);
		const second = await buildProject(project, { cacheDir });
		expect(second.packages[0]!.source).toBe('cache');
		expect(second.packages[0]!.packageWarnings).toEqual([expected]);
	});

	it('macro-host build prints the warning; expand-project reports it as a warning diagnostic', { timeout: 120_000 }, async () => {
		const project = join(root, 'renamed-app');
		const build = await runCli(['build', project, '--cache-dir', cacheDir]);
		expect(build.exitCode, build.stderr).toBe(0);
		expect(build.stderr).toBe(`warning: renamed_macro v0.1.0: ${NAME_MISMATCH('renamed-macros', 'renamed_macro')}\n`);

		const expand = await runCli(['expand-project', project, '--cache-dir', cacheDir, '--out', join(root, 'renamed-out'), '--message-format', 'json']);
		expect(expand.exitCode, expand.stderr).toBe(0);
		const lines = expand.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
		expect(lines[0]).toMatchObject({
			type: 'diagnostic',
			severity: 'warning',
			code: 'package-warning',
			message: NAME_MISMATCH('renamed-macros', 'renamed_macro'),
			file: join(root, 'renamed', 'Scarb.toml'),
			package: 'renamed_macro',
		});
		expect(lines.at(-1)).toMatchObject({ type: 'summary', warnings: 1, errors: 0 });
	});

	it("a compile error in the author's crate names the Scarb package and shows rustc's message", { timeout: 240_000 }, async () => {
		const dir = writeOwnCargoPackage(join(root, 'broken'), { name: 'broken_own', cargoName: 'hashless-crate', source: 'pub fn broken() -> u32 {\n    undefined_thing\n}\n' });
		const error = await buildProject(app('broken', { broken: 'broken_own' }), { cacheDir }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(PackageBuildError);
		const e = error as PackageBuildError;
		expect(e.packageName).toBe('broken_own');
		expect(e.message).toMatch(/^could not compile macro package broken_own v0\.1\.0 \(.*broken\/Scarb\.toml\); cargo said:\n(.|\n)*error\[E0425\]: cannot find value `undefined_thing` in this scope/);
		// cargo names the author's files relative to the package's folder (which the message names), as under Scarb.
		expect(e.rendered).toContain(' --> src/lib.rs:2:5');
		expect(e.manifestPath).toBe(join(dir, 'Scarb.toml'));
		expect(e.rendered).toContain('could not compile `hashless-crate` (lib)');
	});

	it('a Cargo.toml that builds no cdylib is a manifest error at its place in the Cargo.toml', async () => {
		const dir = writeOwnCargoPackage(join(root, 'rlib'), { name: 'rlib_macro' });
		writeFileSync(join(dir, 'Cargo.toml'), '[package]\nname = "rlib_macro"\nversion = "0.1.0"\n\n[lib]\ncrate-type = ["rlib"]\n');
		const error = await buildProject(app('rlib', { rlib: 'rlib_macro' }), { cacheDir }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(ManifestError);
		expect((error as ManifestError).diagnostics).toEqual([
			{
				file: join(dir, 'Cargo.toml'),
				line: 6,
				column: 14,
				message: 'macro package rlib_macro: its Cargo.toml builds no cdylib; add [lib] crate-type = ["cdylib"] (macro libraries are loaded as shared libraries)',
			},
		]);

		writeFileSync(join(dir, 'Cargo.toml'), '[workspace]\nmembers = []\n');
		const virtual = await buildProject(join(root, 'rlib-app'), { cacheDir }).catch((e: unknown) => e);
		expect((virtual as ManifestError).diagnostics.map((d) => `${d.line}:${d.column}: ${d.message}`)).toEqual([
			'1:1: macro package rlib_macro: its Cargo.toml has no [package] table; it must describe the macro\'s own crate, a cdylib',
		]);
	});

	it('[tool.cargo.pkg] beside an own Cargo.toml is a manifest error: it would go unused', () => {
		const dir = writeOwnCargoPackage(join(root, 'both'), { name: 'both_macro', scarbExtra: '\n[tool.cargo.pkg.dependencies]\nhelper = { path = "../helper" }\n' });
		const error = (() => {
			try {
				resolveProject(app('both', { both: 'both_macro' }));
			} catch (e) {
				return e;
			}
		})();
		expect(error).toBeInstanceOf(ManifestError);
		expect((error as ManifestError).diagnostics.map((d) => [d.file, d.line, d.message])).toEqual([
			[
				join(dir, 'Scarb.toml'),
				7,
				'[tool.cargo.pkg] only fills the Cargo.toml macro-host generates, and this package has its own Cargo.toml (built as it is): move these settings into that Cargo.toml',
			],
		]);
	});
});

describe('prebuilt libraries in Scarb\'s layout', () => {
	it('allowed: the shipped library is loaded and cargo never runs', { timeout: 60_000 }, async () => {
		// The Rust fixture library stands in for the shipped binary of a package whose sources do not even compile.
		const dir = writeOwnCargoPackage(join(root, 'shipped'), { name: 'shipped', version: '1.2.0', source: 'compile_error!("never built");\n' });
		const prebuilt = shipPrebuilt(dir, 'shipped', '1.2.0', { copyOf: RUST_FIXTURE_LIBRARY });
		const project = app('shipped', { shipped: 'shipped' }, '[tool.scarb]\nallow-prebuilt-plugins = ["shipped"]\n');
		const { cargo, marker } = failingCargo(join(root, 'fake-bin-shipped'));
		const host = await startHost();
		const loaded = await loadProject(host, project, { cacheDir, cargo });
		expect(loaded.cargoRuns).toBe(0);
		expect(loaded.warnings).toEqual([]);
		expect(loaded.packages).toMatchObject([{ name: 'shipped', source: 'prebuilt', libraryPath: prebuilt, cargoLayout: 'own' }]);
		expect(await expandInline(host, 'add', 'x, y')).toEqual({ outcome: 'replace', code: '(x) + (y)' });
		expect(existsSync(marker)).toBe(false);
	});

	it('not allowed: the shipped library is ignored and the package is built from source', { timeout: 240_000 }, async () => {
		const dir = writeOwnCargoPackage(join(root, 'unasked'), { name: 'unasked_macro' });
		shipPrebuilt(dir, 'unasked_macro', '0.1.0', { copyOf: RUST_FIXTURE_LIBRARY });
		const built = await buildProject(app('unasked', { unasked: 'unasked_macro' }), { cacheDir });
		expect(built.packages).toMatchObject([{ name: 'unasked_macro', source: 'built', packageWarnings: [] }]);
	});

	it("allowing a package allows the plugins in its dependency tree, and no others", { timeout: 240_000 }, async () => {
		// app → lib_a (allowed) → tree_macro; app → direct_macro (not allowed). Both ship a prebuilt library.
		const tree = writeOwnCargoPackage(join(root, 'tree'), { name: 'tree_macro' });
		const treePrebuilt = shipPrebuilt(tree, 'tree_macro', '0.1.0', { copyOf: RUST_FIXTURE_LIBRARY });
		const direct = writeMacroPackage(join(root, 'direct'), { name: 'direct_macro' });
		shipPrebuilt(direct, 'direct_macro', '0.1.0', { copyOf: RUST_FIXTURE_LIBRARY });
		writeCairoPackage(join(root, 'lib-a'), 'lib_a', { tree_macro: '{ path = "../tree" }' });
		const project = writeCairoPackage(
			join(root, 'tree-app'),
			'tree_app',
			{ lib_a: '{ path = "../lib-a" }', direct_macro: '{ path = "../direct" }' },
			'[tool.scarb]\nallow-prebuilt-plugins = ["lib_a"]\n',
		);
		const built = await buildProject(project, { cacheDir });
		expect(built.packages.map((p) => [p.name, p.source === 'prebuilt' ? 'prebuilt' : 'from source', p.requiredBy])).toEqual([
			['tree_macro', 'prebuilt', ['lib_a']],
			['direct_macro', 'from source', ['tree_app']],
		]);
		expect(built.packages[0]!.libraryPath).toBe(treePrebuilt);
	});

	it('a prebuilt file that does not load is built from source and loaded instead, with a warning', { timeout: 240_000 }, async () => {
		const dir = writeOwnCargoPackage(join(root, 'invalid'), { name: 'invalid_macro', source: inlineMacroSource('invalid_m') });
		const prebuilt = shipPrebuilt(dir, 'invalid_macro', '0.1.0', { text: 'this is not a valid lib' });
		const project = app('invalid', { invalid: 'invalid_macro' }, '[tool.scarb]\nallow-prebuilt-plugins = ["invalid_macro"]\n');
		const host = await startHost();
		const loaded = await loadProject(host, project, { cacheDir });
		expect(loaded.cargoRuns).toBe(1);
		expect(loaded.packages).toMatchObject([{ name: 'invalid_macro', source: 'built' }]);
		expect(loaded.packages[0]!.libraryPath).not.toBe(prebuilt);
		expect(loaded.warnings).toHaveLength(1);
		expect(loaded.warnings[0]).toMatchObject({ kind: 'prebuilt-not-loadable', package: 'invalid_macro', version: '0.1.0' });
		expect(loaded.warnings[0]!.message).toMatch(new RegExp(`^the prebuilt library ${prebuilt.replace(/[.]/g, '\\.')} could not be loaded \\(.+\\); built it from source instead$`));
		expect(loaded.macros.map((m) => m.name)).toEqual(['invalid_m']);
		expect(await expandInline(host, 'invalid_m', 'z')).toEqual({ outcome: 'replace', code: 'z' });

		// Next time the library built from source comes from the cache, and the warning says so.
		const again = await loadProject(await startHost(), project, { cacheDir });
		expect(again.cargoRuns).toBe(0);
		expect(again.packages[0]!.source).toBe('cache');
		expect(again.warnings[0]!.message).toMatch(/; used the library built from source in the cache instead$/);
	});

	it('a prebuilt file that does not load, and sources that do not compile: the compile error is reported', { timeout: 240_000 }, async () => {
		const dir = writeOwnCargoPackage(join(root, 'doubly-broken'), { name: 'doubly_broken', source: 'pub fn f() -> u32 { nothing_here }\n' });
		shipPrebuilt(dir, 'doubly_broken', '0.1.0', { text: 'this is not a valid lib' });
		const project = app('doubly-broken', { 'doubly-broken': 'doubly_broken' }, '[tool.scarb]\nallow-prebuilt-plugins = ["doubly_broken"]\n');
		const error = await loadProject(await startHost(), project, { cacheDir }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(PackageBuildError);
		expect((error as PackageBuildError).packageName).toBe('doubly_broken');
		expect((error as PackageBuildError).rendered).toContain('error[E0425]: cannot find value `nothing_here` in this scope');
	});

	it('an allowed prebuilt library that is missing is built from source, with a warning', { timeout: 240_000 }, async () => {
		const dir = writeOwnCargoPackage(join(root, 'absent'), { name: 'absent_macro' });
		const project = app('absent', { absent: 'absent_macro' }, '[tool.scarb]\nallow-prebuilt-plugins = ["absent_macro"]\n');
		const built = await buildProject(project, { cacheDir });
		expect(built.packages[0]!.source).toBe('built');
		const expectedPath = join(dir, 'target', 'scarb', 'cairo-plugin', `absent_macro_v0.1.0_${hostTargetTriple()}.so`);
		expect(built.packages[0]!.packageWarnings).toEqual([
			{
				kind: 'prebuilt-missing',
				package: 'absent_macro',
				version: '0.1.0',
				manifestPath: join(dir, 'Scarb.toml'),
				message: `no prebuilt library at ${expectedPath} (allowed by allow-prebuilt-plugins); building it from source`,
			},
		]);
		// With prebuilt libraries turned off, there is nothing to warn about.
		const off = await buildProject(project, { cacheDir, allowPrebuilt: false });
		expect(off.packages[0]!.packageWarnings).toEqual([]);
	});
});
