/**
 * Whole sources expanded in the hosts (`expandSource`, what expand-project does when the expansion cache
 * is off): the same bytes, diagnostics and aux data as call by call, for every kind of macro and every
 * diagnostic the engine makes; and when a macro kills the host or hangs inside a whole source, that
 * source is expanded call by call, the failure costs its one call, and the rest of the run goes on.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandProject, type ExpandProjectOptions, type ProjectExpansion } from '../../dist/client/driver/expand-project.js';
import { hostTargetTriple, sharedLibraryExtension } from '../../dist/client/packages/prebuilt.js';
import { fixture } from '../client/support.js';
import { buildAllPackages, CACHE_DIR, PACKAGES, removeTempDirs, tempDir, writeFiles } from './support.js';

beforeAll(buildAllPackages);
afterAll(removeTempDirs);

/** A macro package named `name` shipping a compiled fixture (test/fixtures/build/) prebuilt: a shared object, or a `.wasm` module. */
function prebuiltPackage(name: string, library: string): { name: string; dir: string } {
	const dir = tempDir(name);
	const isWasm = library.endsWith('.wasm');
	writeFiles(dir, { 'Scarb.toml': `[package]\nname = "${name}"\nversion = "0.1.0"\n\n[cairo-plugin]\n${isWasm ? 'target = "wasm"\n' : ''}` });
	const libraryDir = join(dir, 'target', 'scarb', 'cairo-plugin');
	mkdirSync(libraryDir, { recursive: true });
	const file = isWasm ? `${name}_v0.1.0_wasm32-unknown-unknown.wasm` : `${name}_v0.1.0_${hostTargetTriple()}.${sharedLibraryExtension()}`;
	copyFileSync(fixture(library), join(libraryDir, file));
	return { name, dir };
}

/** basic_macros: libc_basic.so (wrap, remove, bail, aux, tag, Named, bang_*). */
const basicMacrosPackage = () => prebuiltPackage('basic_macros', 'libc_basic.so');

/** A project depending on the named driver fixture packages, and on a prebuilt package when one is given. */
function project(deps: readonly (keyof typeof PACKAGES)[], sources: Record<string, string>, prebuilt?: { name: string; dir: string }): string {
	const dir = tempDir('host-sources');
	const lines = deps.map((name) => `${name} = { path = "${relative(dir, PACKAGES[name])}" }`);
	let tool = '';
	if (prebuilt !== undefined) {
		lines.push(`${prebuilt.name} = { path = "${relative(dir, prebuilt.dir)}" }`);
		tool = `\n[tool.scarb]\nallow-prebuilt-plugins = ["${prebuilt.name}"]\n`;
	}
	writeFiles(dir, { 'Scarb.toml': `[package]\nname = "app"\nversion = "0.1.0"\n\n[dependencies]\n${lines.join('\n')}\n${tool}`, ...sources });
	return dir;
}

function expand(dir: string, options: ExpandProjectOptions = {}): Promise<ProjectExpansion> {
	return expandProject(dir, { jobs: 2, outDir: join(tempDir('out'), 'expanded'), build: { cacheDir: CACHE_DIR }, expansionCache: false, ...options });
}

/** What a run produced, without the parts that name a process (pids, crash reports' details). */
function outcome(run: ProjectExpansion) {
	return {
		texts: run.files.map((f) => [f.relativePath, f.text, f.expansions]),
		diagnostics: run.diagnostics.map((d) => ({ ...d, message: d.message.split('\n')[0].replace(/\b(pid|process) \d+/g, '$1 <n>') })),
		summary: run.summary,
	};
}

describe('expandSource in expand-project', () => {
	it('gives the bytes, diagnostics and aux data that call by call gives, for every kind of macro', async () => {
		const basic = basicMacrosPackage();
		const dir = project(['nest_macros', 'add_macro', 'to_value_macro', 'tracing_macro', 'twin_macros'], {
			'src/lib.cairo': 'mod a;\nmod b;\nmod c;\nmod d;\n',
			'src/a.cairo': 'fn a() -> felt252 {\n    let x = outer!(1 + 2) * 3;\n    add!(x, 4) + add!(add!(1, 2), 3)\n}\n',
			'src/b.cairo': '#[rename(one)]\n#[trace]\nfn b() {\n    complain!(x y);\n    tally!(a b c);\n    again!(z);\n}\n#[gone]\nfn c() {}\n',
			'src/c.cairo': '#[derive(Drop, Hello, ToValue, Named)]\nstruct S { x: felt252 }\n#[tga]\nfn t() { wrap!(1); remove!(2); bail!(3); aux!(4 5); inner!(twin) }\n#[tag]\nfn u() {}\n',
			'src/d.cairo': 'fn d() { let s = "never closed; }\n',
		}, basic);
		const inHosts = await expand(dir, { recursionLimit: 8 });
		const callByCall = await expand(dir, { recursionLimit: 8, expandInHosts: false });
		expect(inHosts.sourcesInHosts).toBe(inHosts.files.length);
		expect(callByCall.sourcesInHosts).toBe(0);
		expect(outcome(inHosts)).toEqual(outcome(callByCall));
		// The run does exercise what it claims to: expansions, aux data's post-process, each engine diagnostic.
		const codes = new Set(inHosts.diagnostics.map((d) => d.code));
		for (const code of ['recursion-limit', 'tokenize', 'unknown-macro', 'ambiguous-macro']) expect(codes, code).toContain(code);
		expect(inHosts.diagnostics.some((d) => d.package === 'nest_macros')).toBe(true);
		expect(inHosts.files.find((f) => f.relativePath === 'src/a.cairo')?.text).toContain('    ((x) + (4)) + (((1) + (2)');
	});

	it('a crash inside a whole source costs its one call: that source goes call by call, and so does the rest of the run', async () => {
		const sources: Record<string, string> = { 'src/lib.cairo': Array.from({ length: 6 }, (_, i) => `mod f${i};`).join('\n') + '\n' };
		for (let i = 0; i < 6; i++) sources[`src/f${i}.cairo`] = `fn f${i}() -> felt252 { add!(${i}, 1) }\n`;
		sources['src/f2.cairo'] = '#[crash]\nfn f2() -> felt252 { add!(2, 1) }\n';
		const dir = project(['add_macro', 'crash_macro'], sources);
		const inHosts = await expand(dir, { jobs: 1 });
		const callByCall = await expand(dir, { jobs: 1, expandInHosts: false });
		expect(outcome(inHosts)).toEqual(outcome(callByCall));
		expect(inHosts.diagnostics.map((d) => d.code)).toEqual(['host-crash']);
		expect(inHosts.diagnostics[0].file).toMatch(/f2\.cairo$/);
		expect(inHosts.files.find((f) => f.relativePath === 'src/f2.cairo')?.text).toBe('#[crash]\nfn f2() -> felt252 { (2) + (1) }\n');
		// Sources before the crash went whole; the one that crashed and those after it, call by call.
		expect(inHosts.sourcesInHosts).toBeGreaterThan(0);
		expect(inHosts.sourcesInHosts).toBeLessThan(inHosts.files.length - 1);
	});

	it('a macro that hangs inside a whole source times out, and then its call alone gets the timeout', { timeout: 60_000 }, async () => {
		const basic = basicMacrosPackage();
		const dir = project([], {
			'src/lib.cairo': 'fn l() { wrap!(0); }\n',
			'src/hang.cairo': 'fn h() { wrap!(1); bang_hang!(x); wrap!(2); }\n',
		}, basic);
		const run = await expand(dir, { host: { requestTimeoutMs: 1000 } });
		const hang = run.files.find((f) => f.relativePath === 'src/hang.cairo')!;
		expect(hang.text).toBe('fn h() { (1); bang_hang!(x); (2); }\n');
		// basic_macros' post-process step adds a note for the whole run; the rest is the one timeout.
		const atCalls = run.diagnostics.filter((d) => d.package === undefined);
		expect(atCalls.map((d) => d.code)).toEqual(['timeout']);
		expect(atCalls[0].macro).toEqual({ kind: 'inline', name: 'bang_hang', package: 'basic_macros' });
		expect(run.files.find((f) => f.relativePath === 'src/lib.cairo')?.text).toBe('fn l() { (0); }\n');
	});

	it('the request timeout applies to each call inside a whole source, not to the whole source', async () => {
		// Three calls of 600 ms each, under a 1,000 ms timeout: no call is too slow, the source as a whole would be.
		const dir = project([], { 'src/lib.cairo': 'fn s() { fault_sleeps!(a); fault_sleeps!(b); fault_sleeps!(c); }\n' }, prebuiltPackage('fault_macros', 'libc_faults.so'));
		const run = await expand(dir, { jobs: 1, host: { requestTimeoutMs: 1000 } });
		expect(run.sourcesInHosts).toBe(1);
		expect(run.diagnostics).toEqual([]);
		expect(run.files[0].text).toBe('fn s() { fault_sleeps!(a); fault_sleeps!(b); fault_sleeps!(c); }\n');
		expect(run.files[0].expansions).toBe(3);
	});

	it('wasm calls inside a whole source run one at a time: each hung call gets its own timeout, as call by call', { timeout: 60_000 }, async () => {
		// The host stops a wasm call 900 ms in (below the 1,000 ms request timeout); three of them take longer
		// than two request timeouts, which only the per-call clock lets through.
		const dir = project([], { 'src/lib.cairo': 'fn h() { wasm_hang!(a); wasm_hang!(b); wasm_hang!(c); }\n' }, prebuiltPackage('misbehave', 'wasm_misbehave.wasm'));
		const inHosts = await expand(dir, { jobs: 1, host: { requestTimeoutMs: 1000 } });
		const callByCall = await expand(dir, { jobs: 1, host: { requestTimeoutMs: 1000 }, expandInHosts: false });
		expect(inHosts.sourcesInHosts).toBe(1);
		expect(inHosts.diagnostics.map((d) => [d.code, d.span?.start])).toEqual([
			['timeout', 9],
			['timeout', 24],
			['timeout', 39],
		]);
		expect(inHosts.diagnostics[0].message).toContain('timed out after 900 ms');
		expect(outcome(inHosts)).toEqual(outcome(callByCall));
	});

	it("a macro's printf to stdout inside a whole source reaches the log, not the protocol", async () => {
		const basic = basicMacrosPackage();
		const dir = project([], { 'src/lib.cairo': 'fn p() { bang_prints_stdout!(a); wrap!(b); }\n' }, basic);
		let stderr = '';
		const run = await expand(dir, { host: { onStderr: (text) => (stderr += text) } });
		expect(run.sourcesInHosts).toBe(1);
		expect(run.diagnostics.filter((d) => d.package === undefined)).toEqual([]);
		expect(run.files[0].text).toBe('fn p() { (a); (b); }\n');
		await expect.poll(() => stderr).toContain('bang_prints_stdout: a normal line on stdout');
	});
});
