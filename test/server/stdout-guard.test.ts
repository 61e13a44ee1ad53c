import { readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CALL_SITE, EMPTY, fixture, frame, FrameReader, IDENT, LITERAL, PUNCT, spawnHost, tokens, type HostProcess } from './harness.js';

const ARGS = tokens([IDENT, 'a', 5], [PUNCT, ',', 6], [LITERAL, '1', 8]);
const FAKE_FRAME = 'Content-Length: 52\r\n\r\n{"jsonrpc":"2.0","id":1,"result":"corrupted"}';

let host: HostProcess | undefined;
afterEach(() => host?.child.kill('SIGKILL'));

/** Splits raw stdout into frames; fails if any byte is not part of a well-formed frame. */
function parseAllFrames(stdout: Buffer): unknown[] {
	const frames: unknown[] = [];
	let rest = stdout;
	while (rest.length > 0) {
		const end = rest.indexOf('\r\n\r\n');
		expect(end, `stray bytes on stdout: ${JSON.stringify(rest.toString())}`).toBeGreaterThan(0);
		const header = rest.subarray(0, end).toString('ascii');
		const match = /^Content-Length: (\d+)$/.exec(header);
		expect(match, `not a frame header: ${JSON.stringify(header)}`).not.toBeNull();
		const length = Number(match![1]);
		frames.push(JSON.parse(rest.subarray(end + 4, end + 4 + length).toString('utf8')));
		rest = rest.subarray(end + 4 + length);
	}
	return frames;
}

describe('stdout guard', () => {
	it('a macro printing a fake frame to stdout cannot corrupt the channel: it lands on stderr', async () => {
		host = spawnHost();
		let stdout = Buffer.alloc(0);
		host.child.stdout.on('data', (chunk: Buffer) => (stdout = Buffer.concat([stdout, chunk])));
		host.child.stdin.write(frame({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: 1 } }));
		host.child.stdin.write(frame({ jsonrpc: '2.0', id: 2, method: 'loadLibrary', params: { path: fixture('libc_basic.so') } }));
		host.child.stdin.write(frame({ jsonrpc: '2.0', id: 3, method: 'expandInline', params: { name: 'bang_prints_stdout', args: ARGS } }));
		host.child.stdin.write(frame({ jsonrpc: '2.0', id: 4, method: 'expandInline', params: { name: 'noop', args: ARGS } }));
		host.child.stdin.end();
		expect(await host.exited).toEqual({ code: 0, signal: null });

		const frames = parseAllFrames(stdout) as Array<{ id: number; result: unknown }>;
		expect(frames.map((f) => f.id)).toEqual([1, 2, 3, 4]);
		expect(frames[2].result).toEqual({
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
		expect(frames[3].result).toEqual({ outcome: 'leave', diagnostics: [] });
		expect(stdout.toString()).not.toContain('corrupted');
		expect(host.stderr()).toContain(FAKE_FRAME);
		expect(host.stderr()).toContain('bang_prints_stdout: a normal line on stdout\n');
	});

	it('fd 0 is /dev/null and fd 1 is stderr: a macro reading stdin gets end-of-file, not protocol bytes', async () => {
		host = spawnHost();
		const frames = new FrameReader(host.child.stdout);
		host.child.stdin.write(frame({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: 1 } }));
		host.child.stdin.write(frame({ jsonrpc: '2.0', id: 2, method: 'loadLibrary', params: { path: fixture('libc_edge.so') } }));
		expect(await frames.next()).toMatchObject({ id: 1 });
		expect(await frames.next()).toMatchObject({ id: 2 });
		const pid = host.child.pid!;
		expect(readlinkSync(`/proc/${pid}/fd/0`)).toBe('/dev/null');
		expect(readlinkSync(`/proc/${pid}/fd/1`)).toBe(readlinkSync(`/proc/${pid}/fd/2`));

		// The request after the reading macro is already in the pipe when the macro reads.
		host.child.stdin.write(
			Buffer.concat([
				frame({ jsonrpc: '2.0', id: 3, method: 'expandInline', params: { name: 'edge_reads_stdin', args: EMPTY } }),
				frame({ jsonrpc: '2.0', id: 4, method: 'expandInline', params: { name: 'edge_null_result', args: EMPTY } }),
			]),
		);
		expect(await frames.next()).toEqual({ jsonrpc: '2.0', id: 3, result: { outcome: 'leave', diagnostics: [], auxData: { read: 0 } } });
		expect(await frames.next()).toMatchObject({ id: 4, result: { outcome: 'bail' } });
		host.child.stdin.end();
		expect(await host.exited).toEqual({ code: 0, signal: null });
	});
});
