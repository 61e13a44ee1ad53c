/**
 * The pure pieces of the proc-macro server: v2 streams read into our flat streams (spans inside each v2 token's
 * span), code mappings as Scarb forms them (checked against the mappings Scarb's own server tests expect), our
 * output printed as the v1 string, package ids and derive names as Scarb writes them.
 */
import { describe, expect, it } from 'vitest';
import { generateCodeMappings } from '../../dist/client/proc-macro-server/code-mappings.js';
import { flattenTokenStreamV2, innerArguments } from '../../dist/client/proc-macro-server/input-stream.js';
import { deriveExpansionName, serializedPackageId } from '../../dist/client/proc-macro-server/package-id.js';
import { codeFromTokens, toWireDiagnostics } from '../../dist/client/proc-macro-server/result-conversion.js';
import { printTokens } from '../../dist/tokens/token-printer.js';
import { tokenize } from '../../dist/tokens/tokenizer.js';
import { tokenText } from '../../dist/tokens/token-text.js';
import { RECORD_WIDTH, RecordField, SPAN_CALL_SITE, TokenFlags, tokenCount } from '../../dist/protocol/token-stream.js';

const metadata = { original_file_path: null, file_id: null, edition: null };
const token = (content: string, start: number, end: number) => ({ Ident: { content, span: { start, end } } });

/** [text, spanStart, spanEnd, joint] of every token. */
function describeTokens(stream: ReturnType<typeof flattenTokenStreamV2>['stream']): Array<[string, number, number, boolean]> {
	const r = stream.records;
	return Array.from({ length: tokenCount(stream) }, (_, i) => [
		tokenText(stream, i),
		r[i * RECORD_WIDTH + RecordField.spanStart],
		r[i * RECORD_WIDTH + RecordField.spanEnd],
		(r[i * RECORD_WIDTH + RecordField.flags] & TokenFlags.joint) !== 0,
	]);
}

describe('flattenTokenStreamV2', () => {
	it('reads lexer tokens and whitespace tokens as Scarb sends them; spans are the v2 spans', () => {
		const input = { tokens: [token('fn', 10, 12), token(' ', 12, 13), token('f', 13, 14), token('(', 14, 15), token(')', 15, 16)], metadata };
		const { stream, text, errors } = flattenTokenStreamV2(input);
		expect(text).toBe('fn f()');
		expect(errors).toEqual([]);
		expect(describeTokens(stream)).toEqual([
			['fn', 10, 12, false],
			['f', 13, 14, true],
			['(', 14, 15, true],
			[')', 15, 16, false],
		]);
	});

	it('splits a v2 token holding several lexer tokens, each span inside the v2 span and clamped to its end', () => {
		// One v2 token for the whole code, with a span shorter than its text (as a generated token may have).
		const { stream } = flattenTokenStreamV2({ tokens: [token('a + bc', 100, 103)], metadata });
		expect(describeTokens(stream)).toEqual([
			['a', 100, 101, false],
			['+', 102, 103, false],
			['bc', 103, 103, false],
		]);
	});

	it('gives a token that straddles two v2 tokens the start of the first and the end of the second', () => {
		const { stream } = flattenTokenStreamV2({ tokens: [token('"ab', 0, 3), token('c"', 40, 42)], metadata });
		expect(describeTokens(stream)).toEqual([['"abc"', 0, 42, false]]);
	});

	it('counts spans in UTF-8 bytes and reports what it cannot read in v2 coordinates', () => {
		const { stream, errors } = flattenTokenStreamV2({ tokens: [token('"é"', 5, 9), token(' ', 9, 10), token('"x', 10, 12)], metadata });
		expect(describeTokens(stream)[0]).toEqual(['"é"', 5, 9, false]);
		expect(errors).toEqual([{ message: 'unterminated string literal: missing closing `"`', start: 10, end: 12 }]);
	});

	it('reads an empty stream', () => {
		expect(tokenCount(flattenTokenStreamV2({ tokens: [], metadata }).stream)).toBe(0);
	});
});

describe('innerArguments', () => {
	/** The argument list `code` as the language server sends it, one v2 token per character run. */
	const args = (code: string) => {
		const tokens = [...code.matchAll(/\s+|\w+|[^\s\w]/g)].map((m) => token(m[0], 20 + m.index!, 20 + m.index! + m[0].length));
		return innerArguments(flattenTokenStreamV2({ tokens, metadata }));
	};

	it('drops the delimiters around the whole list and keeps the spans of what is inside', () => {
		expect(describeTokens(args('(a, b)').stream)).toEqual([
			['a', 21, 22, true],
			[',', 22, 23, false],
			['b', 24, 25, true],
		]);
		expect(describeTokens(args('[x]').stream).map((t) => t[0])).toEqual(['x']);
		expect(describeTokens(args('{ (y) }').stream).map((t) => t[0])).toEqual(['(', 'y', ')']);
		expect(describeTokens(args('()').stream)).toEqual([]);
	});

	it('keeps a list whose first delimiter closes before its end, an unclosed one, and no list at all', () => {
		expect(describeTokens(args('(a) + (b)').stream).map((t) => t[0])).toEqual(['(', 'a', ')', '+', '(', 'b', ')']);
		expect(describeTokens(args('(a]').stream).map((t) => t[0])).toEqual(['(', 'a', ']']);
		expect(describeTokens(args('a').stream).map((t) => t[0])).toEqual(['a']);
		expect(describeTokens(args('').stream)).toEqual([]);
	});
});

describe('generateCodeMappings', () => {
	const pieces = (list: Array<[number, number, number]>) => ({
		widths: Uint32Array.from(list.map((p) => p[0])),
		starts: Uint32Array.from(list.map((p) => p[1])),
		ends: Uint32Array.from(list.map((p) => p[2])),
	});

	it("gives Scarb's expand_attribute test mappings: one piece from the call site", () => {
		expect(generateCodeMappings(pieces([[22, 0, 22]]), { start: 0, end: 22 })).toEqual([
			{ span: { start: 0, end: 22 }, origin: { Span: { start: 0, end: 22 } } },
			{ span: { start: 0, end: 22 }, origin: { CallSite: { start: 0, end: 22 } } },
		]);
	});

	it("gives Scarb's expand_derive test mappings: a zero-width mapping when the origin is not the call site", () => {
		expect(generateCodeMappings(pieces([[29, 0, 29]]), { start: 0, end: 19 })).toEqual([
			{ span: { start: 0, end: 0 }, origin: { Span: { start: 0, end: 0 } } },
			{ span: { start: 0, end: 29 }, origin: { Span: { start: 0, end: 29 } } },
			{ span: { start: 0, end: 29 }, origin: { CallSite: { start: 0, end: 19 } } },
		]);
	});

	it('shifts every mapping by the offset of a later derive, and maps empty output to an empty call-site span', () => {
		expect(generateCodeMappings(pieces([[3, 5, 8]]), { start: 0, end: 9 }, 10)).toEqual([
			{ span: { start: 10, end: 10 }, origin: { Span: { start: 5, end: 5 } } },
			{ span: { start: 10, end: 13 }, origin: { Span: { start: 5, end: 8 } } },
			{ span: { start: 10, end: 13 }, origin: { CallSite: { start: 0, end: 9 } } },
		]);
		expect(generateCodeMappings(pieces([]), { start: 0, end: 9 }, 4)).toEqual([{ span: { start: 4, end: 4 }, origin: { CallSite: { start: 0, end: 9 } } }]);
	});
});

describe('codeFromTokens', () => {
	it('prints what printTokens prints on one line, each token with its space a piece; generated tokens map to the call site', () => {
		const { stream } = tokenize('impl Named for X {}', { spanBase: 50 });
		stream.records[RecordField.spanStart] = SPAN_CALL_SITE;
		stream.records[RecordField.spanEnd] = SPAN_CALL_SITE;
		const code = codeFromTokens(stream, { start: 1, end: 7 });
		expect(code.text).toBe(printTokens(stream, { layout: false }));
		expect(Array.from(code.pieces.widths)).toEqual([5, 6, 4, 2, 1, 1]);
		expect(Array.from(code.pieces.starts)).toEqual([1, 55, 61, 65, 67, 68]);
		expect(Array.from(code.pieces.ends)).toEqual([7, 60, 64, 66, 68, 69]);
	});
});

describe('toWireDiagnostics', () => {
	it('maps severities (a note becomes a warning saying so) and a missing span to null', () => {
		expect(
			toWireDiagnostics([
				{ severity: 'error', message: 'e', span: { start: 1, end: 2 } },
				{ severity: 'warning', message: 'w' },
				{ severity: 'note', message: 'n', code: 'panic' },
			]),
		).toEqual([
			{ message: 'e', severity: 'Error', span: { start: 1, end: 2 } },
			{ message: 'w', severity: 'Warning', span: null },
			{ message: 'note: n', severity: 'Warning', span: null },
		]);
	});
});

describe('package ids and derive names', () => {
	it('serializes a path package as Scarb does', () => {
		expect(serializedPackageId('hello', '1.0.0', '/home/me/my hello/Scarb.toml')).toBe('hello 1.0.0 (path+file:///home/me/my%20hello/Scarb.toml)');
	});

	it.each([
		['ToValue', 'to_value'],
		['Named', 'named'],
		['HTTPServer', 'http_server'],
		['Serde2Json', 'serde2_json'],
		['already_snake', 'already_snake'],
	])('%s derives as %s', (name, expansion) => {
		expect(deriveExpansionName(name)).toBe(expansion);
	});
});
