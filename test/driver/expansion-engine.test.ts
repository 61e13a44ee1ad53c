/**
 * The expansion engine against real hosts and real macro packages (built by cargo into the shared
 * cache): nesting, the recursion limit, attribute order, derives, REMOVE / LEAVE / BAIL, untouched
 * text kept byte for byte, operands kept whole, aux data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MacroHost } from '../../dist/client/index.js';
import { expandSource, MacroRegistry, type SourceExpansion } from '../../dist/client/driver/index.js';
import { loadProject } from '../../dist/client/packages/load-project.js';
import { buildAllPackages, CACHE_DIR, removeTempDirs, writeProject } from './support.js';

let host: MacroHost;
let registry: MacroRegistry;
let libraryOf: (pkg: string) => string;

beforeAll(async () => {
	await buildAllPackages();
	host = await MacroHost.start();
	const project = await loadProject(host, writeProject(['nest_macros', 'add_macro', 'tracing_macro', 'to_value_macro'], {}), { cacheDir: CACHE_DIR });
	registry = new MacroRegistry(project.packages);
	libraryOf = (pkg) => project.packages.find((p) => p.name === pkg)!.library;
});
afterAll(async () => {
	await host?.close();
	removeTempDirs();
});

function expand(source: string, recursionLimit?: number): Promise<SourceExpansion> {
	return expandSource(source, { registry, caller: host, recursionLimit });
}

describe('expandSource', () => {
	it('keeps a file without calls byte for byte, unknown attributes, built-in derives and unknown macros included', async () => {
		const source = '// c\u00e9\r\n#[unknown_attr(x)]\n#[derive(Drop, Copy)]\nstruct   S { a: u8 }  /* keep */\nfn f() { println!("{}", 1); array![1,2]; }\n';
		const result = await expand(source);
		expect(result.text).toBe(source);
		expect(result).toMatchObject({ diagnostics: [], aux: [], expansions: 0 });
	});

	it('expands inline calls with all three delimiters and keeps the text around them', async () => {
		const result = await expand('fn f() {\n    let a = add!(1, 2);   // one\n    let b = add![x, y];\n    let c = add!{ p, q };\n}\n');
		expect(result.text).toBe('fn f() {\n    let a = (1) + (2);   // one\n    let b = (x) + (y);\n    let c = (p) + (q);\n}\n');
		expect(result.expansions).toBe(3);
	});

	it('keeps an expanded operand whole: add!(a, b) * 2 becomes ((a) + (b)) * 2', async () => {
		const result = await expand('fn f() { let x = add!(a, b) * 2; let y = -add!(c, d); let z = add!(e, f).into(); g(add!(h, i)) }');
		expect(result.text).toBe('fn f() { let x = ((a) + (b)) * 2; let y = -((c) + (d)); let z = ((e) + (f)).into(); g((h) + (i)) }');
	});

	it('expands a macro whose output calls another macro (nested)', async () => {
		const result = await expand('fn f() -> Array<felt252> { outer!(7) }\n');
		expect(result.text).toBe('fn f() -> Array<felt252> { [7, 7] }\n');
		expect(result.expansions).toBe(2);
	});

	it('expands calls inside the arguments of a macro no library provides', async () => {
		const result = await expand('fn f() { println!("{}", add!(1, 2)); }');
		expect(result.text).toBe('fn f() { println!("{}", (1) + (2)); }');
	});

	it('stops a macro that expands to itself at the recursion limit (64 by default), with a clear error at the original call', async () => {
		const source = 'fn f() {\n    again!(1)\n}\n';
		const result = await expand(source);
		expect(result.text).toBe(source);
		expect(result.expansions).toBe(64);
		expect(result.diagnostics).toEqual([
			{
				severity: 'error',
				code: 'recursion-limit',
				message:
					'recursion limit reached while expanding `again!`: macro output still calls macros after 64 nested expansions\n' +
					'help: a macro whose output calls itself never ends; if the nesting is intended, raise the limit (--recursion-limit)',
				span: { start: 13, end: 22 },
			},
		]);
	});

	it('honours a lower recursion limit, and nesting within the limit is fine', async () => {
		const limited = await expand('fn f() { again!(1) }', 3);
		expect(limited.expansions).toBe(3);
		expect(limited.diagnostics[0].message).toMatch(/^recursion limit reached while expanding `again!`: macro output still calls macros after 3 nested expansions/);
		const nested = await expand('fn f() { outer!(1) }', 2);
		expect(nested).toMatchObject({ text: 'fn f() { [1, 1] }', diagnostics: [] });
		const tooDeep = await expand('fn f() { outer!(1) }', 1);
		// outer! ran; the inner! call in its output was one level too deep and stays as it came.
		expect(tooDeep.text).toBe('fn f() { inner!(1) }');
		expect(tooDeep.diagnostics.map((d) => d.code)).toEqual(['recursion-limit']);
	});

	it('runs attributes outermost first; inert attributes between them stay, and the output is scanned again', async () => {
		const result = await expand('#[rename(a)]\n#[inline]\n#[rename(b)]\nfn g() -> Array<felt252> { inner!(2) }\n');
		expect(result.text).toBe('#[inline]\nfn g_a_b() -> Array<felt252> {\n    [2, 2]\n}\n');
		expect(result.expansions).toBe(3);
	});

	it('appends derive output after the item, drops the expanded name from #[derive], and expands calls in the output', async () => {
		const source = '#[derive(Drop, Hello, Copy)]\n#[unknown_attr]\nstruct S {}\n\nfn after() {}\n';
		const result = await expand(source);
		expect(result.text).toBe('#[derive(Drop, Copy)]\n#[unknown_attr]\nstruct S {}\nfn hello_S() -> Array<felt252> {\n    [1, 1]\n}\n\nfn after() {}\n');
		const alone = await expand('    #[derive(Hello)]\n    struct T;\n');
		expect(alone.text).toBe('    struct T;\n    fn hello_T() -> Array<felt252> {\n        [1, 1]\n    }\n');
	});

	it('derives from two packages in one attribute: one call per library, outputs in order', async () => {
		const result = await expand('#[derive(ToValue, Hello)]\nstruct P { x: felt252 }\n');
		expect(result.text).toBe(
			'struct P { x: felt252 }\nimpl PToValue of ToValue<P> {\n    fn to_value(self: @P) -> felt252 {\n        0 + (*self.x).into()\n    }\n}\nfn hello_P() -> Array<felt252> {\n    [1, 1]\n}\n',
		);
		expect(result.expansions).toBe(3);
	});

	it('REMOVE deletes the whole item with its attributes and its lines', async () => {
		const result = await expand('fn a() {}\n#[inline]\n#[gone]\nfn removed() { add!(1, 2) }\nfn b() {}\n');
		expect(result.text).toBe('fn a() {}\nfn b() {}\n');
		expect(result.expansions).toBe(1);
	});

	it('LEAVE keeps the call as written (its aux data is kept); BAIL keeps it and reports; calls inside are still expanded', async () => {
		const result = await expand('fn f() { tally!(a b c); complain!(add!(1, 2)); }');
		expect(result.text).toBe('fn f() { tally!(a b c); complain!((1) + (2)); }');
		expect(result.aux).toEqual([{ library: libraryOf('nest_macros'), value: { tokens: 3 } }]);
		expect(result.diagnostics).toEqual([
			{ severity: 'error', message: 'complain: I object to this argument', span: { start: 34, end: 37 }, macro: { kind: 'inline', name: 'complain', package: 'nest_macros' } },
			{ severity: 'warning', message: 'complain: and to this whole call', span: { start: 24, end: 45 }, macro: { kind: 'inline', name: 'complain', package: 'nest_macros' } },
			// The add! inside was expanded after complain! bailed.
		]);
		expect(result.expansions).toBe(3);
	});

	it('tokens from the source keep their place through nested expansions; generated ones map to their call site', async () => {
		const source = 'fn f() { outer!(complain!(zz)) }';
		const result = await expand(source);
		expect(result.text).toBe('fn f() { [complain!(zz), complain!(zz)] }');
		const at = (text: string) => ({ start: source.indexOf(text), end: source.indexOf(text) + text.length });
		expect(result.diagnostics.map((d) => [d.severity, d.span])).toEqual([
			['error', at('zz')],
			['warning', at('complain!(zz)')],
			['error', at('zz')],
			['warning', at('complain!(zz)')],
		]);
	});

	it('a derive that bails keeps its name in #[derive(…)] and appends nothing', async () => {
		const result = await expand('#[derive(Drop, Hello)]\nenum E { A }\n');
		expect(result.text).toBe('#[derive(Drop, Hello)]\nenum E { A }\n');
		expect(result.diagnostics).toEqual([
			{ severity: 'error', message: 'Hello can only be derived for a struct', span: { start: 15, end: 20 }, macro: { kind: 'derive', name: 'Hello', package: 'nest_macros' } },
		]);
	});

	it('an attribute no library provides is untouched, and the item under it is still scanned', async () => {
		const result = await expand('#[unknown(1, "x")]\nfn h() { add!(1, 2) }\n');
		expect(result.text).toBe('#[unknown(1, "x")]\nfn h() { (1) + (2) }\n');
	});

	it('reports a macro attribute on a struct field as misplaced, keeps it as written, and expands the rest', async () => {
		const source = 'struct S {\n    #[gone]\n    x: u8,\n}\nfn f() { add!(1, 2) }\n';
		const result = await expand(source);
		expect(result.text).toBe('struct S {\n    #[gone]\n    x: u8,\n}\nfn f() { (1) + (2) }\n');
		expect(result.diagnostics).toEqual([
			{
				severity: 'error',
				code: 'misplaced-attribute',
				message: '#[gone] is on a struct field, where no macro runs: attribute and derive macros apply to items (functions, structs, enums, impls, …), so it was left as written',
				span: { start: 15, end: 22 },
			},
		]);
	});

	it('reports an unclosed call and an item with no end instead of guessing, and keeps the text', async () => {
		const unclosed = await expand('fn f() { add!(1, 2 }');
		expect(unclosed.text).toBe('fn f() { add!(1, 2 }');
		expect(unclosed.diagnostics).toEqual([
			{ severity: 'error', code: 'malformed-call', message: 'this `add!` call is not closed: its delimiters do not balance', span: { start: 9, end: 14 } },
		]);
		const endless = await expand('#[gone]\nfn f()');
		expect(endless.text).toBe('#[gone]\nfn f()');
		expect(endless.diagnostics[0]).toMatchObject({ code: 'malformed-call', message: 'the item under #[gone] has no end: expected a `{ … }` body or a `;`', span: { start: 0, end: 7 } });
	});

	it('a macro two packages provide is reported as ambiguous and left as written', async () => {
		const twins = await MacroHost.start();
		try {
			const project = await loadProject(twins, writeProject(['nest_macros', 'twin_macros'], {}), { cacheDir: CACHE_DIR });
			const result = await expandSource('fn f() { inner!(1); outer!(2) }', { registry: new MacroRegistry(project.packages), caller: twins });
			expect(result.text).toBe('fn f() { inner!(1); inner!(2) }');
			const ambiguous = {
				severity: 'error',
				code: 'ambiguous-macro',
				message: '`inner!` is ambiguous: packages `nest_macros` and `twin_macros` both provide inline macro `inner`, so it is not expanded',
			};
			// The second one sits in outer!'s output, so it points at the outer! call.
			expect(result.diagnostics).toEqual([
				{ ...ambiguous, span: { start: 9, end: 18 } },
				{ ...ambiguous, span: { start: 20, end: 29 } },
			]);
		} finally {
			await twins.close();
		}
	});

	it('a file that does not tokenize is kept as written, with the tokenizer errors', async () => {
		const result = await expand('fn f() { add!(1, 2); let s = "open; }');
		expect(result.text).toBe('fn f() { add!(1, 2); let s = "open; }');
		expect(result.diagnostics).toEqual([
			{ severity: 'error', code: 'tokenize', message: 'unterminated string literal: missing closing `"`; this file is written out unexpanded', span: { start: 29, end: 37 } },
		]);
	});
});
