/**
 * The output check: a macro's tokens must read back as themselves, with balanced delimiters. Streams
 * are built record by record, as a macro library hands them back.
 */
import { describe, expect, it } from 'vitest';
import { checkTokenStream } from '../../dist/tokens/output-check.js';
import { tokenize } from '../../dist/tokens/tokenizer.js';
import { TokenKind, type TokenStream } from '../../dist/protocol/token-stream.js';

type Spec = [kind: 'ident' | 'punct' | 'literal', text: string, joint?: boolean];

/** A compact stream from (kind, text, joint) triples, spans generated. */
function stream(...tokens: Spec[]): TokenStream {
	let text = '';
	const records: number[] = [];
	for (const [kind, tokenText, joint] of tokens) {
		records.push(TokenKind[kind], joint ? 1 : 0, Buffer.byteLength(text), Buffer.byteLength(tokenText), 0xffffffff, 0xffffffff);
		text += tokenText;
	}
	return { text, records };
}

describe('checkTokenStream', () => {
	it('accepts well-formed output, and any source the tokenizer reads', () => {
		expect(checkTokenStream(stream(['ident', 'let'], ['ident', 'a'], ['punct', '='], ['literal', '"x y"'], ['punct', ';']))).toBeUndefined();
		expect(checkTokenStream(stream())).toBeUndefined();
		const source = "fn f(a: u8) -> Array<felt252> { let s = 'hi'; let t = \"é\"; #[x] g::<T>(a..=3, [1, 2]) }";
		expect(checkTokenStream(tokenize(source).stream)).toBeUndefined();
	});

	it('names a delimiter that is never closed, with its byte in the printed output', () => {
		expect(checkTokenStream(stream(['punct', '('], ['ident', 'a'], ['punct', '+']))).toEqual({
			message: '`(` at output byte 0 is never closed',
			outputByte: 0,
			tokenIndex: 0,
		});
		expect(checkTokenStream(stream(['ident', 'a'], ['punct', '='], ['punct', '('], ['punct', '['], ['punct', ']']))?.message).toBe('`(` at output byte 4 is never closed');
	});

	it('names a closer that closes nothing, and one that does not match its opener', () => {
		expect(checkTokenStream(stream(['ident', 'a'], ['punct', ')']))?.message).toBe('`)` at output byte 2 closes nothing');
		expect(checkTokenStream(stream(['punct', '{'], ['ident', 'a'], ['punct', ')']))).toEqual({
			message: '`)` at output byte 4 does not match `{` at output byte 0',
			outputByte: 4,
			tokenIndex: 2,
		});
	});

	it('refuses an identifier that is not one identifier', () => {
		expect(checkTokenStream(stream(['ident', 'x'], ['ident', 'not an ident']))).toEqual({
			message: '`not an ident` at output byte 2 is not an identifier: it reads as 3 tokens',
			outputByte: 2,
			tokenIndex: 1,
		});
		expect(checkTokenStream(stream(['ident', '@@@']))?.message).toBe('`@@@` at output byte 0 is not an identifier: it reads as 3 tokens');
		expect(checkTokenStream(stream(['ident', '@']))?.message).toBe('`@` at output byte 0 is given as an identifier but is a punctuation token');
		expect(checkTokenStream(stream(['ident', '42']))?.message).toBe('`42` at output byte 0 is given as an identifier but is a literal');
		expect(checkTokenStream(stream(['ident', '']))?.message).toBe('token 0 at output byte 0 is an identifier with no text');
	});

	it('refuses an incomplete literal and a punctuation token that is not one operator', () => {
		expect(checkTokenStream(stream(['ident', 'f', true], ['punct', '(', true], ['literal', '"abc', true], ['punct', ')']))).toEqual({
			message: '`"abc` at output byte 2 is not valid as a literal: unterminated string literal: missing closing `"`',
			outputByte: 2,
			tokenIndex: 2,
		});
		expect(checkTokenStream(stream(['punct', '+-']))?.message).toBe('`+-` at output byte 0 is not a punctuation token: it reads as 2 tokens');
		expect(checkTokenStream(stream(['punct', '€']))?.message).toBe("`€` at output byte 0 is not valid as a punctuation token: unexpected character '€' (U+20AC)");
	});

	it('refuses joint tokens that read back as one, or as a comment', () => {
		expect(checkTokenStream(stream(['ident', 'a', true], ['ident', 'b']))?.message).toBe('`a` at output byte 0 is joint with the token after it, and the two read back as `ab`');
		expect(checkTokenStream(stream(['ident', 'x'], ['punct', '/', true], ['punct', '/'], ['ident', 'y']))?.message).toBe(
			'`/` at output byte 2 does not read back as written: with the tokens after it, it starts a comment',
		);
	});

	it('counts output bytes in UTF-8, after multi-byte text', () => {
		expect(checkTokenStream(stream(['literal', '"é€"'], ['punct', '(']))?.message).toBe('`(` at output byte 8 is never closed');
	});
});
