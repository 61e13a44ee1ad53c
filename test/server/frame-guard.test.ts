import { describe, expect, it } from 'vitest';
import { FrameGuard } from '../../dist/server/frame-guard.js';

/** Feeds chunks through a guard; returns what it passed on and what it reported. */
async function run(chunks: Array<string | Buffer>): Promise<{ output: Buffer; problems: string[] }> {
	const problems: string[] = [];
	const guard = new FrameGuard((p) => problems.push(p));
	const parts: Buffer[] = [];
	guard.on('data', (chunk: Buffer) => parts.push(chunk));
	const done = new Promise((resolve) => guard.on('end', resolve));
	for (const chunk of chunks) guard.write(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
	guard.end();
	await done;
	return { output: Buffer.concat(parts), problems };
}

const FRAME = 'Content-Length: 2\r\n\r\n{}';

describe('FrameGuard', () => {
	it('passes frames through unchanged, however they are split', async () => {
		const two = FRAME + 'content-length: 3\r\nContent-Type: application/json\r\n\r\n[1]';
		expect((await run([two])).output.toString()).toBe(two);
		expect((await run([...two])).output.toString()).toBe(two);
		expect((await run([two.slice(0, 17), two.slice(17, 25), two.slice(25)])).problems).toEqual([]);
	});

	it('passes binary bodies untouched, even when they contain a header terminator', async () => {
		const body = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0xff, 0x00, 0x43]);
		const input = Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body, Buffer.from(FRAME)]);
		const { output, problems } = await run([input]);
		expect(output.equals(input)).toBe(true);
		expect(problems).toEqual([]);
	});

	it('drops garbage before a header and reports it', async () => {
		const { output, problems } = await run(['xyz' + FRAME]);
		expect(output.toString()).toBe(FRAME);
		expect(problems).toEqual(['dropped 3 bytes that do not start a message (expected "Content-Length: N" then an empty line): "xyz"']);
	});

	it('drops a header block without a usable Content-Length', async () => {
		const { output, problems } = await run(['Content-Length: -4\r\n\r\n' + FRAME, 'Foo: bar\r\n\r\n', 'junk line\r\n' + FRAME]);
		expect(output.toString()).toBe(FRAME + FRAME);
		expect(problems).toHaveLength(3);
		expect(problems[0]).toBe('dropped 22 bytes that do not start a message (expected "Content-Length: N" then an empty line): "Content-Length: -4\\r\\n\\r\\n"');
	});

	it('does not wait forever on a huge run of garbage with no header end', async () => {
		const { output, problems } = await run(['a'.repeat(10_000), FRAME]);
		expect(output.toString()).toBe(FRAME);
		expect(problems[0]).toMatch(/^dropped 10000 bytes that do not start a message/);
	});
});
