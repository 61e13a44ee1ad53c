/**
 * The host's side of bulk streams, in process: the test plays the client, writing slot files itself
 * and sending references to them, and reads the answers back from the files.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../dist/protocol/version.js';
import { connectHost, fixture, IDENT, LITERAL, PUNCT, requestError, serveInProcess, tokens, type InProcessSession } from './harness.js';

const INVALID_PARAMS = -32602;
const BASIC = fixture('libc_basic.so');
const EDGE = fixture('libc_edge.so');

/** `a , 1` at byte 5 of the source. */
const ARGS = tokens([IDENT, 'a', 5], [PUNCT, ',', 6], [LITERAL, '1', 8]);
/** `struct Foo { }` at byte 20. */
const ITEM = tokens([IDENT, 'struct', 20], [IDENT, 'Foo', 27], [PUNCT, '{', 31], [PUNCT, '}', 33]);

interface Stream {
	text: string;
	records: number[] | Uint32Array;
}

/** A stream's bytes as a slot holds them: records (u32, this machine's order), then UTF-8 text. */
function slotBytes(stream: Stream): Buffer {
	return Buffer.concat([Buffer.from(Uint32Array.from(stream.records).buffer), Buffer.from(stream.text, 'utf8')]);
}

/** The reference to a stream written at `offset` of `slot`. */
function ref(stream: Stream, slot = 0, offset = 0) {
	return { bulk: { slot, offset, tokens: stream.records.length / 6, textBytes: Buffer.byteLength(stream.text) } };
}

/** Reads a stream back from a slot file, as the client does. */
function readSlot(dir: string, r: { slot: number; offset: number; tokens: number; textBytes: number }): { text: string; records: number[] } {
	const bytes = readFileSync(join(dir, `slot-${r.slot}`));
	const recordsEnd = r.offset + r.tokens * 24;
	const records = Array.from(new Uint32Array(bytes.buffer.slice(bytes.byteOffset + r.offset, bytes.byteOffset + recordsEnd)));
	return { text: bytes.subarray(recordsEnd, recordsEnd + r.textBytes).toString('utf8'), records };
}

let s: InProcessSession;
let dir: string;

beforeEach(() => {
	dir = mkdtempSync(join(tmpdir(), 'macro-host-bulk-test-'));
	s = serveInProcess();
});
afterEach(() => {
	s.dispose();
	rmSync(dir, { recursive: true, force: true });
});

async function initialize(bulk: unknown = { dir, minBytes: 0 }): Promise<{ capabilities: { bulk?: boolean } }> {
	return s.client.sendRequest('initialize', { protocolVersion: PROTOCOL_VERSION, bulk });
}

describe('the bulk offer in initialize', () => {
	it('is taken when the directory exists', async () => {
		expect((await initialize()).capabilities.bulk).toBe(true);
	});

	it('is declined, with the reason in the log, for a relative or missing directory', async () => {
		expect((await initialize({ dir: 'relative/dir', minBytes: 0 })).capabilities.bulk).toBe(false);
		expect(s.log.join('\n')).toContain('not using the bulk directory: "relative/dir" is not an absolute path; every stream goes inline');
		expect((await initialize({ dir: join(dir, 'gone'), minBytes: 0 })).capabilities.bulk).toBe(false);
		expect(s.log.join('\n')).toContain(`${join(dir, 'gone')} cannot be read (ENOENT)`);
	});

	it('is off without an offer', async () => {
		const init = await s.client.sendRequest<{ capabilities: { bulk?: boolean } }>('initialize', { protocolVersion: PROTOCOL_VERSION });
		expect(init.capabilities.bulk).toBe(false);
	});

	it('is refused when its fields are malformed', async () => {
		const base = { protocolVersion: PROTOCOL_VERSION };
		expect(await requestError(s.client, 'initialize', { ...base, bulk: 'yes' })).toEqual({
			code: INVALID_PARAMS,
			message: 'initialize: params.bulk must be an object {dir, minBytes}, got string "yes"',
		});
		expect(await requestError(s.client, 'initialize', { ...base, bulk: { dir, minBytes: -1 } })).toEqual({
			code: INVALID_PARAMS,
			message: 'initialize: params.bulk.minBytes must be a non-negative integer number of bytes, got number -1',
		});
		expect(await requestError(s.client, 'initialize', { ...base, bulk: { minBytes: 0 } })).toEqual({
			code: INVALID_PARAMS,
			message: 'initialize: params.bulk.dir must be a non-empty string, got nothing (the field is missing)',
		});
	});
});

describe('expanding through slots', () => {
	beforeEach(async () => {
		await initialize();
		await s.client.sendRequest('loadLibrary', { path: BASIC });
		await s.client.sendRequest('loadLibrary', { path: EDGE });
	});

	it('reads the arguments from the slot and writes the answer back into it', async () => {
		writeFileSync(join(dir, 'slot-0'), slotBytes(ARGS));
		const result = await s.client.sendRequest<{ outcome: string; tokens: { bulk: { slot: number; offset: number; tokens: number; textBytes: number } } }>(
			'expandInline',
			{ name: 'wrap', args: ref(ARGS) },
		);
		expect(result.outcome).toBe('replace');
		expect(result.tokens).toEqual({ bulk: { slot: 0, offset: 0, tokens: 5, textBytes: 5 } });
		const answer = readSlot(dir, result.tokens.bulk);
		expect(answer.text).toBe('(a,1)');
		// The argument kept its span; the parens are generated (call site).
		expect(answer.records.slice(6, 12)).toEqual([IDENT, 0, 1, 1, 5, 6]);
		expect(answer.records[4]).toBe(0xffffffff);
	});

	it('reads two streams of one request from the same slot, the second at an aligned offset', async () => {
		const first = slotBytes(ARGS);
		const itemOffset = Math.ceil(first.length / 8) * 8;
		writeFileSync(join(dir, 'slot-3'), Buffer.concat([first, Buffer.alloc(itemOffset - first.length), slotBytes(ITEM)]));
		const result = await s.client.sendRequest<{ tokens: { bulk: { slot: number; offset: number; tokens: number; textBytes: number } } }>(
			'expandAttribute',
			{ name: 'tag', args: ref(ARGS, 3), item: ref(ITEM, 3, itemOffset) },
		);
		expect(result.tokens.bulk.slot).toBe(3);
		expect(readSlot(dir, result.tokens.bulk).text).toBe('#[tagged]structFoo{}');
	});

	it('writes a derive answer merged in memory into the slot too', async () => {
		writeFileSync(join(dir, 'slot-1'), slotBytes(ITEM));
		const result = await s.client.sendRequest<{ outcome: string; tokens: { bulk: { slot: number; offset: number; tokens: number; textBytes: number } } }>(
			'expandDerive',
			{ derives: ['Named', 'Hello'], item: ref(ITEM, 1) },
		);
		expect(result.outcome).toBe('replace');
		expect(readSlot(dir, result.tokens.bulk).text).toBe('implNamedforFoo{}fnhello_Foo(){}');
	});

	it('reads a slot again after it grew past the part the host had mapped', async () => {
		writeFileSync(join(dir, 'slot-0'), slotBytes(ARGS));
		await s.client.sendRequest('expandInline', { name: 'wrap', args: ref(ARGS) });
		const many = tokens(...Array.from({ length: 5000 }, (_, i): [number, string, number] => [IDENT, `v${i}`, i * 8]));
		writeFileSync(join(dir, 'slot-0'), slotBytes(many));
		const result = await s.client.sendRequest<{ tokens: { bulk: { slot: number; offset: number; tokens: number; textBytes: number } } }>(
			'expandInline',
			{ name: 'wrap', args: ref(many) },
		);
		const answer = readSlot(dir, result.tokens.bulk);
		expect(result.tokens.bulk.tokens).toBe(5002);
		expect(answer.text).toBe(`(${many.text})`);
	});

	it('answers a request that came inline through an answer file of its own, a new one each time', async () => {
		const first = await s.client.sendRequest<{ tokens: { bulk: { slot: number; offset: number; tokens: number; textBytes: number } } }>(
			'expandInline',
			{ name: 'wrap', args: ARGS },
		);
		expect(first.tokens).toEqual({ bulk: { slot: 1 << 20, offset: 0, tokens: 5, textBytes: 5 } });
		expect(readSlot(dir, first.tokens.bulk).text).toBe('(a,1)');
		const second = await s.client.sendRequest<{ tokens: { bulk: { slot: number } } }>('expandDerive', { derives: ['Named'], item: ITEM });
		expect(second.tokens.bulk.slot).toBe((1 << 20) + 1);
	});

	it('answers inline, and logs why, when it cannot make an answer file', async () => {
		rmSync(dir, { recursive: true });
		const result = await s.client.sendRequest<{ tokens: { text: string } }>('expandInline', { name: 'wrap', args: ARGS });
		expect(result.tokens.text).toBe('(a,1)');
		// Tried once, from library memory, and not again from the copy.
		expect(s.log.filter((line) => line.startsWith('could not write'))).toEqual([
			'could not write an answer of 125 bytes into slot-1048576 (ENOENT); sending it inline',
		]);
	});

	it('never writes over a file that is already where its answer file would go', async () => {
		writeFileSync(join(dir, `slot-${1 << 20}`), 'not yours');
		const result = await s.client.sendRequest<{ tokens: { text: string } }>('expandInline', { name: 'wrap', args: ARGS });
		expect(result.tokens.text).toBe('(a,1)');
		expect(readFileSync(join(dir, `slot-${1 << 20}`), 'utf8')).toBe('not yours');
		expect(s.log).toContain('could not write an answer of 125 bytes into slot-1048576 (EEXIST); sending it inline');
	});

	it('answers inline when the answer is below minBytes', async () => {
		await initialize({ dir, minBytes: 1 << 20 });
		writeFileSync(join(dir, 'slot-0'), slotBytes(ARGS));
		const result = await s.client.sendRequest<{ tokens: { text: string } }>('expandInline', { name: 'wrap', args: ref(ARGS) });
		expect(result.tokens.text).toBe('(a,1)');
	});

	it('checks an output written from library memory as it checks one copied out', async () => {
		writeFileSync(join(dir, 'slot-0'), slotBytes(ARGS));
		for (const name of ['edge_bad_utf8', 'edge_bad_records']) {
			const bulk = await s.client.sendRequest('expandInline', { name, args: ref(ARGS) });
			const inline = await s.client.sendRequest('expandInline', { name, args: ARGS });
			expect(bulk).toEqual(inline);
			expect(bulk).toMatchObject({ outcome: 'bail', diagnostics: [{ code: 'bad-result' }] });
		}
	});

	it('sends the answer inline, and logs why, when the slot cannot take it', async () => {
		// slot-5 is /dev/full: it cannot be allocated, like a full /dev/shm. The empty
		// arguments are never read, so the host opens the slot only to answer.
		symlinkSync('/dev/full', join(dir, 'slot-5'));
		const result = await s.client.sendRequest<{ tokens: { text: string } }>('expandAttribute', {
			name: 'tag',
			args: { bulk: { slot: 5, offset: 0, tokens: 0, textBytes: 0 } },
			item: ITEM,
		});
		expect(result.tokens.text).toBe('#[tagged]structFoo{}');
		const failures = s.log.filter((line) => line.startsWith('could not write'));
		expect(failures).toHaveLength(1);
		expect(failures[0]).toMatch(/^could not write an answer of \d+ bytes into slot-5 \(E[A-Z]+\); sending it inline$/);
	});
});

describe('bad references', () => {
	async function expandError(args: unknown): Promise<string> {
		const error = await requestError(s.client, 'expandInline', { name: 'wrap', args });
		expect(error.code).toBe(INVALID_PARAMS);
		return error.message;
	}

	it('are refused in a session without a bulk directory', async () => {
		await s.client.sendRequest('initialize', { protocolVersion: PROTOCOL_VERSION });
		await s.client.sendRequest('loadLibrary', { path: BASIC });
		expect(await expandError(ref(ARGS))).toBe(
			"expandInline: params.args is a bulk stream, but this session has no bulk directory (offer one in initialize's bulk field)",
		);
	});

	describe('with a bulk directory', () => {
		beforeEach(async () => {
			await initialize();
			await s.client.sendRequest('loadLibrary', { path: BASIC });
		});

		it('name the missing slot file', async () => {
			expect(await expandError(ref(ARGS, 7))).toBe(`expandInline: params.args: cannot open the slot file ${join(dir, 'slot-7')} (ENOENT)`);
		});

		it('name a range past the end of the file', async () => {
			writeFileSync(join(dir, 'slot-0'), slotBytes(ARGS).subarray(0, 50));
			expect(await expandError(ref(ARGS))).toBe('expandInline: params.args: the stream ends at byte 75 of slot-0, which has only 50 bytes');
		});

		it('name a field that is not a non-negative integer, or a misaligned offset', async () => {
			expect(await expandError({ bulk: { slot: 0, offset: 0, tokens: -1, textBytes: 0 } })).toBe(
				'expandInline: params.args.bulk.tokens must be a non-negative integer, got -1',
			);
			expect(await expandError({ bulk: { slot: 0, offset: 4, tokens: 1, textBytes: 0 } })).toBe(
				'expandInline: params.args.bulk.offset must be a multiple of 8, got 4',
			);
			expect(await expandError({ bulk: [] })).toBe('expandInline: params.args.bulk must be an object {slot, offset, tokens, textBytes}');
		});

		it('name text that is not UTF-8, and records that do not fit the text', async () => {
			const records = Buffer.from(Uint32Array.from([IDENT, 0, 0, 2, 0, 2]).buffer);
			writeFileSync(join(dir, 'slot-0'), Buffer.concat([records, Buffer.from([0xff, 0xfe])]));
			expect(await expandError({ bulk: { slot: 0, offset: 0, tokens: 1, textBytes: 2 } })).toBe(
				'expandInline: params.args: the text in slot-0 (bytes 24..26) is not valid UTF-8',
			);
			writeFileSync(join(dir, 'slot-1'), Buffer.concat([Buffer.from(Uint32Array.from([7, 0, 0, 1, 0, 1]).buffer), Buffer.from('a')]));
			expect(await expandError({ bulk: { slot: 1, offset: 0, tokens: 1, textBytes: 1 } })).toBe(
				'expandInline: params.args: token 0 has unknown kind 7',
			);
		});
	});
});

describe('an answer file the host cannot fill', () => {
	it('is removed, and the answer goes inline', async () => {
		// A host whose files may not grow past 1 KiB (SIGXFSZ ignored, so the allocation fails with EFBIG
		// instead), as when /dev/shm fills up between creating the answer file and filling it.
		const host = connectHost('json', { shellPrefix: 'trap "" XFSZ; ulimit -f 2' });
		try {
			const init = await host.connection.sendRequest<{ capabilities: { bulk?: boolean } }>('initialize', { protocolVersion: PROTOCOL_VERSION, bulk: { dir, minBytes: 0 } });
			expect(init.capabilities.bulk).toBe(true);
			await host.connection.sendRequest('loadLibrary', { path: BASIC });
			const args = tokens(...Array.from({ length: 100 }, (_, i): [number, string, number] => [IDENT, `v${i}`, i * 8]));
			const result = await host.connection.sendRequest<{ tokens: { text: string } }>('expandInline', { name: 'wrap', args });
			expect(result.tokens.text).toBe(`(${args.text})`);
			expect(host.stderr()).toMatch(/could not write an answer of \d+ bytes into slot-1048576 \(EFBIG\); sending it inline/);
			expect(readdirSync(dir)).toEqual([]);
			expect(await host.close()).toEqual({ code: 0, signal: null });
		} finally {
			host.child.kill('SIGKILL');
		}
	});
});
