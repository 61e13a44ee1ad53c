import { realpathSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MacroHostErrorCodes } from '../../dist/protocol/errors.js';
import {
	CALL_SITE,
	EMPTY,
	fixture,
	IDENT,
	initialize,
	LITERAL,
	PUNCT,
	requestError,
	serveInProcess,
	tokens,
	type InProcessSession,
} from './harness.js';

const INVALID_PARAMS = -32602;
const BASIC = realpathSync(fixture('libc_basic.so'));
const EDGE = realpathSync(fixture('libc_edge.so'));

/** `a , 1` as in `wrap!(a, 1)` at byte 5 of the source. */
const ARGS = tokens([IDENT, 'a', 5], [PUNCT, ',', 6], [LITERAL, '1', 8]);
/** `struct Foo { x: u32 }` */
const ITEM = tokens([IDENT, 'struct', 20], [IDENT, 'Foo', 27], [PUNCT, '{', 31], [IDENT, 'x', 33], [PUNCT, ':', 34], [IDENT, 'u32', 36], [PUNCT, '}', 40]);

let s: InProcessSession;
afterEach(() => s.dispose());

describe('initialize', () => {
	beforeEach(() => {
		s = serveInProcess();
	});

	it('answers with versions, server info and capabilities', async () => {
		const result = await initialize(s.client);
		expect(result).toEqual({
			protocolVersion: 1,
			abiVersion: 1,
			serverInfo: { name: 'macro-host', version: expect.any(String) },
			pid: process.pid,
			capabilities: { encoding: 'json', sandboxes: ['native', 'wasm'], postProcess: true, bulk: false, batch: true, expandSource: true },
		});
	});

	it('refuses another protocol version with VersionMismatch', async () => {
		const error = await requestError(s.client, 'initialize', { protocolVersion: 2 });
		expect(error).toEqual({
			code: MacroHostErrorCodes.VersionMismatch,
			message: 'protocol version mismatch: this host speaks version 1, the client asked for 2',
			data: { expected: 1, actual: 2 },
		});
		// The session is still usable with the right version.
		await initialize(s.client);
	});

	it('refuses a protocol version that is not a number, and a missing one', async () => {
		expect(await requestError(s.client, 'initialize', { protocolVersion: 'one' })).toEqual({
			code: MacroHostErrorCodes.VersionMismatch,
			message: 'protocol version mismatch: this host speaks version 1, the client asked for "one"',
			data: { expected: 1, actual: 'one' },
		});
		expect(await requestError(s.client, 'initialize', {})).toEqual({
			code: MacroHostErrorCodes.VersionMismatch,
			message: 'protocol version mismatch: this host speaks version 1, the client asked for none',
			data: { expected: 1 },
		});
	});

	it('refuses work before initialize', async () => {
		const error = await requestError(s.client, 'listMacros');
		expect(error).toEqual({
			code: MacroHostErrorCodes.NotInitialized,
			message: 'listMacros: the host is not initialized; send initialize first',
		});
	});
});

describe('loading and listing', () => {
	beforeEach(async () => {
		s = serveInProcess();
		await initialize(s.client);
	});

	it('loads a library and lists it', async () => {
		const info = (await s.client.sendRequest('loadLibrary', { path: fixture('libc_basic.so') })) as { library: string; macros: unknown[] };
		expect(info.library).toBe(BASIC);
		expect(info.macros).toHaveLength(14);
		const list = (await s.client.sendRequest('listMacros')) as { libraries: Array<{ library: string }> };
		expect(list.libraries.map((l) => l.library)).toEqual([BASIC]);
		// Loading again returns the same library and does not list it twice.
		await s.client.sendRequest('loadLibrary', { path: fixture('libc_basic.so') });
		await s.client.sendRequest('loadLibrary', { path: fixture('libc_edge.so') });
		const again = (await s.client.sendRequest('listMacros')) as { libraries: Array<{ library: string }> };
		expect(again.libraries.map((l) => l.library)).toEqual([BASIC, EDGE]);
	});

	it('answers load failures with their code, message and data', async () => {
		const missing = fixture('libc_missing_expand.so');
		expect(await requestError(s.client, 'loadLibrary', { path: missing })).toEqual({
			code: MacroHostErrorCodes.LibraryLoadFailed,
			message: `cannot load macro library ${missing}: it does not export the required symbol mh_expand`,
			data: { path: missing, reason: 'missingSymbol', symbol: 'mh_expand' },
		});
		const v2 = fixture('libc_abi_v2.so');
		expect(await requestError(s.client, 'loadLibrary', { path: v2 })).toEqual({
			code: MacroHostErrorCodes.AbiMismatch,
			message: `cannot load macro library ${v2}: it was built for macro ABI version 2, but this host speaks version 1`,
			data: { path: v2, reason: 'abiMismatch', actualAbiVersion: 2, expectedAbiVersion: 1 },
		});
		const text = fixture('not-a-library.so');
		expect(await requestError(s.client, 'loadLibrary', { path: text })).toEqual({
			code: MacroHostErrorCodes.LibraryLoadFailed,
			message: `cannot load macro library ${text}: not a loadable shared library (invalid ELF header)`,
			data: { path: text, reason: 'notALibrary' },
		});
		const none = fixture('nope.so');
		expect(await requestError(s.client, 'loadLibrary', { path: none })).toEqual({
			code: MacroHostErrorCodes.LibraryLoadFailed,
			message: `cannot load macro library ${none}: the file does not exist`,
			data: { path: none, reason: 'notFound' },
		});
		expect(((await s.client.sendRequest('listMacros')) as { libraries: unknown[] }).libraries).toEqual([]);
	});
});

describe('expansions', () => {
	beforeEach(async () => {
		s = serveInProcess();
		await initialize(s.client);
		await s.client.sendRequest('loadLibrary', { path: fixture('libc_basic.so') });
	});

	const inline = (name: string, args = ARGS, extra: object = {}) =>
		s.client.sendRequest('expandInline', { name, args, callSite: { start: 0, end: 10 }, ...extra });

	it('noop leaves the call', async () => {
		expect(await inline('noop')).toEqual({ outcome: 'leave', diagnostics: [] });
	});

	it('wrap replaces with generated parens around the arguments, which keep their spans', async () => {
		expect(await inline('wrap')).toEqual({
			outcome: 'replace',
			diagnostics: [],
			tokens: {
				text: '(a,1)',
				records: [
					PUNCT, 1, 0, 1, CALL_SITE, CALL_SITE,
					IDENT, 0, 1, 1, 5, 6,
					PUNCT, 0, 2, 1, 6, 7,
					LITERAL, 0, 3, 1, 8, 9,
					PUNCT, 0, 4, 1, CALL_SITE, CALL_SITE,
				],
			},
		});
	});

	it('wrap handles multi-byte text (offsets are UTF-8 bytes)', async () => {
		const args = tokens([LITERAL, '"héllo"', 5], [PUNCT, ',', 13], [IDENT, 'ñ', 15]);
		const result = (await inline('wrap', args)) as { tokens: { text: string; records: number[] } };
		expect(result.tokens.text).toBe('("héllo",ñ)');
		expect(result.tokens.records.slice(6, 12)).toEqual([LITERAL, 0, 1, 8, 5, 13]);
		expect(result.tokens.records.slice(18, 24)).toEqual([IDENT, 0, 10, 2, 15, 17]);
	});

	it('remove removes the call', async () => {
		expect(await inline('remove')).toEqual({ outcome: 'remove', diagnostics: [] });
	});

	it('bail gives up with both diagnostics; a call-site span becomes an absent span', async () => {
		expect(await inline('bail')).toEqual({
			outcome: 'bail',
			diagnostics: [
				{ severity: 'error', message: 'bail: refused to expand', span: { start: 5, end: 6 } },
				{ severity: 'warning', message: 'bail: second thought' },
			],
		});
		expect(await inline('bail', EMPTY)).toEqual({
			outcome: 'bail',
			diagnostics: [
				{ severity: 'error', message: 'bail: refused to expand' },
				{ severity: 'warning', message: 'bail: second thought' },
			],
		});
	});

	it('aux leaves the call and attaches aux data', async () => {
		expect(await inline('aux')).toEqual({ outcome: 'leave', diagnostics: [], auxData: { tokens: 3 } });
	});

	it('an attribute replaces the item', async () => {
		const result = await s.client.sendRequest('expandAttribute', { name: 'tag', args: EMPTY, item: ITEM });
		expect(result).toEqual({
			outcome: 'replace',
			diagnostics: [],
			tokens: {
				text: '#[tagged]structFoo{x:u32}',
				records: [
					PUNCT, 1, 0, 1, CALL_SITE, CALL_SITE,
					PUNCT, 1, 1, 1, CALL_SITE, CALL_SITE,
					IDENT, 1, 2, 6, CALL_SITE, CALL_SITE,
					PUNCT, 0, 8, 1, CALL_SITE, CALL_SITE,
					...ITEM.records.map((n, i) => (i % 6 === 2 ? n + 9 : n)),
				],
			},
		});
	});

	it('two derives: outputs concatenated in order with shifted text offsets', async () => {
		const result = await s.client.sendRequest('expandDerive', { derives: ['Named', 'Hello'], item: ITEM });
		const g = (kind: number, flags: number, off: number, len: number) => [kind, flags, off, len, CALL_SITE, CALL_SITE];
		expect(result).toEqual({
			outcome: 'replace',
			diagnostics: [],
			tokens: {
				text: 'implNamedforFoo{}' + 'fnhello_Foo(){}',
				records: [
					...g(IDENT, 0, 0, 4), ...g(IDENT, 0, 4, 5), ...g(IDENT, 0, 9, 3), ...g(IDENT, 0, 12, 3),
					...g(PUNCT, 1, 15, 1), ...g(PUNCT, 0, 16, 1),
					...g(IDENT, 0, 17, 2), ...g(IDENT, 1, 19, 9), ...g(PUNCT, 1, 28, 1), ...g(PUNCT, 0, 29, 1),
					...g(PUNCT, 1, 30, 1), ...g(PUNCT, 0, 31, 1),
				],
			},
		});
	});

	it('derives that all bail give outcome bail with every diagnostic', async () => {
		const notAType = tokens([IDENT, 'fn', 0], [IDENT, 'f', 3]);
		expect(await s.client.sendRequest('expandDerive', { derives: ['Named', 'Hello'], item: notAType })).toEqual({
			outcome: 'bail',
			diagnostics: [
				{ severity: 'error', message: 'Named: expected a struct or enum' },
				{ severity: 'error', message: 'Hello: expected a struct or enum' },
			],
		});
	});

	it('postProcess calls mh_post_process with the aux data array', async () => {
		const aux = (await inline('aux')) as { auxData: unknown };
		const result = await s.client.sendRequest('postProcess', { library: BASIC, auxData: [aux.auxData, { tokens: 2 }, [1, [2, 3]]] });
		expect(result).toEqual({ diagnostics: [{ severity: 'note', message: 'post-process saw 3 aux values' }] });
		expect(await s.client.sendRequest('postProcess', { library: BASIC, auxData: [] })).toEqual({
			diagnostics: [{ severity: 'note', message: 'post-process saw 0 aux values' }],
		});
	});

	it('postProcess on a library without mh_post_process returns no diagnostics', async () => {
		await s.client.sendRequest('loadLibrary', { path: fixture('libc_edge.so') });
		expect(await s.client.sendRequest('postProcess', { library: EDGE, auxData: [1] })).toEqual({ diagnostics: [] });
	});
});

describe('macro lookup errors', () => {
	beforeEach(async () => {
		s = serveInProcess();
		await initialize(s.client);
	});

	it('unknown macro with nothing loaded', async () => {
		expect(await requestError(s.client, 'expandInline', { name: 'wrap', args: EMPTY })).toEqual({
			code: MacroHostErrorCodes.UnknownMacro,
			message: 'no loaded library provides an inline macro named wrap (no library is loaded)',
			data: { name: 'wrap', kind: 'inline' },
		});
	});

	it('unknown macro, with a hint when the name exists as another kind', async () => {
		await s.client.sendRequest('loadLibrary', { path: fixture('libc_basic.so') });
		expect(await requestError(s.client, 'expandInline', { name: 'nope', args: EMPTY })).toEqual({
			code: MacroHostErrorCodes.UnknownMacro,
			message: 'no loaded library provides an inline macro named nope',
			data: { name: 'nope', kind: 'inline' },
		});
		expect(await requestError(s.client, 'expandInline', { name: 'tag', args: EMPTY, library: BASIC })).toEqual({
			code: MacroHostErrorCodes.UnknownMacro,
			message: `the library ${BASIC} does not provide an inline macro named tag (${BASIC} provides tag as an attribute macro)`,
			data: { name: 'tag', kind: 'inline', library: BASIC },
		});
		expect(await requestError(s.client, 'expandDerive', { derives: ['Named', 'Missing'], item: ITEM })).toEqual({
			code: MacroHostErrorCodes.UnknownMacro,
			message: 'no loaded library provides a derive macro named Missing',
			data: { name: 'Missing', kind: 'derive' },
		});
	});

	it('a name two libraries provide is ambiguous until `library` picks one', async () => {
		await s.client.sendRequest('loadLibrary', { path: fixture('libc_basic.so') });
		await s.client.sendRequest('loadLibrary', { path: fixture('libc_edge.so') });
		expect(await requestError(s.client, 'expandInline', { name: 'noop', args: EMPTY })).toEqual({
			code: MacroHostErrorCodes.AmbiguousMacro,
			message: `the inline macro noop is provided by 2 libraries: ${BASIC} and ${EDGE}; pass "library" to choose one`,
			data: { name: 'noop', libraries: [BASIC, EDGE] },
		});
		expect(await s.client.sendRequest('expandInline', { name: 'noop', args: EMPTY, library: EDGE })).toEqual({
			outcome: 'leave',
			diagnostics: [],
		});
	});

	it('an unknown library id', async () => {
		await s.client.sendRequest('loadLibrary', { path: fixture('libc_basic.so') });
		expect(await requestError(s.client, 'expandInline', { name: 'noop', args: EMPTY, library: '/nowhere.so' })).toEqual({
			code: MacroHostErrorCodes.UnknownLibrary,
			message: `no loaded library has the id /nowhere.so (loaded: ${BASIC})`,
			data: { library: '/nowhere.so' },
		});
		expect(await requestError(s.client, 'postProcess', { library: '/nowhere.so', auxData: [] })).toEqual({
			code: MacroHostErrorCodes.UnknownLibrary,
			message: `no loaded library has the id /nowhere.so (loaded: ${BASIC})`,
			data: { library: '/nowhere.so' },
		});
	});
});

describe('bad params are answered with InvalidParams naming the field, and the host keeps serving', () => {
	beforeEach(async () => {
		s = serveInProcess();
		await initialize(s.client);
		await s.client.sendRequest('loadLibrary', { path: fixture('libc_basic.so') });
	});

	const cases: Array<[string, string, unknown, string]> = [
		['params missing', 'expandInline', undefined, 'Request expandInline defines 1 params but received none.'],
		['params by position', 'expandInline', ['wrap'], 'Request expandInline defines parameters by name but received parameters by position'],
		['name missing', 'expandInline', { args: EMPTY }, 'expandInline: params.name must be a non-empty string, got nothing (the field is missing)'],
		['name a number', 'expandInline', { name: 5, args: EMPTY }, 'expandInline: params.name must be a non-empty string, got number 5'],
		['args missing', 'expandInline', { name: 'wrap' }, 'expandInline: params.args must be a token stream {text, records}, got nothing (the field is missing)'],
		['text not a string', 'expandInline', { name: 'wrap', args: { text: 1, records: [] } }, 'expandInline: params.args.text must be a string, got number 1'],
		['records not an array', 'expandInline', { name: 'wrap', args: { text: '', records: 'abc' } }, 'expandInline: params.args.records must be an array of u32 numbers (or a Uint32Array in msgpack), got string "abc"'],
		['records length', 'expandInline', { name: 'wrap', args: { text: 'a', records: [0, 0, 0, 1, 0, 1, 0] } }, 'expandInline: params.args: records has 7 numbers, not a multiple of 6'],
		['negative field', 'expandInline', { name: 'wrap', args: { text: 'a', records: [0, 0, 0, 1, -1, 1] } }, 'expandInline: params.args: token 0 field 4 is -1, not a u32'],
		['text past the end', 'expandInline', { name: 'wrap', args: { text: 'é', records: [0, 0, 0, 3, 0, 1] } }, "expandInline: params.args: token 0 text ends at byte 3, past the text's 2 bytes"],
		['unknown kind', 'expandInline', { name: 'wrap', args: { text: 'a', records: [7, 0, 0, 1, 0, 1] } }, 'expandInline: params.args: token 0 has unknown kind 7'],
		['callSite reversed', 'expandInline', { name: 'wrap', args: EMPTY, callSite: { start: 9, end: 2 } }, 'expandInline: params.callSite ends (2) before it starts (9)'],
		['callSite.start a string', 'expandInline', { name: 'wrap', args: EMPTY, callSite: { start: '0', end: 2 } }, 'expandInline: params.callSite.start must be an integer from 0 to 4294967295, got string "0"'],
		['library empty', 'expandInline', { name: 'wrap', args: EMPTY, library: '' }, 'expandInline: params.library must be a non-empty string, got string ""'],
		['item missing', 'expandAttribute', { name: 'tag', args: EMPTY }, 'expandAttribute: params.item must be a token stream {text, records}, got nothing (the field is missing)'],
		['derives empty', 'expandDerive', { derives: [], item: ITEM }, 'expandDerive: params.derives must be a non-empty array of derive names, got an array of 0'],
		['derive name not a string', 'expandDerive', { derives: ['Named', null], item: ITEM }, 'expandDerive: params.derives[1] must be a non-empty string, got null'],
		['auxData not an array', 'postProcess', { library: BASIC, auxData: {} }, 'postProcess: params.auxData must be an array of aux data values, got an object'],
		['path missing', 'loadLibrary', {}, 'loadLibrary: params.path must be a non-empty string, got nothing (the field is missing)'],
	];

	it.each(cases)('%s', async (_label, method, params, message) => {
		expect(await requestError(s.client, method, params)).toEqual({ code: INVALID_PARAMS, message });
		expect(await s.client.sendRequest('expandInline', { name: 'noop', args: ARGS })).toEqual({ outcome: 'leave', diagnostics: [] });
	});
});

describe('results the host cannot trust become bail with a bad-result diagnostic', () => {
	beforeEach(async () => {
		s = serveInProcess();
		await initialize(s.client);
		await s.client.sendRequest('loadLibrary', { path: fixture('libc_edge.so') });
	});

	const who = (name: string) => `bad result: the inline macro ${name} (${EDGE})`;
	const cases: Array<[string, string]> = [
		['edge_null_result', `${who('edge_null_result')} returned no result (NULL)`],
		['edge_bad_utf8', `${who('edge_bad_utf8')} output text is not valid UTF-8`],
		['edge_bad_records', `${who('edge_bad_records')} output: token 0 text ends at byte 6, past the text's 2 bytes`],
		['edge_bad_outcome', `${who('edge_bad_outcome')} returned unknown outcome 9`],
		['edge_bad_severity', `${who('edge_bad_severity')} returned diagnostic 0 with unknown severity 7`],
	];

	it.each(cases)('%s', async (name, message) => {
		expect(await s.client.sendRequest('expandInline', { name, args: EMPTY })).toEqual({
			outcome: 'bail',
			diagnostics: [{ severity: 'error', message, code: 'bad-result' }],
		});
	});

	it('edge_bad_aux', async () => {
		let parseMessage = '';
		try {
			JSON.parse('{not json');
		} catch (error) {
			parseMessage = (error as Error).message;
		}
		expect(await s.client.sendRequest('expandInline', { name: 'edge_bad_aux', args: EMPTY })).toEqual({
			outcome: 'bail',
			diagnostics: [
				{ severity: 'error', message: `${who('edge_bad_aux')} returned aux data that is not valid JSON (${parseMessage})`, code: 'bad-result' },
			],
		});
	});
});

describe('shutdown and exit', () => {
	beforeEach(async () => {
		s = serveInProcess();
		await initialize(s.client);
	});

	it('after shutdown, work is refused and exit gives code 0', async () => {
		expect(await s.client.sendRequest('shutdown')).toBeNull();
		expect(await requestError(s.client, 'listMacros')).toEqual({
			code: MacroHostErrorCodes.NotInitialized,
			message: 'listMacros: the host is shutting down (shutdown was received); only exit is accepted',
		});
		await s.client.sendNotification('exit');
		expect(await s.session.exited).toBe(0);
	});

	it('exit without shutdown gives code 1', async () => {
		await s.client.sendNotification('exit');
		expect(await s.session.exited).toBe(1);
	});

	it('an unknown method is answered with MethodNotFound', async () => {
		const error = await requestError(s.client, 'expandEverything', {});
		expect(error.code).toBe(-32601);
		expect(error.message).toBe('Unhandled method expandEverything');
	});
});
