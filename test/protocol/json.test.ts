import { describe, expect, it } from 'vitest';
import type { Message } from 'vscode-jsonrpc';
import { jsonEncoder, withPlainRecords } from '../../dist/protocol/index.js';

const decode = async (msg: unknown) =>
	JSON.parse(new TextDecoder().decode(await (jsonEncoder as { encode(m: Message): Promise<Uint8Array> }).encode(msg as Message)));

describe('JSON body encoding', () => {
	it('writes typed records of request params as number arrays', async () => {
		const records = new Uint32Array([0, 1, 0, 1, 5, 6]);
		const msg = { jsonrpc: '2.0', id: 1, method: 'expandAttribute', params: { name: 'tag', args: { text: 'a', records }, item: { text: '', records: [] } } };
		expect(await decode(msg)).toEqual({ ...msg, params: { ...msg.params, args: { text: 'a', records: [0, 1, 0, 1, 5, 6] } } });
		// The caller's objects are left as they were: the client may re-send them after a restart.
		expect(msg.params.args.records).toBe(records);
	});

	it('writes typed records of a result as number arrays', async () => {
		const msg = { jsonrpc: '2.0', id: 2, result: { outcome: 'replace', diagnostics: [], tokens: { text: 'x', records: new Uint32Array([0, 0, 0, 1, 1, 2]) } } };
		expect((await decode(msg)).result.tokens.records).toEqual([0, 0, 0, 1, 1, 2]);
	});

	it("writes typed records inside a batch's calls and answers as number arrays, leaving the caller's objects as they were", async () => {
		const records = new Uint32Array([0, 1, 0, 1, 5, 6]);
		const call = { method: 'expandInline', params: { name: 'wrap', args: { text: 'a', records } } };
		const plain = { method: 'expandInline', params: { name: 'wrap', args: { text: 'b', records: [0, 1, 0, 1, 7, 8] } } };
		const request = { jsonrpc: '2.0', id: 4, method: 'expandBatch', params: { calls: [plain, call], id: 9 } };
		expect((await decode(request)).params).toEqual({ calls: [plain, { ...call, params: { ...call.params, args: { text: 'a', records: [0, 1, 0, 1, 5, 6] } } }], id: 9 });
		expect(call.params.args.records).toBe(records);
		const response = { jsonrpc: '2.0', id: 4, result: { answers: [{ error: { code: 1, message: 'no' } }, { result: { outcome: 'replace', diagnostics: [], tokens: { text: 'x', records } } }] } };
		expect((await decode(response)).result.answers).toEqual([{ error: { code: 1, message: 'no' } }, { result: { outcome: 'replace', diagnostics: [], tokens: { text: 'x', records: [0, 1, 0, 1, 5, 6] } } }]);
	});

	it('passes other messages through untouched', () => {
		const msg = { jsonrpc: '2.0', id: 3, result: { libraries: [] } } as unknown as Message;
		expect(withPlainRecords(msg)).toBe(msg);
	});
});
