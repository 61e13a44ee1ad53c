/** The shared "which library provides macro X" lookup, on plain library lists (no host needed). */
import { describe, expect, it } from 'vitest';
import { kindWithArticle, MacroIndex, type MacroSource } from '../../dist/protocol/macro-lookup.js';

const add: MacroSource = { library: '/libs/add.so', macros: [{ name: 'add', kind: 'inline' }, { name: 'trace', kind: 'attribute' }] };
const math: MacroSource = { library: '/libs/math.so', macros: [{ name: 'add', kind: 'inline' }, { name: 'ToValue', kind: 'derive' }] };

describe('MacroIndex', () => {
	it('finds the one library that provides a kind and name', () => {
		const index = new MacroIndex([add, math]);
		expect(index.find('attribute', 'trace')).toEqual({ found: 'one', library: '/libs/add.so' });
		expect(index.find('derive', 'ToValue')).toEqual({ found: 'one', library: '/libs/math.so' });
	});

	it('reports every provider, in the order given, when several libraries provide the name', () => {
		expect(new MacroIndex([add, math]).find('inline', 'add')).toEqual({ found: 'many', libraries: ['/libs/add.so', '/libs/math.so'] });
		expect(new MacroIndex([math, add]).find('inline', 'add')).toEqual({ found: 'many', libraries: ['/libs/math.so', '/libs/add.so'] });
	});

	it('asks only the named library when one is given', () => {
		const index = new MacroIndex([add, math]);
		expect(index.find('inline', 'add', '/libs/math.so')).toEqual({ found: 'one', library: '/libs/math.so' });
		expect(index.find('derive', 'ToValue', '/libs/add.so')).toEqual({ found: 'none', hint: '' });
	});

	it('hints where the name exists as another kind of macro', () => {
		const index = new MacroIndex([add, math]);
		expect(index.find('inline', 'trace')).toEqual({ found: 'none', hint: ' (/libs/add.so provides trace as an attribute macro)' });
		expect(index.find('attribute', 'ToValue')).toEqual({ found: 'none', hint: ' (/libs/math.so provides ToValue as a derive macro)' });
		// Restricted to a library, the hint looks only there.
		expect(index.find('inline', 'trace', '/libs/math.so')).toEqual({ found: 'none', hint: '' });
		expect(index.find('inline', 'nothing')).toEqual({ found: 'none', hint: '' });
	});

	it('says that no library is loaded when the list is empty', () => {
		const index = new MacroIndex([]);
		expect(index.find('inline', 'add')).toEqual({ found: 'none', hint: ' (no library is loaded)' });
		expect(index.isEmpty).toBe(true);
		expect(index.has('inline', 'add')).toBe(false);
	});

	it('counts a library listed twice once', () => {
		const index = new MacroIndex([add, add]);
		expect(index.find('inline', 'add')).toEqual({ found: 'one', library: '/libs/add.so' });
		expect(index.has('attribute', 'trace')).toBe(true);
		expect(index.has('derive', 'trace')).toBe(false);
		expect(index.isEmpty).toBe(false);
	});

	it('names kinds with their article', () => {
		expect(['inline', 'attribute', 'derive'].map((k) => kindWithArticle(k as MacroSource['macros'][number]['kind']))).toEqual([
			'an inline',
			'an attribute',
			'a derive',
		]);
	});
});
