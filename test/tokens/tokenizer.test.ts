import { describe, expect, it } from 'vitest';
import { tokenize, sliceTokens } from '../../dist/tokens/tokenizer.js';
import { tokenText } from '../../dist/tokens/token-text.js';
import { RECORD_WIDTH, SPAN_CALL_SITE, TokenFlags, TokenKind, tokenCount, validateTokenStream } from '../../dist/protocol/token-stream.js';
import type { TokenStream } from '../../dist/protocol/token-stream.js';

const KIND_NAME = ['ident', 'punct', 'literal'];

/** Readable view of a stream for assertions (tests only: the tokenizer itself builds no objects). */
function view(stream: TokenStream): Array<[string, string, boolean]> {
	const out: Array<[string, string, boolean]> = [];
	for (let i = 0; i < tokenCount(stream); i++) {
		const r = stream.records;
		out.push([KIND_NAME[r[i * RECORD_WIDTH]], tokenText(stream, i), (r[i * RECORD_WIDTH + 1] & TokenFlags.joint) !== 0]);
	}
	return out;
}

function texts(source: string): string[] {
	const { stream, errors } = tokenize(source);
	expect(errors).toEqual([]);
	return view(stream).map(([, text]) => text);
}

function kinds(source: string): string[] {
	const { stream, errors } = tokenize(source);
	expect(errors).toEqual([]);
	return view(stream).map(([kind]) => kind);
}

describe('tokenize: token classes', () => {
	it('reads identifiers and keywords, including Unicode letters and underscores', () => {
		expect(texts('fn main _x x1 über 名前 r#raw')).toEqual(['fn', 'main', '_x', 'x1', 'über', '名前', 'r', '#', 'raw']);
		expect(kinds('fn über _')).toEqual(['ident', 'ident', 'ident']);
	});

	it('reads decimal, hex, octal and binary numbers with separators and suffixes', () => {
		const source = '0 42 1_000 0x1f 0xDEAD_beef 0o17 0b1010 5_u32 10u8 0x1f_felt252 1.5 7felt252';
		expect(texts(source)).toEqual(source.split(' '));
		expect(new Set(kinds(source))).toEqual(new Set(['literal']));
	});

	it('keeps ranges and fields apart from numbers', () => {
		expect(texts('0..10')).toEqual(['0', '..', '10']);
		expect(texts('1..=2')).toEqual(['1', '..=', '2']);
		expect(texts('x.0')).toEqual(['x', '.', '0']);
		expect(texts('5.foo()')).toEqual(['5', '.', 'foo', '(', ')']);
	});

	it('reads strings with escapes, across lines and with multi-byte text', () => {
		expect(texts('"plain" "a\\"b" "back\\\\" "héllo ✓" "two\nlines"')).toEqual([
			'"plain"',
			'"a\\"b"',
			'"back\\\\"',
			'"héllo ✓"',
			'"two\nlines"',
		]);
		expect(kinds('"x"')).toEqual(['literal']);
	});

	it("reads short strings 'abc' as literals, with escapes and spaces", () => {
		expect(texts("'abc' 'Caller is not owner' 'it\\'s' 'x'")).toEqual(["'abc'", "'Caller is not owner'", "'it\\'s'", "'x'"]);
		expect(kinds("'abc'")).toEqual(['literal']);
	});

	it('reads Rust lifetimes as a joint quote plus an identifier', () => {
		const { stream } = tokenize("fn f<'a, 'b: 'a>(x: &'static str) {}");
		expect(view(stream).slice(2, 10)).toEqual([
			['punct', '<', true],
			['punct', "'", true],
			['ident', 'a', true],
			['punct', ',', false],
			['punct', "'", true],
			['ident', 'b', true],
			['punct', ':', false],
			['punct', "'", true],
		]);
		expect(texts("&'static str")).toEqual(['&', "'", 'static', 'str']);
	});

	it('reads every multi-character operator as one punct token', () => {
		const ops = [':: -> => == != <= >= && || += -= *= /= %= ^= &= |= .. ..= ... << >> <<= >>='];
		const list = ops[0].split(' ');
		expect(texts(ops[0])).toEqual(list);
		expect(new Set(kinds(ops[0]))).toEqual(new Set(['punct']));
		expect(texts('a::b->c=>d')).toEqual(['a', '::', 'b', '->', 'c', '=>', 'd']);
		expect(texts('x>>=1')).toEqual(['x', '>>=', '1']);
	});

	it('reads single-character punctuation and delimiters', () => {
		const singles = '# [ ] ( ) { } , ; : . = < > ! + - * / % & | ^ ~ ? @ $';
		expect(texts(singles)).toEqual(singles.split(' '));
		expect(texts('#[derive(Drop)]')).toEqual(['#', '[', 'derive', '(', 'Drop', ')', ']']);
	});

	it('skips line comments, nested block comments, whitespace and a byte order mark', () => {
		expect(texts('\ufeffa // comment ✓\nb /* one /* two */ still */ c\t\r\n d')).toEqual(['a', 'b', 'c', 'd']);
		expect(texts('/**/x/*a*/y')).toEqual(['x', 'y']);
		expect(texts('')).toEqual([]);
		expect(texts('  // only a comment')).toEqual([]);
	});
});

describe('tokenize: records', () => {
	it('writes six u32 per token into a Uint32Array whose text is the source itself', () => {
		const source = 'add!(a, 1)';
		const { stream } = tokenize(source);
		expect(stream.text).toBe(source);
		expect(stream.records).toBeInstanceOf(Uint32Array);
		expect(Array.from(stream.records)).toEqual([
			TokenKind.ident, TokenFlags.joint, 0, 3, 0, 3,
			TokenKind.punct, TokenFlags.joint, 3, 1, 3, 4,
			TokenKind.punct, TokenFlags.joint, 4, 1, 4, 5,
			TokenKind.ident, TokenFlags.joint, 5, 1, 5, 6,
			TokenKind.punct, 0, 6, 1, 6, 7,
			TokenKind.literal, TokenFlags.joint, 8, 1, 8, 9,
			TokenKind.punct, 0, 9, 1, 9, 10,
		]);
		expect(validateTokenStream(stream, Buffer.byteLength(source))).toBeUndefined();
	});

	it('counts offsets in UTF-8 bytes after multi-byte characters (2, 3 and 4 bytes)', () => {
		// `𝑥` (U+1D465) is a 4-byte letter, so `𝑥y` is one identifier.
		const source = 'é "ü✓" 𝑥y z';
		const { stream, errors } = tokenize(source);
		expect(errors).toEqual([]);
		const r = stream.records;
		// `é` is 2 bytes; `"ü✓"` starts at byte 3 and is 1+2+3+1 = 7 bytes; `𝑥y` starts at 11 and is 5.
		expect(tokenText(stream, 0)).toBe('é');
		expect([r[2], r[3], r[4], r[5]]).toEqual([0, 2, 0, 2]);
		expect([r[8], r[9]]).toEqual([3, 7]);
		expect(tokenText(stream, 1)).toBe('"ü✓"');
		expect([r[14], r[15], r[16], r[17]]).toEqual([11, 5, 11, 16]);
		expect(tokenText(stream, 2)).toBe('𝑥y');
		expect([r[20], r[21]]).toEqual([17, 1]);
		const buf = Buffer.from(source);
		for (let i = 0; i < tokenCount(stream); i++) {
			const o = i * RECORD_WIDTH;
			expect(buf.toString('utf8', r[o + 2], r[o + 2] + r[o + 3])).toBe(tokenText(stream, i));
		}
	});

	it('reports a 4-byte character that is not a letter, and keeps offsets right after it', () => {
		const { stream, errors } = tokenize('a 😀 b');
		expect(errors).toEqual([{ message: "unexpected character '😀' (U+1F600)", start: 2, end: 6 }]);
		expect(view(stream).map(([, t]) => t)).toEqual(['a', 'b']);
		expect(stream.records[RECORD_WIDTH + 2]).toBe(7);
	});

	it('sets the joint flag exactly when nothing separates a token from the next', () => {
		const { stream } = tokenize('a.b (c) d/**/e f//x\ng');
		expect(view(stream).map(([, t, joint]) => `${t}${joint ? '~' : ''}`)).toEqual([
			'a~', '.~', 'b', '(~', 'c~', ')', 'd', 'e', 'f', 'g',
		]);
	});

	it('shifts spans, not text offsets, by spanBase', () => {
		const { stream, errors } = tokenize('x "', { spanBase: 100 });
		expect(Array.from(stream.records)).toEqual([TokenKind.ident, 0, 0, 1, 100, 101]);
		expect(errors).toEqual([{ message: 'unterminated string literal: missing closing `"`', start: 102, end: 103 }]);
	});

	it('slices a token range without copying', () => {
		const { stream } = tokenize('a b c d');
		const sub = sliceTokens(stream, 1, 3);
		expect(sub.text).toBe(stream.text);
		expect((sub.records as Uint32Array).buffer).toBe(stream.records.buffer);
		expect([tokenText(sub, 0), tokenText(sub, 1)]).toEqual(['b', 'c']);
		expect(sliceTokens({ text: 'ab', records: [0, 0, 0, 1, 0, 1, 0, 0, 1, 1, 1, 2] }, 1, 2).records).toEqual([0, 0, 1, 1, 1, 2]);
	});

	it('tokenizes a 100k-token input into one Uint32Array', () => {
		const source = 'let x_1 = foo(2, "s");\n'.repeat(10_000);
		const { stream, errors } = tokenize(source);
		expect(errors).toEqual([]);
		expect(stream.records).toBeInstanceOf(Uint32Array);
		expect(tokenCount(stream)).toBe(100_000);
		expect(stream.records.length).toBe(600_000);
		const last = (tokenCount(stream) - 1) * RECORD_WIDTH;
		expect(stream.records[last + 4]).toBe(source.length - 2);
		expect(validateTokenStream(stream, source.length)).toBeUndefined();
	});

	it('gives generated-span sentinel no meaning to the tokenizer (spans are plain offsets)', () => {
		const { stream } = tokenize('x');
		expect(stream.records[4]).not.toBe(SPAN_CALL_SITE);
	});
});

describe('tokenize: errors', () => {
	it('reports an unterminated string from its quote to the end, and no token for it', () => {
		const { stream, errors } = tokenize('a "never closed\nb');
		expect(errors).toEqual([{ message: 'unterminated string literal: missing closing `"`', start: 2, end: 17 }]);
		expect(view(stream).map(([, t]) => t)).toEqual(['a']);
	});

	it('reports an unterminated block comment, nested or not', () => {
		expect(tokenize('x /* a /* b */').errors).toEqual([{ message: 'unterminated block comment', start: 2, end: 14 }]);
	});

	it('reports an unterminated short string up to the end of its line, then goes on', () => {
		const { stream, errors } = tokenize("a ' b\nc");
		expect(errors).toEqual([{ message: "unterminated short string: missing closing `'` on the same line", start: 2, end: 5 }]);
		expect(view(stream).map(([, t]) => t)).toEqual(['a', 'c']);
	});

	it('reports unexpected characters with their code point, byte span, and goes on', () => {
		const { stream, errors } = tokenize('a \\ b € c \u0001');
		expect(errors).toEqual([
			{ message: "unexpected character '\\' (U+005C)", start: 2, end: 3 },
			{ message: "unexpected character '€' (U+20AC)", start: 6, end: 9 },
			{ message: 'unexpected character U+0001', start: 12, end: 13 },
		]);
		expect(view(stream).map(([, t]) => t)).toEqual(['a', 'b', 'c']);
	});
});
