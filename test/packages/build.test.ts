/**
 * Real cargo builds through buildProject: cache miss then hit (the hit never starts cargo), rebuild on a source edit,
 * compile errors with rustc's message, a missing cargo, progress, and a clean user folder. One cache dir for the file,
 * so the SDK compiles once.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProject } from '../../dist/client/packages/build-project.js';
import type { BuildProgress } from '../../dist/client/packages/cargo-build.js';
import { PackageBuildError, ToolchainNotFoundError } from '../../dist/client/packages/errors.js';
import { failingCargo, inlineMacroSource, removeTempDirs, tempDir, writeCairoPackage, writeFiles, writeMacroPackage } from './helpers.js';

afterAll(removeTempDirs);

let root: string;
let cacheDir: string;
beforeAll(() => {
	root = tempDir('build');
	cacheDir = join(root, 'cache');
});

/** A project `app` depending on one macro package in `<root>/<name>`. */
function project(name: string, packageOptions: Parameters<typeof writeMacroPackage>[1]): string {
	writeMacroPackage(join(root, name), packageOptions);
	return writeCairoPackage(join(root, `${name}-app`), `${name}_app`, { [packageOptions.name]: `{ path = "../${name}", version = "0.1.0" }` });
}

describe('buildProject with real cargo', () => {
	it('builds on a cache miss, and on a hit starts neither cargo nor rustc', { timeout: 240_000 }, async () => {
		const app = project('hit', { name: 'hit_macro' });
		const first = await buildProject(app, { cacheDir });
		expect(first.cargoRuns).toBe(1);
		expect(first.packages).toHaveLength(1);
		const built = first.packages[0]!;
		expect(built).toMatchObject({ name: 'hit_macro', version: '0.1.0', source: 'built', requiredBy: ['hit_app'] });
		expect(built.libraryPath).toBe(join(cacheDir, 'libs', built.cacheKey!, 'libhit_macro.so'));
		expect(readFileSync(built.libraryPath).subarray(0, 4)).toEqual(Buffer.from('\x7fELF', 'latin1'));

		// The proof that the hit runs no cargo: this cargo fails and leaves a marker if it is ever started.
		const { cargo, marker } = failingCargo(join(root, 'fake-bin'));
		const second = await buildProject(app, { cacheDir, cargo });
		expect(second.cargoRuns).toBe(0);
		expect(second.rustcSpawned).toBe(false);
		expect(second.packages[0]).toMatchObject({ source: 'cache', libraryPath: built.libraryPath, cacheKey: built.cacheKey });
		expect(existsSync(marker)).toBe(false);
	});

	it('rebuilds after a source edit, into a new cache entry', { timeout: 240_000 }, async () => {
		const app = project('edit', { name: 'edit_macro' });
		const first = (await buildProject(app, { cacheDir })).packages[0]!;
		writeFileSync(join(root, 'edit', 'src', 'lib.rs'), inlineMacroSource('edit_macro_m', 'v2'));
		const second = await buildProject(app, { cacheDir });
		expect(second.cargoRuns).toBe(1);
		expect(second.packages[0]!.source).toBe('built');
		expect(second.packages[0]!.cacheKey).not.toBe(first.cacheKey);
		// The new library has the new doc text; the old entry is still there for whoever uses the old sources.
		expect(readFileSync(second.packages[0]!.libraryPath).includes('v2')).toBe(true);
		expect(existsSync(first.libraryPath)).toBe(true);
	});

	it('rebuilds when a Rust path dependency from [tool.cargo.pkg.dependencies] changes', { timeout: 240_000 }, async () => {
		writeFiles(join(root, 'helper'), {
			'Cargo.toml': '[package]\nname = "helper"\nversion = "0.1.0"\nedition = "2021"\n',
			'src/lib.rs': 'pub const WORD: &str = "first";\n',
		});
		const source = `use macro_host_sdk::{export_macros, ProcMacroResult, TokenStream};
fn word(_args: &TokenStream) -> ProcMacroResult {
    ProcMacroResult::replace(TokenStream::parse(helper::WORD).unwrap())
}
export_macros! { inline word }
`;
		const app = project('with-dep', { name: 'dep_macro', source, extraToml: '\n[tool.cargo.pkg.dependencies]\nhelper = { path = "../helper" }\n' });
		const first = await buildProject(app, { cacheDir });
		expect(first.packages[0]!.source).toBe('built');
		writeFileSync(join(root, 'helper', 'src', 'lib.rs'), 'pub const WORD: &str = "second";\n');
		const second = await buildProject(app, { cacheDir });
		expect(second.packages[0]!.source).toBe('built');
		expect(second.packages[0]!.cacheKey).not.toBe(first.packages[0]!.cacheKey);
	});

	it('reports a Rust compile error with the package and rustc\'s rendered message', { timeout: 240_000 }, async () => {
		const source = 'pub fn broken() -> u32 {\n    undefined_thing\n}\n';
		const app = project('broken', { name: 'broken_macro', source });
		const error = await buildProject(app, { cacheDir }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(PackageBuildError);
		const e = error as PackageBuildError;
		expect(e.packageName).toBe('broken_macro');
		expect(e.version).toBe('0.1.0');
		expect(e.exitCode).toBe(101);
		expect(e.rendered).toContain('error[E0425]: cannot find value `undefined_thing` in this scope');
		expect(e.rendered).toContain(`${join(root, 'broken', 'src', 'lib.rs')}:2:5`);
		expect(e.message).toMatch(/^could not compile macro package broken_macro v0\.1\.0 \(.*broken\/Scarb\.toml\); cargo said:\nerror\[E0425\]/);
		// cargo's progress lines are not part of the message.
		expect(e.rendered).not.toMatch(/^\s*Compiling /m);
	});

	it('says what to install when cargo is missing', async () => {
		const app = project('no-cargo', { name: 'no_cargo_macro' });
		const error = await buildProject(app, { cacheDir, env: { PATH: join(root, 'empty-bin'), HOME: join(root, 'no-home') } }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(ToolchainNotFoundError);
		expect((error as ToolchainNotFoundError).tool).toBe('cargo');
		expect((error as Error).message).toBe(
			'cargo was not found on PATH or in ~/.cargo/bin, and building the macro package no_cargo_macro needs it. ' +
				'Install Rust with rustup (https://rustup.rs) and make sure cargo is on PATH or in ~/.cargo/bin.',
		);
		expect((error as ToolchainNotFoundError).searched).toEqual([join(root, 'empty-bin', 'cargo'), join(root, 'no-home', '.cargo', 'bin', 'cargo')]);
	});

	it('reports progress while cargo runs: the package, the crate being compiled, the elapsed time', { timeout: 240_000 }, async () => {
		const app = project('progress', { name: 'progress_macro' });
		const events: BuildProgress[] = [];
		await buildProject(app, { cacheDir, onProgress: (p) => events.push(p) });
		expect(events.length).toBeGreaterThanOrEqual(3);
		for (const e of events) expect(e).toMatchObject({ package: 'progress_macro', version: '0.1.0' });
		expect(events.some((e) => e.phase === 'compiling' && e.unit === 'progress_macro v0.1.0')).toBe(true);
		expect(events.at(-1)!.phase).toBe('finished');
		const times = events.map((e) => e.elapsedMs);
		expect([...times].sort((a, b) => a - b)).toEqual(times);
	});

	it('keeps the user\'s folder clean: the generated Cargo.toml lives in the cache', { timeout: 240_000 }, async () => {
		const app = project('clean', { name: 'clean_macro' });
		const result = await buildProject(app, { cacheDir });
		expect(readdirSync(join(root, 'clean')).sort()).toEqual(['Scarb.toml', 'src']);
		const key = result.packages[0]!.cacheKey!;
		const generated = readFileSync(join(cacheDir, 'build', `clean_macro-${key.slice(0, 16)}`, 'Cargo.toml'), 'utf8');
		expect(generated).toMatch(/^# GENERATED by macro-host from .*clean\/Scarb\.toml\. DO NOT EDIT/);
	});
});
