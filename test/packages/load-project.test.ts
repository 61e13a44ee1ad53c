/**
 * loadProject into a real host: the hello-macros example (all four example packages, built by cargo), a restart
 * after a host crash that reloads the cached libraries without a rebuild, and a prebuilt library loaded with cargo
 * made unavailable.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MacroHost } from '../../dist/client/index.js';
import { loadProject, type LoadedProject } from '../../dist/client/packages/load-project.js';
import { hostTargetTriple } from '../../dist/client/packages/prebuilt.js';
import { expandInline, hostStarter, tokens } from './expand-helpers.js';
import { EXAMPLES, failingCargo, RUST_FIXTURE_LIBRARY, removeTempDirs, tempDir, writeCairoPackage, writeMacroPackage } from './helpers.js';
import { printTokens } from '../../dist/tokens/token-printer.js';

afterAll(removeTempDirs);

let root: string;
let cacheDir: string;
beforeAll(() => {
	root = tempDir('load-project');
	cacheDir = join(root, 'cache');
});
const startHost = hostStarter();

describe('loadProject', () => {
	let host: MacroHost;
	let project: LoadedProject;

	it('builds and loads the hello-macros example, saying which macro comes from which package', { timeout: 240_000 }, async () => {
		host = await startHost();
		project = await loadProject(host, join(EXAMPLES, 'hello-macros'), { cacheDir });
		expect(project).toMatchObject({ name: 'hello_macros', version: '0.1.0', cargoRuns: 4 });
		expect(project.macros.map((m) => [m.name, m.kind, m.package, m.version])).toEqual([
			['add', 'inline', 'add_macro', '0.1.0'],
			['instrument', 'attribute', 'tracing_macro', '0.1.0'],
			['ToValue', 'derive', 'to_value_macro', '0.1.0'],
			['crash', 'attribute', 'crash_macro', '0.1.0'],
		]);
		for (const pkg of project.packages) {
			expect(pkg.source).toBe('built');
			expect(pkg.library).toBe(pkg.libraryPath);
			expect(project.macros.filter((m) => m.package === pkg.name).every((m) => m.library === pkg.library)).toBe(true);
		}
	});

	it('expands add!, #[instrument] and #[derive(ToValue)] from the example packages', async () => {
		expect(await expandInline(host, 'add', 'p.x, p.y')).toEqual({ outcome: 'replace', code: '(p.x) + (p.y)' });
		const bad = await host.expandInline({ name: 'add', args: tokens('1') });
		expect(bad.outcome).toBe('bail');
		expect(bad.diagnostics.map((d) => d.message)).toEqual(['add! takes two expressions separated by a comma, e.g. add!(1, 2)']);

		const traced = await host.expandAttribute({ name: 'instrument', args: tokens(''), item: tokens('fn area(w: felt252, h: felt252) -> felt252 { w * h }') });
		expect(traced.outcome).toBe('replace');
		expect(printTokens(traced.tokens!, { layout: false })).toBe(
			'fn area(w: felt252, h: felt252) -> felt252 { println!("enter area"); let __instrument_result = { w * h }; println!("exit area"); __instrument_result }',
		);

		const derived = await host.expandDerive({ derives: ['ToValue'], item: tokens('struct Point { x: felt252, y: felt252 }') });
		expect(derived.outcome).toBe('replace');
		expect(printTokens(derived.tokens!, { layout: false })).toBe(
			'impl PointToValue of ToValue<Point> { fn to_value(self: @Point) -> felt252 { 0 + (*self.x).into() + (*self.y).into() } }',
		);
	});

	it('a second load of the project starts no cargo', { timeout: 60_000 }, async () => {
		const { cargo, marker } = failingCargo(join(root, 'fake-bin'));
		const other = await startHost();
		const again = await loadProject(other, join(EXAMPLES, 'hello-macros'), { cacheDir, cargo });
		expect(again.cargoRuns).toBe(0);
		expect(again.packages.map((p) => p.source)).toEqual(['cache', 'cache', 'cache', 'cache']);
		expect(again.packages.map((p) => p.libraryPath)).toEqual(project.packages.map((p) => p.libraryPath));
		expect(existsSync(marker)).toBe(false);
	});

	it('after a host crash, the restarted host has the cached libraries again without a rebuild', { timeout: 60_000 }, async () => {
		// The client restarts a dead host at once and reloads the libraries by their paths (the cached files).
		const restarted = new Promise<void>((resolve) => {
			const listener = host.onRestart(() => {
				listener.dispose();
				resolve();
			});
		});
		process.kill(host.pid!, 'SIGKILL');
		await restarted;
		expect(await expandInline(host, 'add', '1, 2')).toEqual({ outcome: 'replace', code: '(1) + (2)' });
		expect(host.restarts).toBe(1);
		expect(host.libraries.map((l) => l.library)).toEqual(project.packages.map((p) => p.library));
	});
});

describe('prebuilt libraries', () => {
	it('with allow-prebuilt-plugins, loads the shipped library with cargo unavailable', { timeout: 60_000 }, async () => {
		// The Rust fixture library stands in for a package's shipped binary.
		const pkg = writeMacroPackage(join(root, 'shipped'), { name: 'shipped_macro', version: '0.3.0', source: 'compile_error!("never built");\n' });
		const prebuiltDir = join(pkg, 'target', 'scarb', 'cairo-plugin');
		mkdirSync(prebuiltDir, { recursive: true });
		const prebuilt = join(prebuiltDir, `shipped_macro_v0.3.0_${hostTargetTriple()}.so`);
		copyFileSync(RUST_FIXTURE_LIBRARY, prebuilt);
		const app = writeCairoPackage(join(root, 'shipped-app'), 'shipped_app', { shipped_macro: '{ path = "../shipped", version = "0.3" }' }, '[tool.scarb]\nallow-prebuilt-plugins = ["shipped_macro"]\n');

		const noRust = { PATH: join(root, 'empty-bin'), HOME: join(root, 'no-home') };
		const host = await startHost();
		const loaded = await loadProject(host, app, { cacheDir, env: noRust });
		expect(loaded.cargoRuns).toBe(0);
		expect(loaded.packages).toMatchObject([{ name: 'shipped_macro', source: 'prebuilt', libraryPath: prebuilt, cacheKey: undefined }]);
		expect(loaded.macros.some((m) => m.name === 'add' && m.package === 'shipped_macro')).toBe(true);
		expect(await expandInline(host, 'add', 'a, b')).toEqual({ outcome: 'replace', code: '(a) + (b)' });
	});

	it('without the allowance the prebuilt file is ignored and the package is built from source', { timeout: 60_000 }, async () => {
		const app = writeCairoPackage(join(root, 'strict-app'), 'strict_app', { shipped_macro: '{ path = "../shipped" }' });
		const { cargo, marker } = failingCargo(join(root, 'fake-bin-2'));
		const error = await loadProject(await startHost(), app, { cacheDir, cargo }).catch((e: unknown) => e);
		// It went to cargo (this one fails on purpose), not to the shipped binary.
		expect(existsSync(marker)).toBe(true);
		expect((error as Error).message).toContain('this cargo must not run');
	});
});
