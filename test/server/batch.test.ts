/**
 * expandBatch through a real host process: every call of a batch is answered as it would be alone
 * (same results, same errors), in order, with records as each encoding carries them; a refused call
 * answers its own error and the batch goes on; a malformed batch is refused as a whole.
 */
import { describe, expect, it } from 'vitest';
import {
	EMPTY,
	fixture,
	hostPerTest,
	IDENT,
	LITERAL,
	PUNCT,
	requestError,
	tokens,
	type ConnectedHost,
} from './harness.js';

const ARGS = tokens([IDENT, 'a', 5], [PUNCT, ',', 6], [LITERAL, '1', 8]);
const ITEM = tokens([IDENT, 'enum', 0], [IDENT, 'Color', 5], [PUNCT, '{', 11], [IDENT, 'Red', 13], [PUNCT, '}', 17]);
const INVALID_PARAMS = -32602;

const hosts = hostPerTest();
const startHost = (encoding: 'json' | 'msgpack'): Promise<ConnectedHost> => hosts.start(encoding, 'batch', fixture('libc_basic.so'));

/** The calls of the batch, each also sent alone for comparison. */
const CALLS = [
	{ method: 'expandInline', params: { name: 'wrap', args: ARGS } },
	{ method: 'expandInline', params: { name: 'nope', args: EMPTY } },
	{ method: 'expandAttribute', params: { name: 'tag', args: EMPTY, item: ITEM } },
	{ method: 'expandInline', params: { name: 'wrap', args: { text: 'a', records: [7, 0, 0, 1, 0, 1] } } },
	{ method: 'expandDerive', params: { derives: ['Named', 'Hello'], item: ITEM } },
	{ method: 'expandInline', params: { name: 'aux', args: ARGS } },
];

describe.each(['json', 'msgpack'] as const)('expandBatch over %s', (encoding) => {
	it('answers every call in order, each as it would be answered alone', async () => {
		const host = await startHost(encoding);
		const alone = await Promise.all(
			CALLS.map((call) =>
				host.connection.sendRequest(call.method, call.params).then(
					(result) => ({ result }),
					(error: { code: number; message: string; data?: unknown }) => ({ error: { code: error.code, message: error.message, data: error.data } }),
				),
			),
		);
		const batch = (await host.connection.sendRequest('expandBatch', { calls: CALLS })) as { answers: unknown[] };

		expect(batch.answers).toHaveLength(CALLS.length);
		expect(batch.answers).toEqual(alone);
		// The refused calls answer their own errors; the calls behind them still ran.
		expect(batch.answers[1]).toEqual({
			error: { code: expect.any(Number), message: 'no loaded library provides an inline macro named nope', data: { name: 'nope', kind: 'inline' } },
		});
		expect(batch.answers[3]).toEqual({ error: { code: INVALID_PARAMS, message: 'expandInline: params.args: token 0 has unknown kind 7' } });
		expect(batch.answers[0]).toMatchObject({ result: { outcome: 'replace', tokens: { text: '(a,1)' } } });
		const records = (batch.answers[0] as { result: { tokens: { records: unknown } } }).result.tokens.records;
		expect(records).toBeInstanceOf(encoding === 'json' ? Array : Uint32Array);
		expect(batch.answers[5]).toEqual({ result: { outcome: 'leave', diagnostics: [], auxData: { tokens: 3 } } });
		expect(await host.close()).toEqual({ code: 0, signal: null });
	});
});

describe('a malformed batch is refused as a whole, and the host keeps serving', () => {
	it.each([
		['calls missing', {}, 'expandBatch: params.calls must be an array of calls {method, params}, got nothing (the field is missing)'],
		['a call not an object', { calls: [5] }, 'expandBatch: params.calls[0] must be a call {method, params}, got number 5'],
		['a method a batch cannot carry', { calls: [{ method: 'loadLibrary', params: {} }] }, 'expandBatch: params.calls[0].method must be one of expandInline, expandAttribute, expandDerive, got string "loadLibrary"'],
		['id zero', { calls: [], id: 0 }, 'expandBatch: params.id must be an integer from 1 to 4294967295, got number 0'],
	])('%s', async (_label, params, message) => {
		const host = await startHost('json');
		expect(await requestError(host.connection, 'expandBatch', params)).toEqual({ code: INVALID_PARAMS, message });
		expect(await host.connection.sendRequest('expandBatch', { calls: [] })).toEqual({ answers: [] });
		expect(await host.connection.sendRequest('expandInline', { name: 'wrap', args: ARGS })).toMatchObject({ outcome: 'replace' });
	});
});
