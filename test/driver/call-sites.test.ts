/** The call-site finder and item extents, on tokens from the shared tokenizer (no host needed). */
import { describe, expect, it } from 'vitest';
import { findCallSites, findItemEnd, MacroRegistry, TokenCursor, type CallSite } from '../../dist/client/driver/index.js';
import { tokenize } from '../../dist/tokens/tokenizer.js';

const registry = new MacroRegistry([
	{
		name: 'pkg',
		library: '/lib.so',
		macros: [
			{ name: 'add', kind: 'inline' },
			{ name: 'instrument', kind: 'attribute' },
			{ name: 'ToValue', kind: 'derive' },
		],
	},
]);

/** The sites of `source`, each as the source text it covers. */
function sites(source: string): { kind: string; text: string; attributes?: string[] }[] {
	const cursor = new TokenCursor(tokenize(source).stream);
	const text = (from: number, to: number): string => Buffer.from(source).subarray(cursor.textStart(from), cursor.textEnd(to - 1)).toString();
	return findCallSites(cursor, 0, cursor.count, registry).sites.map((site: CallSite) =>
		site.kind === 'inline'
			? { kind: site.kind, text: text(site.start, site.end) }
			: { kind: site.kind, text: text(site.start, site.end), attributes: site.attributes.map((a) => `${a.kind} ${text(a.start, a.end)}`) },
	);
}

describe('findCallSites', () => {
	it('finds inline calls with (), [] and {}, but not unknown macros, paths or `!=`', () => {
		expect(sites('fn f() { add!(1, 2); add![a, b]; add!{ c, d }; println!("x"); core::add!(1, 2); a != b; add (1); }')).toEqual([
			{ kind: 'inline', text: 'add!(1, 2)' },
			{ kind: 'inline', text: 'add![a, b]' },
			{ kind: 'inline', text: 'add!{ c, d }' },
		]);
	});

	it('finds calls nested in the arguments of an unknown macro, and inside items whose attributes are all inert', () => {
		expect(sites('#[inline]\n#[derive(Drop)]\nfn f() { println!("{}", add!(1, (2))); }')).toEqual([{ kind: 'inline', text: 'add!(1, (2))' }]);
	});

	it('an item with a macro attribute is one site from its first attribute to its end; inert attributes are listed too', () => {
		expect(sites('/// doc\n#[inline]\n#[instrument]\nfn f() -> u8 { add!(1, 2) }\nfn g() {}')).toEqual([
			{ kind: 'item', text: '#[inline]\n#[instrument]\nfn f() -> u8 { add!(1, 2) }', attributes: ['inert #[inline]', 'attribute #[instrument]'] },
		]);
	});

	it('#[derive] is a site only when a library provides one of its derives', () => {
		expect(sites('#[derive(Drop, Copy)] struct A {}\n#[derive(Drop, ToValue)] struct B { x: u8 }')).toEqual([
			{ kind: 'item', text: '#[derive(Drop, ToValue)] struct B { x: u8 }', attributes: ['derive #[derive(Drop, ToValue)]'] },
		]);
	});

	it('ignores inner attributes, attributes with paths or values, and attributes on nothing but an unknown name', () => {
		expect(sites('#![instrument]\n#[a::instrument]\n#[instrument = 1]\n#[instrumentx]\nfn f() {}')).toEqual([]);
	});

	it('an item ends at its first top-level `;` or the end of its first top-level brace group (taking a `;` right after)', () => {
		expect(sites('#[instrument] struct U;\n#[instrument] const C: S = S { a: 1 };\n#[instrument] fn f(a: (u8, u8)) -> u8 { a.0 } fn g() {}')).toEqual([
			{ kind: 'item', text: '#[instrument] struct U;', attributes: ['attribute #[instrument]'] },
			{ kind: 'item', text: '#[instrument] const C: S = S { a: 1 };', attributes: ['attribute #[instrument]'] },
			{ kind: 'item', text: '#[instrument] fn f(a: (u8, u8)) -> u8 { a.0 }', attributes: ['attribute #[instrument]'] },
		]);
	});

	it('reports an unclosed call and an item that runs into the end of its block', () => {
		const source = 'mod m { #[instrument] fn f() }\nfn g() { add!(1, 2 }';
		const cursor = new TokenCursor(tokenize(source).stream);
		const found = findCallSites(cursor, 0, cursor.count, registry);
		expect(found.sites).toEqual([]);
		expect(found.problems.map((p) => p.message)).toEqual([
			'the item under #[instrument] has no end: expected a `{ … }` body or a `;`',
			'this `add!` call is not closed: its delimiters do not balance',
		]);
	});
});

describe('macro attributes on struct fields and enum variants', () => {
	const find = (source: string) => {
		const cursor = new TokenCursor(tokenize(source).stream);
		const found = findCallSites(cursor, 0, cursor.count, registry);
		const text = (from: number, to: number): string => Buffer.from(source).subarray(cursor.textStart(from), cursor.textEnd(to - 1)).toString();
		return {
			sites: found.sites.map((site: CallSite) => text(site.start, site.end)),
			problems: found.problems.map((p) => ({ code: p.code, message: p.message, text: text(p.from, p.to) })),
		};
	};

	it('are reported as misplaced and are not call sites; inert attributes there are fine', () => {
		const found = find(
			'#[derive(Drop)]\nstruct P<T> {\n    #[key]\n    #[instrument]\n    x: T,\n    #[derive(ToValue)] y: u8,\n}\nenum E { #[instrument] A, B: u8 }\n#[instrument] fn f() {}',
		);
		expect(found.sites).toEqual(['#[instrument] fn f() {}']);
		expect(found.problems).toEqual([
			{
				code: 'misplaced-attribute',
				message: '#[instrument] is on a struct field, where no macro runs: attribute and derive macros apply to items (functions, structs, enums, impls, …), so it was left as written',
				text: '#[key]\n    #[instrument]',
			},
			{
				code: 'misplaced-attribute',
				message: '#[derive(ToValue)] is on a struct field, where no macro runs: attribute and derive macros apply to items (functions, structs, enums, impls, …), so it was left as written',
				text: '#[derive(ToValue)]',
			},
			{
				code: 'misplaced-attribute',
				message: '#[instrument] is on an enum variant, where no macro runs: attribute and derive macros apply to items (functions, structs, enums, impls, …), so it was left as written',
				text: '#[instrument]',
			},
		]);
	});

	it('leave struct literals, unit and tuple structs, and inline calls in fields alone', () => {
		const found = find('struct U;\nstruct T(u8);\n#[instrument] fn f() { let p = P { x: add!(1, 2) }; }\nstruct Q { a: u8 }\nfn g() { add!(3, 4) }');
		expect(found.problems).toEqual([]);
		expect(found.sites).toEqual(['#[instrument] fn f() { let p = P { x: add!(1, 2) }; }', 'add!(3, 4)']);
	});
});

describe('findItemEnd', () => {
	it('stops at a closer that belongs to the enclosing block', () => {
		const cursor = new TokenCursor(tokenize('fn f() }').stream);
		expect(findItemEnd(cursor, 0, cursor.count)).toEqual({ end: 4, isComplete: false });
	});
});
