/**
 * The wire types of Scarb's proc-macro server: the JSON shapes Scarb's own tests pin (token streams, code mappings),
 * read by the validators, and every kind of wrong value named by its path.
 */
import { describe, expect, it } from 'vitest';
import {
	checkCodeMapping,
	checkDiagnostic,
	checkExpandAttributeParams,
	checkExpandDeriveParams,
	checkExpandInlineParams,
	checkProcMacroResult,
	checkTokenStreamV2,
	DefinedMacrosMethod,
	isMethodName,
	METHOD_NAMES,
	parseRequestLine,
} from '../../dist/protocol/proc-macro-server.js';

const scope = { workspace: { manifest_path: '/w/Scarb.toml' }, component: { name: 'hello', discriminator: 'hello 1.0.0 (path+file:///w/Scarb.toml)' } };
// The shape of cairo-lang-macro's `can_serde_token_stream` test.
const stream = {
	tokens: [
		{ Ident: { content: 'first', span: { start: 0, end: 1 } } },
		{ Ident: { content: 'second', span: { start: 2, end: 3 } } },
	],
	metadata: { original_file_path: null, file_id: null, edition: null },
};

describe('request lines', () => {
	it('reads an envelope {id, method, value}', () => {
		expect(parseRequestLine('{"id":7,"method":"definedMacros","value":{"workspace":{"manifest_path":"/w/Scarb.toml"}}}')).toEqual({
			kind: 'request',
			request: { id: 7, method: 'definedMacros', value: { workspace: { manifest_path: '/w/Scarb.toml' } } },
		});
	});

	it.each([
		['{"id":1,', undefined, /^the line is not JSON \(.*\): "\{\\"id\\":1,"$/],
		['null', undefined, /^a request must be a JSON object, got null/],
		['{"id":"1","method":"m","value":1}', undefined, /^id: expected a request id \(a whole number from 0\), got string "1"/],
		['{"id":1.5,"method":"m","value":1}', undefined, /^id: expected a request id/],
		['{"id":9007199254740993,"method":"m","value":1}', undefined, /^id: 9007199254740992 is larger than 2\^53 - 1/],
		['{"id":3,"value":1}', 3, /^method: expected a string, got nothing \(the field is missing\)$/],
		['{"id":3,"method":"m"}', 3, /^value: missing/],
	])('refuses %s, naming what is wrong', (line, id, message) => {
		const parsed = parseRequestLine(line);
		expect(parsed.kind).toBe('invalid');
		if (parsed.kind !== 'invalid') return;
		expect(parsed.id).toBe(id);
		expect(parsed.message).toMatch(message);
	});

	it('knows the four methods', () => {
		expect(METHOD_NAMES).toEqual(['definedMacros', 'expandAttribute', 'expandDerive', 'expandInline']);
		expect(isMethodName('expandInline')).toBe(true);
		expect(isMethodName('expand_inline')).toBe(false);
		expect(DefinedMacrosMethod.validateParams({ workspace: { manifest_path: '' } })).toBe('value.workspace.manifest_path: expected the path of a Scarb.toml, got an empty string');
	});
});

describe('params', () => {
	it('accept the documented shapes (a missing Option reads as null, as serde reads it)', () => {
		expect(checkExpandInlineParams({ context: scope, name: 'some', args: stream, call_site: { start: 0, end: 9 } }, 'value')).toBeUndefined();
		expect(checkExpandDeriveParams({ context: scope, derives: ['a', 'b'], item: stream, call_site: { start: 0, end: 9 } }, 'value')).toBeUndefined();
		expect(checkExpandAttributeParams({ context: scope, attr: 'x', args: stream, item: stream, adapted_call_site: { start: 0, end: 9 } }, 'value')).toBeUndefined();
		expect(checkTokenStreamV2({ tokens: [], metadata: {} }, 's')).toBeUndefined();
		expect(checkExpandInlineParams({ context: { ...scope, component: { name: 'core' } }, name: 'n', args: stream, call_site: { start: 0, end: 0 } }, 'value')).toBeUndefined();
	});

	it.each([
		[{ context: scope, name: 'n', args: stream }, 'value.call_site: expected an object, got nothing (the field is missing)'],
		[{ context: { workspace: {}, component: {} }, name: 'n', args: stream, call_site: { start: 0, end: 1 } }, 'value.context.workspace.manifest_path: expected a string, got nothing (the field is missing)'],
		[{ context: { ...scope, component: { name: 'x', discriminator: 5 } }, name: 'n', args: stream, call_site: { start: 0, end: 1 } }, 'value.context.component.discriminator: expected a string, got number 5'],
		[{ context: scope, name: 'n', args: { tokens: [{ Punct: {} }], metadata: {} }, call_site: { start: 0, end: 1 } }, 'value.args.tokens[0]: expected a token tree {"Ident":{"content":…,"span":…}}, got an object'],
		[{ context: scope, name: 'n', args: { tokens: [{ Ident: { content: 'a', span: { start: 0, end: 2 ** 32 } } }], metadata: {} }, call_site: { start: 0, end: 1 } }, 'value.args.tokens[0].Ident.span.end: expected a u32 (a whole number from 0 to 4294967295), got number 4294967296'],
		[{ context: scope, name: 'n', args: { tokens: [] }, call_site: { start: 0, end: 1 } }, 'value.args.metadata: expected an object, got nothing (the field is missing)'],
		[{ context: scope, name: 'n', args: { tokens: [], metadata: { edition: 2024 } }, call_site: { start: 0, end: 1 } }, 'value.args.metadata.edition: expected a string, got number 2024'],
		[[], 'value: expected an object, got an array of 0'],
	])('name the first wrong field: %#', (params, message) => {
		expect(checkExpandInlineParams(params, 'value')).toBe(message);
	});
});

describe('results', () => {
	const result = {
		token_stream: { value: 'fn f() {}', metadata: { original_file_path: null, file_id: null } },
		diagnostics: [{ message: 'm', severity: 'Warning', span: null }],
		// The shape of Scarb's expand_attribute test: Span, then CallSite.
		code_mappings: [
			{ span: { start: 0, end: 22 }, origin: { Span: { start: 0, end: 22 } } },
			{ span: { start: 0, end: 22 }, origin: { CallSite: { start: 0, end: 22 } } },
		],
		fingerprint: 2 ** 52,
	};

	it('accept the documented shape, with or without code mappings', () => {
		expect(checkProcMacroResult(result, 'result')).toBeUndefined();
		expect(checkProcMacroResult({ ...result, code_mappings: null }, 'result')).toBeUndefined();
		expect(checkCodeMapping({ span: { start: 1, end: 2 }, origin: { Start: 4 } }, 'm')).toBeUndefined();
	});

	it('name what is wrong', () => {
		expect(checkDiagnostic({ message: 'm', severity: 'Note', span: null }, 'd')).toBe('d.severity: expected "Error" or "Warning", got string "Note"');
		expect(checkCodeMapping({ span: { start: 1, end: 2 }, origin: { Start: 1, Span: {} } }, 'm')).toBe('m.origin: expected one of {"Start":…}, {"Span":…}, {"CallSite":…}, got an object');
		expect(checkCodeMapping({ span: { start: 1, end: 2 }, origin: { Elsewhere: 1 } }, 'm')).toBe('m.origin: unknown variant "Elsewhere", expected Start, Span or CallSite');
		expect(checkProcMacroResult({ ...result, fingerprint: -1 }, 'r')).toBe('r.fingerprint: expected a u64, got number -1');
		expect(checkProcMacroResult({ ...result, token_stream: { value: 3 } }, 'r')).toBe('r.token_stream.value: expected a string, got number 3');
	});
});
