/**
 * The expansion cache through real builds of `expand-project` (fixture macro packages compiled by
 * cargo, real host processes): a second build with nothing changed hits every call and starts no
 * host; one changed file misses only its own calls; moved code still hits, its diagnostics at the new
 * place; a rebuilt library and a changed fingerprint miss; failures (a bail, a crash) and opted-out
 * packages are never cached; `expansionCache: false` keeps nothing; `--check-determinism` flags a
 * macro whose hosts disagree and does not cache it.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProject } from '../../dist/client/packages/build-project.js';
import { CACHE_DIR, CACHE_MACROS, diagnosticLines, expand, FP_MACROS, output, removeTempDirs, tempDir, writeCacheProject, writeFiles } from './support.js';

const LIB = `#[derive(Drop, Named)]
struct Point {
    x: felt252,
}

#[tagged]
fn one() -> felt252 {
    double!(1)
}
`;
const MATH = `fn two(a: felt252) -> felt252 {
    double!(a) * double!(loud)
}
`;

beforeAll(async () => {
	await buildProject(writeCacheProject({ cache_macros: CACHE_MACROS, fp_macros: FP_MACROS }, {}), { cacheDir: CACHE_DIR });
});
afterAll(removeTempDirs);

describe('a project built twice', () => {
	it('hits every call the second time, starts no host, and gives the same files and diagnostics', async () => {
		const project = writeCacheProject({ cache_macros: CACHE_MACROS }, { 'src/lib.cairo': LIB, 'src/math.cairo': MATH });
		const cacheDir = tempDir('expansions');
		const first = await expand(project, cacheDir);
		expect(first.hostsStarted).toBe(2);
		expect(first.cache).toEqual({ hits: 0, remoteHits: 0, misses: 5, stored: 5, fileHits: 0 });
		expect(output(first, 'src/math.cairo')).toContain('((a) + (a)) * ((loud) + (loud))');
		expect(output(first, 'src/lib.cairo')).toContain("fn name_Point() -> felt252 {\n    'Point'\n}");

		const second = await expand(project, cacheDir);
		expect(second.hostsStarted).toBe(0);
		expect(second.cache).toEqual({ hits: 5, remoteHits: 0, misses: 0, stored: 0, fileHits: 2 });
		expect(second.summary).toEqual(first.summary);
		for (const file of ['src/lib.cairo', 'src/math.cairo']) expect(output(second, file)).toBe(output(first, file));
		expect(diagnosticLines(second)).toEqual(diagnosticLines(first));
		expect(diagnosticLines(second)).toEqual([expect.stringMatching(/^- warning \S*src\/math\.cairo:2 double: loud argument$/)]);
	});

	it('misses only the calls of the one file that changed', async () => {
		const project = writeCacheProject({ cache_macros: CACHE_MACROS }, { 'src/lib.cairo': LIB, 'src/math.cairo': MATH });
		const cacheDir = tempDir('expansions');
		await expand(project, cacheDir);
		writeFiles(project, { 'src/math.cairo': MATH.replace('double!(a)', 'double!(b)') });
		const run = await expand(project, cacheDir);
		// lib.cairo is read whole (its three calls hit at once); in math.cairo `double!(loud)` hits and `double!(b)` is new.
		expect(run.cache).toEqual({ hits: 4, remoteHits: 0, misses: 1, stored: 1, fileHits: 1 });
		expect(output(run, 'src/math.cairo')).toContain('((b) + (b)) * ((loud) + (loud))');
	});

	it('hits code that moved, with its spans (and diagnostics) at the new place', async () => {
		const project = writeCacheProject({ cache_macros: CACHE_MACROS }, { 'src/math.cairo': MATH });
		const cacheDir = tempDir('expansions');
		const before = await expand(project, cacheDir);
		writeFiles(project, { 'src/math.cairo': `// a comment\n\n// that moves everything down\n${MATH}` });
		const after = await expand(project, cacheDir);
		expect(after.cache).toEqual({ hits: 2, remoteHits: 0, misses: 0, stored: 0, fileHits: 0 });
		expect(after.hostsStarted).toBe(0);
		expect(diagnosticLines(before)).toEqual([expect.stringMatching(/src\/math\.cairo:2 double: loud argument$/)]);
		expect(diagnosticLines(after)).toEqual([expect.stringMatching(/src\/math\.cairo:5 double: loud argument$/)]);
		// The warning's span covers `loud` itself at its new offset.
		const d = after.diagnostics[0]!;
		expect(after.files[0]!.source.slice(d.span!.start, d.span!.end)).toBe('loud');
	});
});

describe('what changes the key', () => {
	it('a rebuilt library misses, and its new output is used', async () => {
		const pkg = tempDir('rebuilt-macros');
		// Numbers of this run, so that the shared build cache has neither library yet: both are really built.
		const nonce = String(Date.now());
		const lib = (sign: string): string =>
			`use macro_host_sdk::{export_macros, ProcMacroResult, TokenStream};\n` +
			`fn sign(_args: &TokenStream) -> ProcMacroResult { ProcMacroResult::replace(TokenStream::parse("${sign}").unwrap()) }\n` +
			`export_macros! { inline sign }\n`;
		writeFiles(pkg, { 'Scarb.toml': '[package]\nname = "rebuilt_macros"\nversion = "0.1.0"\n\n[cairo-plugin]\n', 'src/lib.rs': lib(`${nonce}1`) });
		const project = writeCacheProject({ rebuilt_macros: pkg }, { 'src/lib.cairo': 'fn f() -> felt252 { sign!() }\n' });
		const cacheDir = tempDir('expansions');
		const first = await expand(project, cacheDir);
		expect(output(first, 'src/lib.cairo')).toBe(`fn f() -> felt252 { ${nonce}1 }\n`);
		writeFileSync(join(pkg, 'src/lib.rs'), lib(`${nonce}2`));
		const second = await expand(project, cacheDir);
		expect(second.project.cargoRuns).toBe(1);
		expect(second.cache).toEqual({ hits: 0, remoteHits: 0, misses: 1, stored: 1, fileHits: 0 });
		expect(output(second, 'src/lib.cairo')).toBe(`fn f() -> felt252 { ${nonce}2 }\n`);
	});

	it('a changed fingerprint misses; the old fingerprint hits its old entry again', async () => {
		const project = writeCacheProject({ fp_macros: FP_MACROS }, { 'src/lib.cairo': 'fn f() -> felt252 { env_value!() }\n' });
		const cacheDir = tempDir('expansions');
		const withInput = (value: string) => expand(project, cacheDir, { host: { env: { FP_MACROS_INPUT: value } } });
		const a = await withInput('a');
		expect(output(a, 'src/lib.cairo')).toBe("fn f() -> felt252 { 'a' }\n");
		expect(a.cache).toEqual({ hits: 0, remoteHits: 0, misses: 1, stored: 1, fileHits: 0 });
		const b = await withInput('b');
		expect(output(b, 'src/lib.cairo')).toBe("fn f() -> felt252 { 'b' }\n");
		expect(b.cache).toEqual({ hits: 0, remoteHits: 0, misses: 1, stored: 1, fileHits: 0 });
		const again = await withInput('a');
		expect(output(again, 'src/lib.cairo')).toBe("fn f() -> felt252 { 'a' }\n");
		expect(again.cache).toEqual({ hits: 1, remoteHits: 0, misses: 0, stored: 0, fileHits: 1 });
		// The library has a fingerprint to ask for: a host starts even when every call hits.
		expect(again.hostsStarted).toBe(1);
	});
});

describe('what is never cached', () => {
	it('a bail and a crash are expanded again in every build', async () => {
		const project = writeCacheProject({ cache_macros: CACHE_MACROS }, { 'src/lib.cairo': 'fn f() {\n    refuse!(x);\n    crash!();\n    double!(3);\n}\n' });
		const cacheDir = tempDir('expansions');
		const first = await expand(project, cacheDir);
		expect(first.cache).toEqual({ hits: 0, remoteHits: 0, misses: 3, stored: 1, fileHits: 0 });
		const second = await expand(project, cacheDir);
		expect(second.cache).toEqual({ hits: 1, remoteHits: 0, misses: 2, stored: 0, fileHits: 0 });
		expect(second.hostsStarted).toBe(1);
		const codes = second.diagnostics.map((d) => `${d.code ?? '-'} ${d.message.split(':')[0]}`);
		expect(codes).toEqual(['- refuse', expect.stringMatching(/^host-crash /)]);
	});

	it('a package with `[cairo-plugin] expansion-cache = false` is never cached', async () => {
		const pkg = tempDir('impure-macros');
		writeFiles(pkg, {
			'Scarb.toml': '[package]\nname = "impure_macros"\nversion = "0.1.0"\n\n[cairo-plugin]\nexpansion-cache = false\n',
			'src/lib.rs':
				'use macro_host_sdk::{export_macros, ProcMacroResult, TokenStream};\n' +
				'fn now(_args: &TokenStream) -> ProcMacroResult { ProcMacroResult::replace(TokenStream::parse("0").unwrap()) }\n' +
				'export_macros! { inline now }\n',
		});
		const project = writeCacheProject({ impure_macros: pkg, cache_macros: CACHE_MACROS }, { 'src/lib.cairo': 'fn f() -> felt252 { now!() + double!(1) }\n' });
		const cacheDir = tempDir('expansions');
		await expand(project, cacheDir);
		const second = await expand(project, cacheDir);
		expect(second.project.packages.map((p) => [p.name, p.expansionCache])).toEqual([
			['impure_macros', false],
			['cache_macros', true],
		]);
		// `now!()` is not even counted as a miss: it is not a cacheable call.
		expect(second.cache).toEqual({ hits: 1, remoteHits: 0, misses: 0, stored: 0, fileHits: 0 });
		expect(second.hostsStarted).toBe(1);
	});

	it('expansionCache: false reads and writes nothing', async () => {
		const project = writeCacheProject({ cache_macros: CACHE_MACROS }, { 'src/lib.cairo': 'fn f() -> felt252 { double!(1) }\n' });
		const cacheDir = tempDir('expansions');
		const run = await expand(project, false, { build: { cacheDir: cacheDir } });
		expect(run.cache).toBeUndefined();
		expect(output(run, 'src/lib.cairo')).toBe('fn f() -> felt252 { (1) + (1) }\n');
		expect(existsSync(join(cacheDir, 'expansions'))).toBe(false);
	});
});

describe('--check-determinism', () => {
	it('warns at a call whose two hosts disagree, and caches only the calls that agree', async () => {
		const project = writeCacheProject({ cache_macros: CACHE_MACROS }, { 'src/lib.cairo': 'fn f() -> felt252 {\n    host_pid!() + double!(1)\n}\n' });
		const cacheDir = tempDir('expansions');
		const run = await expand(project, cacheDir, { checkDeterminism: true, jobs: 1 });
		expect(run.hostsStarted).toBe(2);
		expect(diagnosticLines(run)).toEqual([
			expect.stringMatching(/^nondeterministic warning .*src\/lib\.cairo:2 `host_pid!` is not deterministic: two hosts expanded this call differently \(the outputs differ: `\d+` vs `\d+`\); the first result is used and nothing is cached$/),
		]);
		expect(run.cache).toEqual({ hits: 0, remoteHits: 0, misses: 0, stored: 1, fileHits: 0 });
		const entries = readdirSync(join(cacheDir, 'entries')).flatMap((shard) => readdirSync(join(cacheDir, 'entries', shard)));
		expect(entries).toHaveLength(1);
		// Without the check, the agreed call hits and the other is expanded (and now cached).
		const plain = await expand(project, cacheDir);
		expect(plain.cache).toEqual({ hits: 1, remoteHits: 0, misses: 1, stored: 1, fileHits: 0 });
	});
});
