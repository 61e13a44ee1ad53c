/**
 * `[cairo-plugin] target = "wasm"` packages built for real with the wasm rustc (Debian's /usr/bin/rustc): the
 * example wasm-add-macro built without cargo, a cache hit that spawns no compiler, loaded into a real MacroHost and
 * expanded exactly as the native build of the same source, rustc's compile errors, a missing compiler or wasm32
 * standard library, a prebuilt module, and two concurrent builds.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MacroHost } from '../../dist/client/index.js';
import { buildProject } from '../../dist/client/packages/build-project.js';
import { computeCacheKey } from '../../dist/client/packages/cache-key.js';
import { PackageBuildError, ToolchainNotFoundError, WasmToolchainNotFoundError } from '../../dist/client/packages/errors.js';
import { loadProject } from '../../dist/client/packages/load-project.js';
import { readManifest } from '../../dist/client/packages/manifest.js';
import { BUNDLED_SDK_DIR, DEFAULT_WASM_RUSTC } from '../../dist/client/packages/options.js';
import { WASM_RUSTC_FLAGS } from '../../dist/client/packages/wasm-build.js';
import { expandInline, tokens } from './expand-helpers.js';
import { EXAMPLES, failingCargo, ROOT, removeTempDirs, tempDir, writeCairoPackage, writeMacroPackage } from './helpers.js';

afterAll(removeTempDirs);

let root: string;
let cacheDir: string;
const hosts: MacroHost[] = [];
beforeAll(() => {
	root = tempDir('wasm-build');
	cacheDir = join(root, 'cache');
});
afterAll(async () => {
	await Promise.all(hosts.map((h) => h.close()));
});

/**
 * The real wasm rustc behind a script that logs each invocation (one line of arguments) to `log`, so a test can see
 * whether and how the compiler was started.
 */
function loggingRustc(dir: string): { rustc: string; log: string; calls: () => string[] } {
	mkdirSync(dir, { recursive: true });
	const rustc = join(dir, 'rustc');
	const log = join(dir, 'calls.log');
	writeFileSync(log, '');
	// Written once: a rewritten script is a changed compiler, whose -vV would be asked again.
	if (!existsSync(rustc)) {
		writeFileSync(rustc, `#!/bin/sh\necho "$*" >> "${log}"\nexec ${DEFAULT_WASM_RUSTC} "$@"\n`);
		chmodSync(rustc, 0o755);
	}
	return { rustc, log, calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

/** A Cairo project that depends on the macro package in `packageDir`. */
function app(name: string, dependency: string, packageDir: string, extraToml = ''): string {
	return writeCairoPackage(join(root, name), name, { [dependency]: `{ path = "${packageDir}", version = "0.1.0" }` }, extraToml);
}

const INSTALL =
	'Install it with: apt-get install rustc libstd-rust-dev-wasm32, or point the wasmRustc option or MACRO_HOST_WASM_RUSTC at a rustc that has that target.';

describe('building a wasm macro package', () => {
	const compiler = () => loggingRustc(join(root, 'logging-rustc'));
	let wasmApp: string;
	let libraryPath: string;

	it('builds examples/wasm-add-macro into a .wasm module with the wasm rustc, and never starts cargo', { timeout: 240_000 }, async () => {
		const { rustc, calls } = compiler();
		const { cargo, marker } = failingCargo(join(root, 'fake-cargo'));
		wasmApp = app('wasm_app', 'wasm_add_macro', join(EXAMPLES, 'wasm-add-macro'));
		const result = await buildProject(wasmApp, { cacheDir, wasmRustc: rustc, cargo });
		expect(result).toMatchObject({ cargoRuns: 0, wasmRuns: 1, rustcSpawned: true });
		const pkg = result.packages[0]!;
		expect(pkg).toMatchObject({ name: 'wasm_add_macro', version: '0.1.0', target: 'wasm', source: 'built', requiredBy: ['wasm_app'], warnings: '' });
		libraryPath = pkg.libraryPath;
		expect(libraryPath).toBe(join(cacheDir, 'libs', pkg.cacheKey!, 'wasm_add_macro.wasm'));
		expect(readFileSync(libraryPath).subarray(0, 4)).toEqual(Buffer.from('\0asm', 'latin1'));
		expect(existsSync(marker)).toBe(false);

		// -vV for the key, the wasm32 std check, then the SDK as an rlib and the package as a cdylib against it.
		const log = calls();
		expect(log.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual(['-vV', '--print target-libdir', '--target wasm32-unknown-unknown', '--target wasm32-unknown-unknown']);
		expect(log[2]).toContain('--crate-type rlib --crate-name macro_host_sdk');
		expect(log[3]).toMatch(/-O -C debuginfo=0 -C strip=debuginfo .*--edition 2021 --crate-type cdylib --crate-name wasm_add_macro --extern macro_host_sdk=\S+\/wasm-sdk\/[0-9a-f]{64}\/libmacro_host_sdk\.rlib /);
		// Nothing is left behind in the build directory, and the user's folder stays as it was.
		expect(readdirSync(join(cacheDir, 'build'))).toEqual([]);
		expect(readdirSync(join(EXAMPLES, 'wasm-add-macro')).sort()).toEqual(['Scarb.toml', 'src']);
	});

	it('a second build is a cache hit that spawns no compiler at all', async () => {
		const { rustc, calls } = compiler();
		const { cargo, marker } = failingCargo(join(root, 'fake-cargo'));
		const again = await buildProject(wasmApp, { cacheDir, wasmRustc: rustc, cargo });
		expect(again).toMatchObject({ cargoRuns: 0, wasmRuns: 0, rustcSpawned: false });
		expect(again.packages[0]).toMatchObject({ source: 'cache', target: 'wasm', libraryPath });
		expect(calls()).toEqual([]);
		expect(existsSync(marker)).toBe(false);
	});

	it('a Rust compile error carries rustc\'s message and names the package; nothing is published', { timeout: 120_000 }, async () => {
		const { rustc, calls } = compiler();
		const pkg = writeMacroPackage(join(root, 'broken'), { name: 'broken_wasm', source: 'pub fn broken() -> u32 {\n    undefined_thing\n}\n', extraToml: 'target = "wasm"\n' });
		const error = await buildProject(app('broken_app', 'broken_wasm', pkg), { cacheDir, wasmRustc: rustc }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(PackageBuildError);
		const e = error as PackageBuildError;
		expect(e).toMatchObject({ packageName: 'broken_wasm', version: '0.1.0', exitCode: 1, compiler: rustc, target: 'wasm32-unknown-unknown' });
		expect(e.rendered).toContain('error[E0425]: cannot find value `undefined_thing` in this scope');
		expect(e.rendered).toContain(`${join(pkg, 'src', 'lib.rs')}:2:5`);
		expect(e.message.split('\n')[0]).toMatch(/^could not compile macro package broken_wasm v0\.1\.0 \(.*broken\/Scarb\.toml\) for wasm32-unknown-unknown; .*\/rustc said:$/);
		expect(e.message.split('\n')[1]).toBe('error[E0425]: cannot find value `undefined_thing` in this scope');
		// The SDK rlib from the first build was reused: the only compile was the package's.
		expect(calls().filter((c) => c.includes('--crate-type'))).toHaveLength(1);
		expect(calls().filter((c) => c.includes('--crate-type rlib'))).toEqual([]);
		expect(readdirSync(join(cacheDir, 'build'))).toEqual([]);
	});
});

describe('a wasm package in a real MacroHost', () => {
	it('loads through loadProject and expands exactly as the native build of the same source', { timeout: 240_000 }, async () => {
		// The example is the add-macro example's source, built for wasm32.
		expect(readFileSync(join(EXAMPLES, 'wasm-add-macro', 'src', 'lib.rs'), 'utf8')).toBe(readFileSync(join(EXAMPLES, 'add-macro', 'src', 'lib.rs'), 'utf8'));
		const host = await MacroHost.start();
		hosts.push(host);
		const wasm = await loadProject(host, join(root, 'wasm_app'), { cacheDir });
		expect(wasm).toMatchObject({ name: 'wasm_app', cargoRuns: 0, wasmRuns: 0 });
		expect(wasm.packages).toMatchObject([{ name: 'wasm_add_macro', target: 'wasm', source: 'cache' }]);
		expect(wasm.macros.map((m) => [m.name, m.kind, m.package])).toEqual([['add', 'inline', 'wasm_add_macro']]);
		const wasmLibrary = wasm.packages[0]!.library;
		expect(host.libraries.find((l) => l.library === wasmLibrary)?.sandbox).toBe('wasm');

		const native = await loadProject(host, app('native_app', 'add_macro', join(EXAMPLES, 'add-macro')), { cacheDir });
		expect(native.packages).toMatchObject([{ name: 'add_macro', target: 'native', source: 'built' }]);
		const nativeLibrary = native.packages[0]!.library;
		expect(host.libraries.find((l) => l.library === nativeLibrary)?.sandbox).toBe('native');

		for (const args of ['p.x, p.y', 'f(a, b), [1, 2]', '1', '']) {
			const fromWasm = await host.expandInline({ name: 'add', args: tokens(args), library: wasmLibrary });
			const fromNative = await host.expandInline({ name: 'add', args: tokens(args), library: nativeLibrary });
			expect(fromWasm).toEqual(fromNative);
		}
		expect(await expandInline(host, 'add', 'p.x, p.y', wasmLibrary)).toEqual({ outcome: 'replace', code: '(p.x) + (p.y)' });
		const bail = await host.expandInline({ name: 'add', args: tokens('1'), library: wasmLibrary });
		expect(bail.outcome).toBe('bail');
		expect(bail.diagnostics.map((d) => d.message)).toEqual(['add! takes two expressions separated by a comma, e.g. add!(1, 2)']);
	});
});

describe('the wasm toolchain', () => {
	it('a missing wasm rustc says what to install, and no cache entry hides it', async () => {
		const missing = join(root, 'nowhere', 'rustc');
		const error = await buildProject(join(root, 'wasm_app'), { cacheDir: join(root, 'cold-cache'), wasmRustc: missing }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(WasmToolchainNotFoundError);
		// Callers that handle a missing toolchain (the CLI) handle this one too.
		expect(error).toBeInstanceOf(ToolchainNotFoundError);
		expect(error).toMatchObject({ problem: 'missingCompiler', compiler: missing, packageName: 'wasm_add_macro', tool: 'rustc' });
		expect((error as Error).message).toBe(
			`${missing} was not found, and building the wasm macro package wasm_add_macro needs it ` +
				`(a rustc with a standard library for wasm32-unknown-unknown). ${INSTALL}`,
		);
	});

	it('MACRO_HOST_WASM_RUSTC names the compiler when the option does not', async () => {
		const missing = join(root, 'from-env', 'rustc');
		const error = await buildProject(join(root, 'wasm_app'), { cacheDir: join(root, 'cold-cache'), env: { ...process.env, MACRO_HOST_WASM_RUSTC: missing } }).catch(
			(e: unknown) => e,
		);
		expect(error).toMatchObject({ problem: 'missingCompiler', compiler: missing });
	});

	it('a rustc without the wasm32 standard library says what to install', async () => {
		const bin = join(root, 'no-wasm-std');
		const libDir = join(bin, 'rustlib', 'wasm32-unknown-unknown', 'lib');
		mkdirSync(libDir, { recursive: true });
		const rustc = join(bin, 'rustc');
		writeFileSync(
			rustc,
			`#!/bin/sh\ncase "$1" in\n  -vV) echo "rustc 1.63.0"; echo "host: x86_64-unknown-linux-gnu" ;;\n  --print) echo "${libDir}" ;;\n  *) echo "must not compile" >&2; exit 1 ;;\nesac\n`,
		);
		chmodSync(rustc, 0o755);
		const error = await buildProject(join(root, 'wasm_app'), { cacheDir: join(root, 'cold-cache'), wasmRustc: rustc }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(WasmToolchainNotFoundError);
		expect((error as Error).message).toBe(
			`${rustc} has no standard library for wasm32-unknown-unknown (no libstd in ${libDir}), and building the wasm macro package wasm_add_macro needs it. ${INSTALL}`,
		);
	});

	it('a rustc that does not know the target says so, with what it printed', async () => {
		const bin = join(root, 'unknown-target');
		mkdirSync(bin, { recursive: true });
		const rustc = join(bin, 'rustc');
		writeFileSync(
			rustc,
			`#!/bin/sh\ncase "$1" in\n  -vV) echo "rustc 1.50.0" ;;\n  *) echo "error: Error loading target specification: Could not find specification for target" >&2; exit 1 ;;\nesac\n`,
		);
		chmodSync(rustc, 0o755);
		const error = await buildProject(join(root, 'wasm_app'), { cacheDir: join(root, 'cold-cache'), wasmRustc: rustc }).catch((e: unknown) => e);
		expect(error).toMatchObject({ problem: 'missingTarget' });
		expect((error as Error).message).toBe(
			`${rustc} has no standard library for wasm32-unknown-unknown (\`--print target-libdir\` said: error: Error loading target specification: ` +
				`Could not find specification for target), and building the wasm macro package wasm_add_macro needs it. ${INSTALL}`,
		);
	});
});

describe('the wasm cache key', () => {
	it('holds the target and the wasm compiler\'s -vV', () => {
		const dir = tempDir('wasm-key');
		const native = readManifest(join(writeMacroPackage(join(dir, 'n'), { name: 'k', source: 'x' }), 'Scarb.toml'));
		const wasm = readManifest(join(writeMacroPackage(join(dir, 'w'), { name: 'k', source: 'x', extraToml: 'target = "wasm"\n' }), 'Scarb.toml'));
		const inputs = { sdkDir: BUNDLED_SDK_DIR, rustcVerbose: 'rustc 1.63.0\n', env: {}, compilerFlags: WASM_RUSTC_FLAGS };
		const key = computeCacheKey(wasm, inputs);
		// The same manifest text with only the target changed: the target is hashed on its own as well.
		expect(computeCacheKey({ ...wasm, pluginTarget: 'native' }, inputs)).not.toBe(key);
		expect(computeCacheKey(native, inputs)).not.toBe(key);
		expect(computeCacheKey(wasm, { ...inputs, rustcVerbose: 'rustc 1.64.0\n' })).not.toBe(key);
		expect(computeCacheKey(wasm, { ...inputs, compilerFlags: [...WASM_RUSTC_FLAGS, '-C', 'opt-level=3'] })).not.toBe(key);
		expect(computeCacheKey(wasm, inputs)).toBe(key);
	});
});

describe('a prebuilt wasm module', () => {
	it('with allow-prebuilt-plugins, is loaded with no compiler at all', { timeout: 60_000 }, async () => {
		const pkg = writeMacroPackage(join(root, 'shipped'), { name: 'shipped_wasm', source: 'compile_error!("never built");\n', extraToml: 'target = "wasm"\n' });
		const dir = join(pkg, 'target', 'scarb', 'cairo-plugin');
		mkdirSync(dir, { recursive: true });
		// The Rust fixture module stands in for a shipped one; its name carries the wasm target, not this platform's.
		const prebuilt = join(dir, 'shipped_wasm_v0.1.0_wasm32-unknown-unknown.wasm');
		copyFileSync(join(ROOT, 'test', 'fixtures', 'build', 'rust_macros.wasm'), prebuilt);
		const project = app('shipped_app', 'shipped_wasm', pkg, '[tool.scarb]\nallow-prebuilt-plugins = ["shipped_wasm"]\n');

		const host = await MacroHost.start();
		hosts.push(host);
		const loaded = await loadProject(host, project, { cacheDir, wasmRustc: join(root, 'nowhere', 'rustc'), env: { PATH: join(root, 'empty-bin') } });
		expect(loaded).toMatchObject({ cargoRuns: 0, wasmRuns: 0 });
		expect(loaded.packages).toMatchObject([{ name: 'shipped_wasm', target: 'wasm', source: 'prebuilt', libraryPath: prebuilt, cacheKey: undefined }]);
		expect(await expandInline(host, 'add', 'a, b', loaded.packages[0]!.library)).toEqual({ outcome: 'replace', code: '(a) + (b)' });
	});
});

describe('concurrent wasm builds', () => {
	it('two builds of the same package into one empty cache both succeed with the same module', { timeout: 240_000 }, async () => {
		const shared = join(root, 'race-cache');
		const project = join(root, 'wasm_app');
		const [a, b] = await Promise.all([buildProject(project, { cacheDir: shared }), buildProject(project, { cacheDir: shared })]);
		expect(a.packages[0]!.libraryPath).toBe(b.packages[0]!.libraryPath);
		expect([a.packages[0]!.source, b.packages[0]!.source]).toEqual(['built', 'built']);
		expect(readFileSync(a.packages[0]!.libraryPath).subarray(0, 4)).toEqual(Buffer.from('\0asm', 'latin1'));
		// One SDK rlib survives; the losing build's private directory is gone.
		expect(readdirSync(join(shared, 'wasm-sdk'))).toHaveLength(1);
		expect(readdirSync(join(shared, 'build'))).toEqual([]);
	});
});
