/**
 * Bulk streams through a real host: large streams leave through slot files and come back from them,
 * small ones stay inline, and every failure (no directory, a full slot pool, a crash, an unreadable
 * answer, a dead client's leftovers) ends in a correct answer or a clear diagnostic.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unreadableAnswerBail } from '../../dist/client/bail.js';
import { BulkChannel, MAX_SLOTS, UnreadableAnswer } from '../../dist/client/bulk-channel.js';
import { MacroHost, RECORD_WIDTH, type ExpandResult, type TokenStream } from '../../dist/client/index.js';
import { BATCH_PROGRESS_FILE } from '../../dist/protocol/index.js';
import { LIBC_BASIC, startHost } from './support.js';

/** `n` identifier tokens `v0 v1 …`, each at its own span; about 30 bytes per token. */
function bigStream(n: number, prefix = 'v'): { text: string; records: Uint32Array } {
	const records = new Uint32Array(n * RECORD_WIDTH);
	let text = '';
	for (let i = 0; i < n; i++) {
		const t = `${prefix}${i}`;
		const at = i * RECORD_WIDTH;
		records.set([0, 0, text.length, t.length, i * 10, i * 10 + t.length], at);
		text += t;
	}
	return { text, records };
}

/** Checks a wrap answer for a big stream: `(`, every argument unchanged, `)`. */
function expectWrappedBig(result: ExpandResult, args: { text: string; records: Uint32Array }): void {
	expect(result.diagnostics).toEqual([]);
	expect(result.outcome).toBe('replace');
	const tokens = result.tokens as TokenStream;
	expect(tokens.text).toBe(`(${args.text})`);
	const records = Array.from(tokens.records);
	expect(records.length).toBe(args.records.length + 2 * RECORD_WIDTH);
	// The middle records are the arguments' records with text offsets shifted past the "(".
	const expected = Array.from(args.records).map((v, i) => (i % RECORD_WIDTH === 2 ? v + 1 : v));
	expect(records.slice(RECORD_WIDTH, -RECORD_WIDTH)).toEqual(expected);
}

/**
 * True when `stream`'s text is in the slot file (a request's text is copied there, and wrap's answer
 * repeats it): the stream really went through that slot, not inline.
 */
function wentThroughSlot(slotFile: string, stream: { text: string }): boolean {
	return existsSync(slotFile) && readFileSync(slotFile).includes(Buffer.from(stream.text, 'utf8'));
}

/** The slot and answer files of a host's directory (the batch progress file, made with it, is not one). */
function slotFiles(dir: string): string[] {
	return readdirSync(dir).filter((name) => name !== BATCH_PROGRESS_FILE);
}

/** The per-host directories under `root`. */
function hostDirs(root: string): string[] {
	return readdirSync(root).filter((name) => name.startsWith('macro-host-'));
}

let root: string;
beforeEach(() => {
	root = mkdtempSync(join(tmpdir(), 'macro-host-bulk-root-'));
});
afterEach(() => {
	rmSync(root, { recursive: true, force: true });
});

describe.each(['json', 'msgpack'] as const)('bulk streams (%s)', (encoding) => {
	it('send a large stream through a slot file and read the answer back from it', async () => {
		const { host } = await startHost({ encoding, warmStandby: false, bulk: { dir: root } });
		await host.loadLibrary(LIBC_BASIC);
		const args = bigStream(20_000);
		expectWrappedBig(await host.expandInline({ name: 'wrap', args }), args);
		const [dir] = hostDirs(root);
		expect(slotFiles(join(root, dir))).toEqual(['slot-0']);
		expect(wentThroughSlot(join(root, dir, 'slot-0'), args)).toBe(true);
		await host.close();
		expect(hostDirs(root)).toEqual([]);
	});

	it('keep a small stream inline', async () => {
		const { host } = await startHost({ encoding, warmStandby: false, bulk: { dir: root } });
		await host.loadLibrary(LIBC_BASIC);
		const args = bigStream(10);
		expectWrappedBig(await host.expandInline({ name: 'wrap', args }), args);
		expect(slotFiles(join(root, hostDirs(root)[0]))).toEqual([]);
	});
});

describe('bulk streams', () => {
	it("take a JSON client's number-array records as they are", async () => {
		const { host } = await startHost({ encoding: 'json', warmStandby: false, bulk: { dir: root } });
		await host.loadLibrary(LIBC_BASIC);
		const args = bigStream(5000);
		const result = await host.expandInline({ name: 'wrap', args: { text: args.text, records: Array.from(args.records) } });
		expectWrappedBig(result, args);
		expect(result.tokens?.records).toBeInstanceOf(Uint32Array);
		expect(slotFiles(join(root, hostDirs(root)[0]))).toEqual(['slot-0']);
		expect(wentThroughSlot(join(root, hostDirs(root)[0], 'slot-0'), args)).toBe(true);
	});

	it('go on through the warm standby after a crash, in its own directory', async () => {
		const { host } = await startHost({ encoding: 'msgpack', bulk: { dir: root } });
		await host.loadLibrary(LIBC_BASIC);
		// The active host and the standby each have a directory.
		await host.standbyReady();
		expect(hostDirs(root)).toHaveLength(2);
		const before = bigStream(4000, 'b');
		expectWrappedBig(await host.expandInline({ name: 'wrap', args: before }), before);
		expect(await host.expandInline({ name: 'bang_segv', args: bigStream(10) })).toMatchObject({ outcome: 'bail' });
		const after = bigStream(4000, 'a');
		expectWrappedBig(await host.expandInline({ name: 'wrap', args: after }), after);
		// The swapped-in standby answered through a slot of its own directory.
		expect(hostDirs(root).some((dir) => wentThroughSlot(join(root, dir, 'slot-0'), after))).toBe(true);
		await host.close();
		expect(hostDirs(root)).toEqual([]);
	});

	it('are off with bulk: false: no directory, and large streams still work inline', async () => {
		const { host } = await startHost({ warmStandby: false, bulk: false });
		await host.loadLibrary(LIBC_BASIC);
		const args = bigStream(5000);
		expectWrappedBig(await host.expandInline({ name: 'wrap', args }), args);
		expect(readdirSync(tmpdir()).filter((name) => name.startsWith(`macro-host-${process.pid}-`))).toEqual([]);
	});

	it('bring a large answer to a small request back through an answer file, deleted once read', async () => {
		const args = bigStream(1000);
		// The request stays one byte under the line; wrap's answer (two more tokens) is over it.
		const requestBytes = args.records.length * 4 + args.text.length;
		const { host } = await startHost({ encoding: 'msgpack', warmStandby: false, bulk: { dir: root, minBytes: requestBytes + 1 } });
		await host.loadLibrary(LIBC_BASIC);
		expectWrappedBig(await host.expandInline({ name: 'wrap', args }), args);
		expectWrappedBig(await host.expandInline({ name: 'wrap', args }), args);
		// No slot was needed for the requests, and each answer file went once read.
		expect(slotFiles(join(root, hostDirs(root)[0]))).toEqual([]);
	});

	it('go inline when the directory cannot be made', async () => {
		const { host } = await startHost({ warmStandby: false, bulk: { dir: join(root, 'missing', 'deeper') } });
		await host.loadLibrary(LIBC_BASIC);
		const args = bigStream(5000);
		expectWrappedBig(await host.expandInline({ name: 'wrap', args }), args);
		expect(existsSync(join(root, 'missing'))).toBe(false);
	});

	it('go inline past the slot pool: many large calls in flight are all answered', async () => {
		const { host } = await startHost({ encoding: 'msgpack', warmStandby: false, bulk: { dir: root } });
		await host.loadLibrary(LIBC_BASIC);
		const calls = Array.from({ length: MAX_SLOTS * 3 }, (_, i) => bigStream(3000, `c${i}_`));
		const results = await Promise.all(calls.map((args) => host.expandInline({ name: 'wrap', args })));
		results.forEach((result, i) => expectWrappedBig(result, calls[i]));
		const slots = slotFiles(join(root, hostDirs(root)[0]));
		expect(slots.length).toBeGreaterThan(1);
		expect(slots.length).toBeLessThanOrEqual(MAX_SLOTS);
	});

	it('survive a crash: queued large calls are re-sent to the new host, the crashed call is reported', async () => {
		const { host } = await startHost({ encoding: 'msgpack', warmStandby: false, bulk: { dir: root } });
		await host.loadLibrary(LIBC_BASIC);
		const before = bigStream(4000, 'b');
		const after = bigStream(4000, 'a');
		const firstDir = hostDirs(root)[0];
		const calls = [
			host.expandInline({ name: 'wrap', args: before }),
			host.expandInline({ name: 'bang_segv', args: bigStream(4000, 's') }),
			host.expandInline({ name: 'wrap', args: after }),
		];
		const [ok, crashed, resent] = await Promise.all(calls);
		expectWrappedBig(ok, before);
		expect(crashed).toMatchObject({ outcome: 'bail', diagnostics: [{ code: 'host-crash' }] });
		expectWrappedBig(resent, after);
		// The dead host's directory went with it; the new host has its own, and the re-sent call went through its slot.
		expect(hostDirs(root)).not.toContain(firstDir);
		expect(hostDirs(root)).toHaveLength(1);
		expect(wentThroughSlot(join(root, hostDirs(root)[0], 'slot-0'), after)).toBe(true);
	});

	it("remove a dead client's directories when a client starts", async () => {
		const dead = deadPid();
		const stale = join(root, `macro-host-${dead}-abc123`);
		mkdirSync(stale);
		const live = join(root, `macro-host-${process.pid}-xyz789`);
		mkdirSync(live);
		const host = await MacroHost.start({ warmStandby: false, bulk: { dir: root } });
		try {
			expect(existsSync(stale)).toBe(false);
			expect(existsSync(live)).toBe(true);
		} finally {
			await host.close();
		}
	});
});

describe('BulkChannel', () => {
	const request = (id: number, args: unknown) => ({ jsonrpc: '2.0', id, method: 'expandInline', params: { name: 'wrap', args } }) as never;

	async function openChannel(): Promise<BulkChannel> {
		const channel = BulkChannel.create({ root, minBytes: 0 });
		if (typeof channel === 'string') throw new Error(channel);
		expect(await channel.ready()).toBeUndefined();
		channel.enable(true);
		return channel;
	}

	it('sends a request inline when its slot file cannot be made', async () => {
		const channel = await openChannel();
		rmSync(channel.offer.dir, { recursive: true });
		const message = request(1, bigStream(100));
		expect(channel.outgoing(message)).toBe(message);
		channel.dispose();
	});

	it('sends a request inline when its slot cannot be grown (a full file system)', async () => {
		const channel = await openChannel();
		// Every allocation in /dev/full fails, as in a full /dev/shm: posix_fallocate refuses before any store could fault.
		symlinkSync('/dev/full', join(channel.offer.dir, 'slot-0'));
		const message = request(1, bigStream(100));
		expect(channel.outgoing(message)).toBe(message);
		channel.dispose();
	});

	it('keeps a JSON stream whose records are not all u32 inline, for the host to name the problem', async () => {
		const channel = await openChannel();
		const stream = bigStream(100);
		const message = request(1, { text: stream.text, records: [...Array.from(stream.records).slice(0, -1), -1] });
		expect(channel.outgoing(message)).toBe(message);
		expect(slotFiles(channel.offer.dir)).toEqual([]);
		channel.dispose();
	});

	it('reports an answer it cannot read back, which the client answers with a bail with a bad-result diagnostic', async () => {
		const channel = await openChannel();
		const sent = channel.outgoing(request(1, bigStream(100))) as { params: { args: { bulk: { slot: number } } } };
		expect(sent.params.args.bulk.slot).toBe(0);
		const macroSaid = { severity: 'warning', message: 'from the macro' };
		const response = { jsonrpc: '2.0', id: 1, result: { outcome: 'replace', diagnostics: [macroSaid], tokens: { bulk: { slot: 0, offset: 0, tokens: 1_000_000, textBytes: 0 } } } };
		const answer = channel.incoming(response as never) as { result: unknown };
		// The transport only reports it; the supervisor turns it into the bail (client/bail.ts).
		expect(answer.result).toBeInstanceOf(UnreadableAnswer);
		const bail = unreadableAnswerBail(answer.result as InstanceType<typeof UnreadableAnswer>);
		expect(bail.outcome).toBe('bail');
		expect(bail.diagnostics).toEqual([
			macroSaid,
			{
				severity: 'error',
				code: 'bad-result',
				message: expect.stringMatching(
					/^bad result: the host's answer is unreadable: result\.tokens could not be read from .*slot-0 \(the stream ends at byte 24000000 of slot-0, which has only \d+ bytes\)$/,
				),
			},
		]);
		channel.dispose();
		expect(existsSync(channel.offer.dir)).toBe(false);
	});

	it('turns an answer file it cannot read, or one in a client slot, into a bail', async () => {
		const channel = await openChannel();
		const response = (slot: number) => ({ jsonrpc: '2.0', id: 9, result: { outcome: 'replace', diagnostics: [], tokens: { bulk: { slot, offset: 0, tokens: 1, textBytes: 0 } } } }) as never;
		const bailOf = (message: unknown): ExpandResult => {
			const result = (message as { result: unknown }).result;
			expect(result).toBeInstanceOf(UnreadableAnswer);
			return unreadableAnswerBail(result as InstanceType<typeof UnreadableAnswer>);
		};
		const missing = bailOf(channel.incoming(response(1 << 20)));
		expect(missing.outcome).toBe('bail');
		expect(missing.diagnostics[0].message).toMatch(/result\.tokens could not be read from .*slot-1048576 \(ENOENT\)$/);
		const misplaced = bailOf(channel.incoming(response(3)));
		expect(misplaced.diagnostics[0].message).toBe(
			"bad result: the host's answer is unreadable: result.tokens.bulk.slot is 3, but the request was sent inline, so the answer must be in an answer file (slot 1048576 or above)",
		);
		channel.dispose();
	});

	it('sends nothing through slots until enabled', async () => {
		const channel = BulkChannel.create({ root, minBytes: 0 });
		if (typeof channel === 'string') throw new Error(channel);
		await channel.ready();
		const message = request(1, bigStream(100));
		expect(channel.outgoing(message)).toBe(message);
		channel.dispose();
	});
});

/** A process id no process has now. */
function deadPid(): number {
	for (let pid = 4_000_000; ; pid--) {
		try {
			process.kill(pid, 0);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ESRCH') return pid;
		}
	}
}
