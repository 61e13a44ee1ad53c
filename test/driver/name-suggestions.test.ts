/**
 * "Did you mean": an attribute or derive name no package provides, close to a loaded one, gets a
 * warning; the language's own names and distant names get none. The distance itself is unit-tested;
 * the warnings come from real packages in a real host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MacroHost } from '../../dist/client/index.js';
import { alignmentDistance, closestName, expandSource, MacroRegistry } from '../../dist/client/driver/index.js';
import { loadProject } from '../../dist/client/packages/load-project.js';
import { buildAllPackages, CACHE_DIR, removeTempDirs, writeProject } from './support.js';

describe('closestName', () => {
	it('counts a swap of two neighbours as one edit', () => {
		expect(alignmentDistance('rnage', 'range')).toBe(1);
		expect(alignmentDistance('Descrbe', 'Describe')).toBe(1);
		expect(alignmentDistance('', 'abc')).toBe(3);
		expect(alignmentDistance('kitten', 'sitting')).toBe(3);
	});

	it('suggests within a third of the length (at least 1), or a match ignoring case; never the name itself', () => {
		expect(closestName('rnage', ['other', 'range'])).toBe('range');
		expect(closestName('tovalue', ['ToValue'])).toBe('ToValue');
		expect(closestName('ab', ['xy'])).toBeUndefined();
		expect(closestName('instrumnt', ['instrument', 'instruments'])).toBe('instrument');
		expect(closestName('range', ['range', 'rang'])).toBeUndefined();
		expect(closestName('abcdef', ['abcxyz'])).toBeUndefined();
	});
});

let host: MacroHost;
let registry: MacroRegistry;

beforeAll(async () => {
	await buildAllPackages();
	host = await MacroHost.start();
	const project = await loadProject(host, writeProject(['nest_macros', 'to_value_macro', 'tracing_macro'], {}), { cacheDir: CACHE_DIR });
	registry = new MacroRegistry(project.packages);
}, 300_000);
afterAll(async () => {
	await host?.close();
	removeTempDirs();
});

describe('unknown attribute and derive names in expandSource', () => {
	it('warns at a misspelt attribute and a misspelt derive, naming the loaded macro and its package; the code stays', async () => {
		const source = '#[renmae(x)]\nfn f() {}\n#[derive(Drop, ToVlaue)]\nstruct S {}\n';
		const result = await expandSource(source, { registry, caller: host });
		expect(result.text).toBe(source);
		expect(result.diagnostics).toEqual([
			{
				severity: 'warning',
				code: 'unknown-macro',
				message: 'no macro package provides `#[renmae]`, so it is left as written\nhelp: did you mean `#[rename]` (package `nest_macros`)?',
				span: { start: 2, end: 8 },
			},
			{
				severity: 'warning',
				code: 'unknown-macro',
				message: 'no macro package provides derive `ToVlaue`, so it is left as written\nhelp: did you mean `ToValue` (package `to_value_macro`)?',
				span: { start: 38, end: 45 },
			},
		]);
	});

	it("says nothing of the language's own attributes and derives, of distant names, or of names a package provides", async () => {
		const source = '#[inline]\n#[derive(Drop, Copy, Serde)]\n#[unrelated]\nfn f() {}\n#[instrument]\nfn g() {}\n';
		const result = await expandSource(source, { registry, caller: host });
		expect(result.diagnostics).toEqual([]);
	});

	it('warns once about a misspelt attribute below a macro attribute, though the macro passes it on', async () => {
		const result = await expandSource('#[rename(s)]\n#[gnoe]\nfn f() {}\n', { registry, caller: host });
		expect(result.text).toBe('#[gnoe]\nfn f_s() {}\n');
		expect(result.diagnostics.map((d) => d.message.split('\n')[1])).toEqual(['help: did you mean `#[gone]` (package `nest_macros`)?']);
	});
});
