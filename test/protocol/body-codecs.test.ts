/**
 * The body codecs by encoding (protocol/body-codecs.ts): JSON's is there at once; msgpack's loads on
 * first use, and a connection that asks for it before it is loaded gets an error saying so rather
 * than a JSON codec for a msgpack peer.
 */
import { describe, expect, it } from 'vitest';
import { JSON_CODEC, loadCodec, loadedCodec } from '../../protocol/body-codecs.js';
import { encodeJsonText } from '../../protocol/json.js';

describe('body codecs', () => {
	it('has the JSON codec without loading anything', async () => {
		expect(loadedCodec('json')).toBe(JSON_CODEC);
		expect(await loadCodec('json')).toBe(JSON_CODEC);
		expect(JSON_CODEC.encode).toBe(encodeJsonText);
		expect(JSON_CODEC.decode).toBeUndefined();
	});

	it('refuses msgpack before it is loaded, then gives the loaded codec, which round-trips typed records', async () => {
		// Each test file gets its own module graph, so nothing has loaded msgpack here yet.
		expect(() => loadedCodec('msgpack')).toThrow('the msgpack codec is used before loadCodec("msgpack") loaded it');
		const codec = await loadCodec('msgpack');
		expect(loadedCodec('msgpack')).toBe(codec);
		expect(await loadCodec('msgpack')).toBe(codec);
		const message = { jsonrpc: '2.0', id: 7, result: { tokens: { text: 'ab', records: new Uint32Array([0, 0, 0, 2, 0, 2]) } } } as const;
		const body = codec.encode(message);
		expect(body).toBeInstanceOf(Uint8Array);
		const back = codec.decode!(body as Uint8Array) as unknown as typeof message;
		expect(back.id).toBe(7);
		expect(Array.from(back.result.tokens.records)).toEqual([0, 0, 0, 2, 0, 2]);
	});
});
