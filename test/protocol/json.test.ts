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

	it('passes other messages through untouched', () => {
		const msg = { jsonrpc: '2.0', id: 3, result: { libraries: [] } } as unknown as Message;
		expect(withPlainRecords(msg)).toBe(msg);
	});
});
