import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Message } from 'vscode-jsonrpc';
import { FrameReader, type BodyDecoder } from '../../dist/protocol/node/frame-reader.js';

/** Feeds chunks through a reader; returns the messages it delivered and the errors it reported, in order. */
async function run(chunks: Array<string | Buffer>, options: { decode?: BodyDecoder; maxMessageBytes?: number } = {}): Promise<{ messages: unknown[]; errors: string[]; events: string[] }> {
	const input = new PassThrough();
	const reader = new FrameReader(input, options);
	const messages: unknown[] = [];
	const errors: string[] = [];
	const events: string[] = [];
	reader.onError((error) => {
		errors.push(error.message);
		events.push('error');
	});
	const closed = new Promise<void>((resolve) => reader.onClose(() => resolve()));
	reader.listen((message: Message) => {
		messages.push(message);
		events.push('message');
	});
	for (const chunk of chunks) input.write(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
	input.end();
	input.resume();
	await closed;
	return { messages, errors, events };
}

const frame = (body: string): string => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const FRAME = frame('{"jsonrpc":"2.0","method":"a"}');
const A = { jsonrpc: '2.0', method: 'a' };

describe('FrameReader', () => {
	it('delivers every frame, however the bytes are split', async () => {
		const two = FRAME + 'content-length: 9\r\nContent-Type: application/json\r\n\r\n[1,"\u00e9"]'.replace('9', String(Buffer.byteLength('[1,"é"]')));
		const whole = await run([Buffer.from(two, 'utf8')]);
		expect(whole.messages).toEqual([A, [1, 'é']]);
		const bytes = Buffer.from(two, 'utf8');
		const single = await run([...bytes].map((b) => Buffer.from([b])));
		expect(single.messages).toEqual([A, [1, 'é']]);
		expect(single.errors).toEqual([]);
		const thirds = await run([bytes.subarray(0, 17), bytes.subarray(17, 45), bytes.subarray(45)]);
		expect(thirds).toMatchObject({ messages: [A, [1, 'é']], errors: [] });
	});

	it('assembles a large body from many chunks', async () => {
		const big = JSON.stringify({ jsonrpc: '2.0', method: 'big', params: ['x'.repeat(300_000)] });
		const bytes = Buffer.from(frame(big) + FRAME);
		const chunks: Buffer[] = [];
		for (let at = 0; at < bytes.length; at += 65_536) chunks.push(bytes.subarray(at, at + 65_536));
		const { messages, errors } = await run(chunks);
		expect(errors).toEqual([]);
		expect(messages).toHaveLength(2);
		expect((messages[0] as { params: string[] }).params[0]).toHaveLength(300_000);
		expect(messages[1]).toEqual(A);
	});

	it('hands binary bodies to the decoder untouched, even when they contain a header terminator', async () => {
		const body = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0xff, 0x00, 0x43]);
		const raw: BodyDecoder = (b) => ({ jsonrpc: '2.0', method: 'raw', params: [...b] }) as Message;
		const input = Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body, Buffer.from(frame('{}'))]);
		const { messages, errors } = await run([input], { decode: raw });
		expect(messages).toEqual([
			{ jsonrpc: '2.0', method: 'raw', params: [...body] },
			{ jsonrpc: '2.0', method: 'raw', params: [...Buffer.from('{}')] },
		]);
		expect(errors).toEqual([]);
	});

	it('drops garbage before a header, reports it, and reads the frame after it', async () => {
		const { messages, errors, events } = await run(['xyz' + FRAME]);
		expect(messages).toEqual([A]);
		expect(errors).toEqual(['dropped 3 bytes that do not start a message (expected "Content-Length: N" then an empty line): "xyz"']);
		expect(events).toEqual(['error', 'message']);
	});

	it('drops a header block without a usable Content-Length', async () => {
		const { messages, errors } = await run(['Content-Length: -4\r\n\r\n' + FRAME, 'Foo: bar\r\n\r\n', 'junk line\r\n' + FRAME]);
		expect(messages).toEqual([A, A]);
		expect(errors).toHaveLength(3);
		expect(errors[0]).toBe('dropped 22 bytes that do not start a message (expected "Content-Length: N" then an empty line): "Content-Length: -4\\r\\n\\r\\n"');
	});

	it('refuses a header block with two Content-Length headers, drops its body, and reads the next frame', async () => {
		// Read with either length, the body would swallow the start of the next frame or leave a tail of garbage.
		const body = '{"jsonrpc":"2.0","method":"b"}';
		const twice = `Content-Length: ${body.length}\r\nContent-Length: 5\r\n\r\n${body}`;
		const { messages, errors } = await run([twice + FRAME]);
		expect(messages).toEqual([A]);
		expect(errors).toEqual([
			`refused a message whose header block has more than one Content-Length header: ${JSON.stringify(`Content-Length: ${body.length}\r\nContent-Length: 5`)}`,
		]);
		const same = await run([`Content-Length: ${body.length}\r\ncontent-length: ${body.length}\r\n\r\n${body}`, FRAME]);
		expect(same.messages).toEqual([A]);
		expect(same.errors).toHaveLength(1);
	});

	it('does not wait forever on a huge run of garbage with no header end', async () => {
		const { messages, errors } = await run(['a'.repeat(10_000), FRAME]);
		expect(messages).toEqual([A]);
		expect(errors[0]).toMatch(/^dropped 10000 bytes that do not start a message/);
	});

	it('refuses a body over the limit at its header and skips it silently', async () => {
		const big = JSON.stringify({ jsonrpc: '2.0', method: 'too big', params: [1, 2, 3] });
		const { messages, errors } = await run([frame(big) + FRAME], { maxMessageBytes: 40 });
		expect(errors).toEqual([`dropped a message of ${big.length} bytes: larger than the 40 bytes a message may have`]);
		expect(messages).toEqual([A]);
	});

	it('reports a body that does not decode and goes on with the next frame', async () => {
		const { messages, errors } = await run([frame('{"jsonrpc": "2.0", "id": 3,') + FRAME]);
		expect(errors).toHaveLength(1);
		expect(errors[0]).toMatch(/JSON/);
		expect(messages).toEqual([A]);
	});

	it('reports a consumer that throws on a message as an error and goes on reading', async () => {
		const input = new PassThrough();
		const reader = new FrameReader(input);
		const errors: string[] = [];
		const seen: unknown[] = [];
		reader.onError((error) => errors.push(error.message));
		const closed = new Promise<void>((resolve) => reader.onClose(() => resolve()));
		reader.listen((message) => {
			seen.push(message);
			if (seen.length === 1) throw new Error('consumer failed');
		});
		input.end(Buffer.from(FRAME + FRAME));
		await closed;
		expect(seen).toEqual([A, A]);
		expect(errors).toEqual(['consumer failed']);
	});
});
