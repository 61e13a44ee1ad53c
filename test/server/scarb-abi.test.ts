/** Scarb's stable ABI as the host declares it: struct layouts, and derive names as Scarb converts them. */
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { readExpansion, toUpperCamel } from '../../dist/server/scarb/expansion-names.js';
import { STABLE_LAYOUT_SIZES, StableTypes } from '../../dist/server/scarb/stable-abi.js';

describe('stable ABI layouts', () => {
	const shared = ['StableSlice', 'StableTextSpan', 'StableExpansion', 'StableFullPathMarker', 'StablePostProcessContext'] as const;
	it.each(shared)('%s has the size rustc gives it on x86-64', (name) => {
		expect(koffi.sizeof(StableTypes[name])).toBe(STABLE_LAYOUT_SIZES[name]);
	});
	for (const version of ['v1', 'v2'] as const) {
		it.each(Object.keys(STABLE_LAYOUT_SIZES[version]))(`${version} %s has the size rustc gives it on x86-64`, (name) => {
			const types = StableTypes[version] as Record<string, koffi.IKoffiCType>;
			expect(koffi.sizeof(types[name])).toBe((STABLE_LAYOUT_SIZES[version] as Record<string, number>)[name]);
		});
	}

	it('puts fields at upstream offsets: the token after a C-int tag, the output after two streams', () => {
		expect(koffi.offsetof(StableTypes.v2.StableTokenTree, 'token')).toBe(8);
		expect(koffi.offsetof(StableTypes.v2.StableResultWrapper, 'output')).toBe(96);
		expect(koffi.offsetof(StableTypes.v2.StableProcMacroResult, 'aux_data')).toBe(64);
		expect(koffi.offsetof(StableTypes.v2.StableProcMacroResult, 'full_path_markers')).toBe(88);
		expect(koffi.offsetof(StableTypes.v1.StableProcMacroResult, 'full_path_markers')).toBe(64);
		expect(koffi.offsetof(StableTypes.v2.StableDiagnostic, 'spans')).toBe(16);
	});
});

describe('expansion names', () => {
	it.each([
		['named', 'Named'],
		['to_json', 'ToJson'],
		['derive_2d', 'Derive2D'],
		['HTTPServer', 'HttpServer'],
		['my-derive', 'MyDerive'],
		['alreadyCamel', 'AlreadyCamel'],
	])('derive %s is called %s, as convert_case makes it', (declared, called) => {
		expect(toUpperCamel(declared)).toBe(called);
	});

	it('reads kinds as Scarb does: executable by prefix, unknown kinds as inline, parent paths as they are', () => {
		expect(readExpansion('__exec_attr_main', 1)).toEqual({ info: { name: 'main', kind: 'attribute', doc: '', executable: true }, expansionName: '__exec_attr_main' });
		expect(readExpansion('serde_json', 2)).toEqual({ info: { name: 'SerdeJson', kind: 'derive', doc: '' }, expansionName: 'serde_json' });
		expect(readExpansion('a::b::wrap', 1)).toEqual({ info: { name: 'a::b::wrap', kind: 'attribute', doc: '' }, expansionName: 'a::b::wrap' });
		expect(readExpansion('odd', 9)).toEqual({ info: { name: 'odd', kind: 'inline', doc: '' }, expansionName: 'odd' });
	});
});
