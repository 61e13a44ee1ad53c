import { describe, expect, it } from 'vitest';
import { printTokens } from '../../dist/tokens/token-printer.js';
import { tokenize } from '../../dist/tokens/tokenizer.js';
import { RECORD_WIDTH, TokenFlags, TokenKind, SPAN_CALL_SITE } from '../../dist/protocol/token-stream.js';
import type { TokenStream } from '../../dist/protocol/token-stream.js';

/** Kinds, texts and flags, the things a round trip must keep (spans change with the layout). */
function shape(stream: TokenStream): string[] {
	const buf = Buffer.from(stream.text);
	const out: string[] = [];
	for (let o = 0; o < stream.records.length; o += RECORD_WIDTH) {
		const r = stream.records;
		out.push(`${r[o]}:${r[o + 1]}:${buf.toString('utf8', r[o + 2], r[o + 2] + r[o + 3])}`);
	}
	return out;
}

function roundTrip(source: string, layout = true): string {
	const first = tokenize(source);
	expect(first.errors).toEqual([]);
	const printed = printTokens(first.stream, { layout });
	const second = tokenize(printed);
	expect(second.errors).toEqual([]);
	expect(shape(second.stream)).toEqual(shape(first.stream));
	return printed;
}

describe('printTokens', () => {
	it('separates tokens by one space unless joint, on one line without layout', () => {
		expect(roundTrip('let   x=a::b ( 1 ,2 )  ;', false)).toBe('let x=a::b ( 1 ,2 ) ;');
	});

	it('lays out blocks: newline and indentation after `{` and `;`, `}` on its own line', () => {
		const source = 'fn main() -> u32 { let x = 1; if x == 1 { return 2; } else { foo(x); } x }';
		expect(roundTrip(source)).toBe(
			[
				'fn main() -> u32 {',
				'    let x = 1;',
				'    if x == 1 {',
				'        return 2;',
				'    } else {',
				'        foo(x);',
				'    }',
				'    x',
				'}',
			].join('\n'),
		);
	});

	it('keeps empty blocks, `};` and semicolons inside brackets on one line', () => {
		expect(roundTrip('impl Named for X {} struct S { a: [u8; 3] }; fn f() {}')).toBe(
			'impl Named for X {}\nstruct S {\n    a: [u8; 3]\n};\nfn f() {}',
		);
	});

	it('puts an attribute on its own line before the item', () => {
		expect(roundTrip('#[derive(Drop, Serde)] #[tagged] struct A {} #![inner] fn f() {}')).toBe(
			'#[derive(Drop, Serde)]\n#[tagged]\nstruct A {}\n#![inner]\nfn f() {}',
		);
	});

	it('never breaks a joint boundary, so layout keeps the tokens and flags', () => {
		expect(roundTrip('fn f(){x;y}')).toBe('fn f(){x;y}');
		roundTrip("#[instrument] fn f(a: felt252) -> u32 { let s = \"é ✓\"; let t = 'abc'; a::<T>(s, t)?; loop { break; }; 0 }");
	});

	it('reads records that point anywhere into a compact, multi-byte text', () => {
		// Host output shape: compact text, records out of text order, generated spans, no flags.
		const text = 'ü✓(x)';
		const stream: TokenStream = {
			text,
			records: [
				TokenKind.punct, 0, 5, 1, SPAN_CALL_SITE, SPAN_CALL_SITE,
				TokenKind.ident, TokenFlags.joint, 0, 2, 10, 12,
				TokenKind.ident, 0, 2, 3, 12, 15,
				TokenKind.punct, 0, 7, 1, SPAN_CALL_SITE, SPAN_CALL_SITE,
				TokenKind.ident, 0, 6, 1, 1, 2,
			],
		};
		expect(printTokens(stream)).toBe('( ü✓ ) x');
	});

	it('prints an empty stream as the empty string', () => {
		expect(printTokens({ text: '', records: [] })).toBe('');
		expect(printTokens({ text: '', records: new Uint32Array(0) })).toBe('');
	});

	it('indents with the given unit', () => {
		expect(printTokens(tokenize('mod m { fn f() { g(); } }').stream, { indent: '\t' })).toBe('mod m {\n\tfn f() {\n\t\tg();\n\t}\n}');
	});
});
