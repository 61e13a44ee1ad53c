/**
 * Real Scarb macro libraries behind `macro-host proc-macro-server`: a workspace where `app` uses a package in Scarb's
 * layout that cargo builds from its own Cargo.toml (stable ABI v2) beside one of our ABI's libraries, and `lib_b`
 * uses a prebuilt stable ABI v1 library. Every kind of call answers as Scarb's server would; a Scarb macro's panic
 * (an abort: Scarb's ABI cannot unwind) is a diagnostic quoting the panic, and the server goes on.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostTargetTriple } from '../../dist/client/packages/prebuilt.js';
import { ROOT } from '../cli/run-cli.js';
import { FIXTURE_BUILD, LIBC_BASIC, NO_EXPANSION_CACHE, PmsClient, SHARED_CACHE, v2Stream } from './pms-client.js';

const SCARB_FIXTURES = join(ROOT, 'test', 'fixtures', 'scarb');

let dir: string;
let server: PmsClient;
const workspace = () => ({ manifest_path: join(dir, 'app', 'Scarb.toml') });
const context = (name: string) => ({
	workspace: workspace(),
	component: { name, discriminator: `${name} 0.1.0 (path+${pathToFileURL(join(dir, name, 'Scarb.toml')).href})` },
});

/** A prebuilt macro package `name` shipping `library` for this machine. */
function prebuiltPackage(name: string, library: string): void {
	const pluginDir = join(dir, name, 'target', 'scarb', 'cairo-plugin');
	mkdirSync(pluginDir, { recursive: true });
	writeFileSync(join(dir, name, 'Scarb.toml'), `[package]\nname = "${name}"\nversion = "0.1.0"\n\n[cairo-plugin]\n`);
	copyFileSync(library, join(pluginDir, `${name}_v0.1.0_${hostTargetTriple()}.so`));
}

function cairoPackage(name: string, dependencies: string, allowPrebuilt: string[]): void {
	mkdirSync(join(dir, name, 'src'), { recursive: true });
	const allow = allowPrebuilt.length > 0 ? `\n[tool.scarb]\nallow-prebuilt-plugins = ${JSON.stringify(allowPrebuilt)}\n` : '';
	writeFileSync(join(dir, name, 'Scarb.toml'), `[package]\nname = "${name}"\nversion = "0.1.0"\n\n[dependencies]\n${dependencies}${allow}`);
	writeFileSync(join(dir, name, 'src', 'lib.cairo'), 'fn f() {}\n');
}

beforeAll(() => {
	dir = mkdtempSync(join(tmpdir(), 'macro-host-pms-scarb-'));
	prebuiltPackage('c_macros', LIBC_BASIC);
	prebuiltPackage('v1_macros', join(FIXTURE_BUILD, 'libv1_macros.so'));
	const v2Path = JSON.stringify(join(SCARB_FIXTURES, 'v2_macros'));
	cairoPackage('lib_b', 'v1_macros = { path = "../v1_macros" }\n', []);
	cairoPackage('app', `v2_macros = { path = ${v2Path} }\nc_macros = { path = "../c_macros" }\nlib_b = { path = "../lib_b" }\n`, ['c_macros', 'v1_macros']);
	server = new PmsClient(['--quiet', 'proc-macro-server', '--jobs', '2', '--timeout-ms', '20000', '--cache-dir', SHARED_CACHE, NO_EXPANSION_CACHE]);
});

afterAll(() => {
	server?.kill();
	if (dir) rmSync(dir, { recursive: true, force: true });
});

const names = (list: Array<{ name: string }>) => list.map((m) => m.name);

describe('Scarb libraries through the proc-macro server', () => {
	it('definedMacros: the v2 package built from its Cargo.toml beside our ABI; the v1 library in its own component', { timeout: 180_000 }, async () => {
		const response = await server.request('definedMacros', { workspace: workspace() });
		expect(response.error, server.stderr).toBeUndefined();
		const entries = response.result.macros_for_cu_components as any[];
		const app = entries.find((e) => e.component.name === 'app');
		const libB = entries.find((e) => e.component.name === 'lib_b');
		expect(names(app.inline_macros)).toEqual(expect.arrayContaining(['identity', 'squash', 'boom', 'wrap', 'bang_segv']));
		expect(names(app.attributes)).toEqual(expect.arrayContaining(['with_aux', 'keep', 'tools::gen::wrap', 'tag']));
		expect(names(app.derives)).toEqual(expect.arrayContaining(['named', 'nothing_derived']));
		// The v2 package's executable attribute (`__exec_attr_entry`) is listed apart, by its name, as Scarb lists it.
		expect(app.executables).toEqual(['entry']);
		expect(names(app.attributes)).not.toContain('entry');
		expect(names(libB.inline_macros).sort()).toEqual(['boom', 'fails', 'identity', 'warns']);
		expect(names(libB.derives)).toEqual(['named']);
	});

	it('expandInline on v2: the input comes back with its spans; diagnostics keep their severity', async () => {
		const args = v2Stream('(a, b)', 8);
		const same = await server.request('expandInline', { context: context('app'), name: 'identity', args, call_site: { start: 0, end: 14 } });
		expect(same.error).toBeUndefined();
		expect(same.result.token_stream.value).toBe('(a, b)');
		expect(same.result.diagnostics).toEqual([]);
		// Every input token keeps its origin: mappings point back into the call's arguments.
		const origins = same.result.code_mappings.map((m: any) => m.origin);
		expect(origins.some((o: any) => 'Span' in o && o.Span.start === 8)).toBe(true);

		const warned = await server.request('expandInline', { context: context('app'), name: 'warns', args: v2Stream('()'), call_site: { start: 0, end: 9 } });
		expect(warned.result.token_stream.value).toBe('42');
		expect(warned.result.diagnostics).toEqual([{ message: 'warns: careful', severity: 'Warning', span: null }]);
	});

	it('expandAttribute and expandDerive on v2, and our ABI in the same component', async () => {
		const item = v2Stream('fn f() {}', 20);
		const wrapped = await server.request('expandAttribute', { context: context('app'), attr: 'tools::gen::wrap', args: v2Stream(''), item, adapted_call_site: { start: 2, end: 18 } });
		expect(wrapped.error).toBeUndefined();
		// The output is printed from its tokens, so the newline the macro put before its function is a space here.
		expect(wrapped.result.token_stream.value).toBe('fn f() {} fn wrapped() -> felt252 { 1 }');

		const derived = await server.request('expandDerive', { context: context('app'), derives: ['named'], item: v2Stream('struct Point { x: u32 }'), call_site: { start: 0, end: 10 } });
		expect(derived.result.token_stream.value).toBe("impl PointNamed of Named { fn name() -> felt252 { 'Point' } }");

		const ours = await server.request('expandInline', { context: context('app'), name: 'wrap', args: v2Stream('(z)'), call_site: { start: 0, end: 9 } });
		// Our ABI takes the arguments without their parentheses, as the driver passes them.
		expect(ours.result.token_stream.value).toBe('(z)');
	});

	it('expandInline and expandDerive on v1, in the component that depends on it', async () => {
		const same = await server.request('expandInline', { context: context('lib_b'), name: 'identity', args: v2Stream('(1 + 2)'), call_site: { start: 0, end: 16 } });
		expect(same.result.token_stream.value).toBe('(1 + 2)');
		const failed = await server.request('expandInline', { context: context('lib_b'), name: 'fails', args: v2Stream('()'), call_site: { start: 0, end: 8 } });
		expect(failed.error).toBeUndefined();
		expect(failed.result.diagnostics).toEqual([{ message: 'fails: no way', severity: 'Error', span: null }]);
		const derived = await server.request('expandDerive', { context: context('lib_b'), derives: ['named'], item: v2Stream('struct Q {}'), call_site: { start: 0, end: 10 } });
		expect(derived.result.token_stream.value).toBe("impl QNamed of Named { fn name() -> felt252 { 'Q' } }");
		// app does not depend on v1_macros: its `fails` is unknown there.
		const unknown = await server.request('expandInline', { context: context('app'), name: 'fails', args: v2Stream('()'), call_site: { start: 0, end: 8 } });
		expect(unknown.result.diagnostics[0].message).toMatch(/^no inline macro "fails" in component app/);
	});

	it.each([
		['app', 'boom: the v2 macro gave up on purpose'],
		['lib_b', 'boom: the v1 macro gave up on purpose'],
	])('a Scarb macro panicking in %s is a diagnostic quoting the panic; the next call is served', async (component, panic) => {
		const response = await server.request('expandInline', { context: context(component), name: 'boom', args: v2Stream('()'), call_site: { start: 0, end: 8 } });
		expect(response.error).toBeUndefined();
		expect(response.result.token_stream.value).toBe('');
		expect(response.result.diagnostics).toHaveLength(1);
		const { message, severity } = response.result.diagnostics[0];
		expect(severity).toBe('Error');
		expect(message).toMatch(/^Inline macro `boom` from (library|package) .* crashed the macro host: the host was killed by SIGABRT/);
		expect(message).toContain(`The macro panicked at `);
		expect(message).toContain(panic);
		const after = await server.request('expandInline', { context: context(component), name: 'identity', args: v2Stream('(ok)'), call_site: { start: 0, end: 14 } });
		expect(after.result.token_stream.value).toBe('(ok)');
	});
});
