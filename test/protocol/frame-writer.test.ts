import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Message } from 'vscode-jsonrpc';
import { FrameWriter } from '../../dist/protocol/node/frame-writer.js';

/** A real Writable that records each system-call-sized piece it is handed: one entry per write or writev. */
function recordingStream(): { stream: Writable; writes: string[][] } {
	const writes: string[][] = [];
	const stream = new Writable({
		write(chunk: Buffer, _encoding, callback) {
			writes.push([chunk.toString('utf8')]);
			callback();
		},
		writev(chunks, callback) {
			writes.push(chunks.map(({ chunk }) => Buffer.from(chunk).toString('utf8')));
			callback();
		},
	});
	return { stream, writes };
}

const request = (id: number): Message => ({ jsonrpc: '2.0', id, method: 'expand' }) as Message;
const frameOf = (message: Message): string => {
	const body = JSON.stringify(message);
	return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
};

describe('FrameWriter (coalescing, the client side)', () => {
	it('writes a lone frame at once, in the same tick, not on the next one', async () => {
		const { stream, writes } = recordingStream();
		const writer = new FrameWriter(stream, (message) => JSON.stringify(message), true);
		const sent = writer.write(request(1));
		expect(writes).toEqual([[frameOf(request(1))]]);
		await sent;
	});

	it('batches the frames written after the first in the same tick into one writev, in order', async () => {
		const { stream, writes } = recordingStream();
		const writer = new FrameWriter(stream, (message) => JSON.stringify(message), true);
		const sent = [1, 2, 3, 4].map((id) => writer.write(request(id)));
		await Promise.all(sent);
		expect(writes).toEqual([[frameOf(request(1))], [2, 3, 4].map((id) => frameOf(request(id)))]);
		// A new tick: its first frame goes out alone again.
		const next = writer.write(request(5));
		expect(writes.at(-1)).toEqual([frameOf(request(5))]);
		await next;
	});

	it('settles every write and reports an encoding failure by rejecting that write only', async () => {
		const { stream, writes } = recordingStream();
		const writer = new FrameWriter(stream, (message) => {
			if ((message as { id?: number }).id === 2) throw new Error('cannot encode request 2');
			return JSON.stringify(message);
		}, true);
		const results = await Promise.allSettled([1, 2, 3].map((id) => writer.write(request(id))));
		expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
		expect(writes.flat()).toEqual([frameOf(request(1)), frameOf(request(3))]);
	});
});
