/**
 * Protocol fuzzing against the real host process (`node dist/server/main.js`): 10,000 generated
 * inputs (fast-check) in batches through one host. Broken headers, bad Content-Length values,
 * truncated bodies, bodies that are not JSON, valid JSON-RPC with wrong param shapes, types and
 * missing fields, unknown methods and notifications, odd ids, blank lines, bulk-stream references to
 * slot files that hold a stream, garbage, nothing or do not exist; then 64 MiB messages.
 *
 * After each batch a probe request must be answered, and every request of the batch that carried a
 * usable id must have been answered exactly once (with a result or a JSON-RPC error). The host never
 * exits, its stdout only ever carries well-formed frames, and its resident memory stays flat.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_MAIN, LIBC_BASIC } from './support.js';

/** Inputs in all: BATCHES × BATCH_SIZE. */
const BATCHES = 200;
const BATCH_SIZE = 50;
const SEED = Number(process.env.FUZZ_SEED ?? 20_240_601);
const MIB = 1024 * 1024;

const KNOWN_METHODS = ['initialize', 'loadLibrary', 'listMacros', 'expandInline', 'expandAttribute', 'expandDerive', 'postProcess'];
/** Names the fixture library provides that return normally (never bang_*, which would crash the host on purpose). */
const SAFE_MACROS = ['noop', 'wrap', 'remove', 'bail', 'aux', 'tag', 'Named', 'Hello'];

/** One generated input: its bytes, and the id whose answer it must get (when it carries a usable one). */
interface Input {
	bytes: Buffer;
	answerId?: string | number;
	label: string;
	/**
	 * An unfinished header block (`Content-Length: 2\r\n` with no empty line): the next input's header
	 * lines join it, so the framing rightly reads the next message by this block's length.
	 */
	mergesWithNext?: boolean;
}

/** Gives an input a short description, so a failing batch prints as labels rather than bytes. */
function described(input: Input): Input {
	return Object.assign(input, { [fc.toStringMethod]: () => `${input.label}${input.answerId === undefined ? '' : ` #${input.answerId}`}` });
}

// ---- The host under test, driven with raw bytes ----

interface Response {
	id: unknown;
	result?: unknown;
	error?: { code: number; message: string };
}

class RawHost {
	readonly child: ChildProcessWithoutNullStreams;
	readonly answers = new Map<string, Response[]>();
	readonly unframed: string[] = [];
	nullIdErrors = 0;
	private buffer = Buffer.alloc(0);
	private waiters = new Map<string, (response: Response) => void>();
	stderr = '';

	constructor() {
		this.child = spawn(process.execPath, [HOST_MAIN], { cwd: process.cwd() });
		this.child.stdin.on('error', () => undefined);
		this.child.stderr.setEncoding('utf8').on('data', (text: string) => {
			// Only the tail matters for a failure message; the host logs every bad input.
			this.stderr = (this.stderr + text).slice(-20_000);
		});
		this.child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
	}

	get pid(): number {
		return this.child.pid!;
	}

	async write(bytes: Buffer): Promise<void> {
		if (!this.child.stdin.write(bytes)) await new Promise((resolve) => this.child.stdin.once('drain', resolve));
	}

	/** Sends a request and waits for its answer. */
	async request(id: string, method: string, params?: unknown, timeoutMs = 30_000): Promise<Response> {
		const answered = new Promise<Response>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`no answer to ${method} (${id}) within ${timeoutMs} ms; host stderr:\n${this.stderr.slice(-3000)}`)), timeoutMs);
			this.waiters.set(id, (response) => {
				clearTimeout(timer);
				resolve(response);
			});
		});
		await this.write(frame({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }));
		return answered;
	}

	residentMiB(): number {
		const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${this.pid}/status`, 'latin1'));
		return Number(match![1]) / 1024;
	}

	private onData(chunk: Buffer): void {
		this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
		for (;;) {
			const end = this.buffer.indexOf('\r\n\r\n');
			if (end === -1) return;
			const header = this.buffer.subarray(0, end).toString('latin1');
			const match = /^Content-Length: (\d+)$/im.exec(header);
			if (!match) {
				// Anything on stdout that is not a frame breaks the invariant; record it and resync.
				this.unframed.push(header.slice(0, 200));
				this.buffer = this.buffer.subarray(end + 4);
				continue;
			}
			const length = Number(match[1]);
			if (this.buffer.length < end + 4 + length) return;
			const body = this.buffer.subarray(end + 4, end + 4 + length).toString('utf8');
			this.buffer = this.buffer.subarray(end + 4 + length);
			let response: Response;
			try {
				response = JSON.parse(body) as Response;
			} catch {
				this.unframed.push(`a body that is not JSON: ${body.slice(0, 200)}`);
				continue;
			}
			if (response.id === null) {
				this.nullIdErrors++;
				continue;
			}
			const key = JSON.stringify(response.id);
			const list = this.answers.get(key) ?? [];
			list.push(response);
			this.answers.set(key, list);
			const waiter = this.waiters.get(String(response.id));
			if (waiter) {
				this.waiters.delete(String(response.id));
				waiter(response);
			}
		}
	}
}

function frame(message: unknown, extraHeaders = ''): Buffer {
	const body = Buffer.from(typeof message === 'string' ? message : JSON.stringify(message), 'utf8');
	return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n${extraHeaders}\r\n`, 'latin1'), body]);
}

// ---- Generators ----

let nextId = 0;
/** A fresh id, alternately a number and a string, so every answer can be matched to its request. */
function freshId(): string | number {
	nextId++;
	return nextId % 2 === 0 ? nextId : `fz-${nextId}`;
}

const u32ish = fc.oneof(fc.nat({ max: 50 }), fc.constantFrom(0xffffffff, 0x100000000, -1, 1.5, Number.NaN), fc.string({ maxLength: 3 }));

/** A sound token stream of identifiers, with spans. */
const validStream = fc.array(fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/), { maxLength: 40 }).map((words) => {
	let text = '';
	const records: number[] = [];
	for (const w of words) {
		records.push(0, 0, text.length, w.length, 10 + text.length, 10 + text.length + w.length);
		text += w;
	}
	return { text, records };
});

/**
 * The bulk directory the host is offered: slot-0 holds a sound stream (until an answer overwrites it),
 * slot-1 holds bytes that are not a stream, slot-2 is empty, and other slots do not exist.
 */
const BULK_DIR = mkdtempSync(join(tmpdir(), 'macro-host-fuzz-bulk-'));
{
	const text = 'alpha_beta';
	const records = Uint32Array.from([0, 0, 0, 5, 10, 15, 1, 0, 5, 1, 15, 16, 0, 0, 6, 4, 16, 20]);
	writeFileSync(join(BULK_DIR, 'slot-0'), Buffer.concat([Buffer.from(records.buffer), Buffer.from(text)]));
	writeFileSync(join(BULK_DIR, 'slot-1'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff)));
	writeFileSync(join(BULK_DIR, 'slot-2'), '');
}
const BULK_OFFER = { dir: BULK_DIR, minBytes: 0 };

/** References to slot files: mostly near the real ones, with wrong numbers and shapes mixed in. */
const bulkStream = fc.record({
	bulk: fc.oneof(
		{
			weight: 4,
			arbitrary: fc.record(
				{
					slot: fc.oneof(fc.nat({ max: 3 }), u32ish),
					offset: fc.oneof(fc.nat({ max: 8 }).map((n) => n * 8), u32ish),
					tokens: fc.oneof(fc.nat({ max: 4 }), fc.nat({ max: 200 }), fc.constant(2 ** 40), u32ish),
					textBytes: fc.oneof(fc.nat({ max: 12 }), fc.nat({ max: 5000 }), u32ish),
				},
				{ requiredKeys: [] },
			),
		},
		{ weight: 1, arbitrary: fc.anything() },
	),
});

const tokenStream = fc.oneof(
	{ weight: 4, arbitrary: validStream },
	{ weight: 2, arbitrary: bulkStream },
	// Malformed: counts that are not a multiple of six, fields that are not u32, offsets past the text.
	{ weight: 3, arbitrary: fc.record({ text: fc.string({ maxLength: 20 }), records: fc.array(u32ish, { maxLength: 24 }) }) },
	{ weight: 1, arbitrary: fc.record({ text: fc.anything(), records: fc.anything() }, { requiredKeys: [] }) },
	{ weight: 1, arbitrary: fc.anything() },
);

const span = fc.oneof(
	fc.record({ start: fc.nat({ max: 100 }), end: fc.nat({ max: 100 }) }),
	fc.record({ start: u32ish, end: u32ish }, { requiredKeys: [] }),
	fc.anything(),
);
const macroName = fc.oneof(fc.constantFrom(...SAFE_MACROS), fc.string({ maxLength: 12 }).filter((n) => !n.startsWith('bang_')), fc.anything());
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, fc.anything());

/** Params for a method: usually close to the right shape, with wrong types and missing fields mixed in. */
const paramsFor: Record<string, fc.Arbitrary<unknown>> = {
	initialize: fc.record(
		{ protocolVersion: fc.oneof(fc.constant(1), fc.integer(), fc.anything()), clientInfo: fc.anything(), bulk: fc.oneof(fc.constant(BULK_OFFER), fc.anything()) },
		{ requiredKeys: [] },
	),
	loadLibrary: fc.record({ path: fc.oneof(fc.constant(''), fc.string({ maxLength: 20 }).map((s) => `/nonexistent/${s}`), fc.anything()) }, { requiredKeys: [] }),
	listMacros: fc.anything(),
	expandInline: fc.record({ name: macroName, args: tokenStream, callSite: span, library: maybe(fc.string({ maxLength: 10 })) }, { requiredKeys: [] }),
	expandAttribute: fc.record({ name: macroName, args: tokenStream, item: tokenStream, callSite: span }, { requiredKeys: [] }),
	expandDerive: fc.record(
		{ derives: fc.oneof(fc.array(macroName, { maxLength: 4 }), fc.anything()), item: tokenStream, callSite: span },
		{ requiredKeys: [] },
	),
	postProcess: fc.record({ library: maybe(fc.string({ maxLength: 10 })), auxData: fc.oneof(fc.array(fc.jsonValue(), { maxLength: 5 }), fc.anything()) }, {
		requiredKeys: [],
	}),
};

const unknownMethod = fc.string({ minLength: 1, maxLength: 16 }).filter((m) => !KNOWN_METHODS.includes(m) && m !== 'exit' && m !== 'shutdown');
const knownMethod = fc.constantFrom(...KNOWN_METHODS);
const anyParams = fc.oneof(fc.constant(undefined), fc.array(fc.anything(), { maxLength: 3 }), fc.anything());

/** A well-framed request whose id the host must answer. */
const request: fc.Arbitrary<Input> = fc
	.oneof(
		{ weight: 6, arbitrary: knownMethod.chain((method) => fc.tuple(fc.constant(method), fc.oneof({ weight: 4, arbitrary: paramsFor[method] }, anyParams))) },
		{ weight: 2, arbitrary: fc.tuple(unknownMethod, anyParams) },
	)
	.chain(([method, params]) => fc.tuple(fc.constant(method), fc.constant(params), fc.constantFrom<string | undefined>('2.0', '2.0', '2.0', '1.0', undefined)))
	.map(([method, params, jsonrpc]) => {
		const id = freshId();
		const message: Record<string, unknown> = { id, method };
		if (jsonrpc !== undefined) message.jsonrpc = jsonrpc;
		if (params !== undefined) message.params = params;
		return { bytes: frame(message), answerId: id, label: `request ${method}` };
	});

/** Notifications (no id): known and unknown methods, never `exit`. */
const notification: fc.Arbitrary<Input> = fc
	.tuple(fc.oneof(knownMethod, unknownMethod, fc.constant('$/cancelRequest')), anyParams)
	.map(([method, params]) => ({ bytes: frame({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) }), label: `notification ${method}` }));

/** Messages with ids the host cannot answer by: objects, booleans, arrays; and JSON that is not JSON-RPC at all. */
const notJsonRpc: fc.Arbitrary<Input> = fc
	.oneof(
		fc.record({ jsonrpc: fc.constant('2.0'), id: fc.oneof(fc.boolean(), fc.object({ maxDepth: 1 }), fc.array(fc.nat(), { maxLength: 2 })), method: fc.string() }),
		fc.jsonValue({ maxDepth: 3 }),
		fc.array(fc.record({ jsonrpc: fc.constant('2.0'), id: fc.nat(), method: fc.string() }), { minLength: 1, maxLength: 3 }),
	)
	.map((message) => ({ bytes: frame(JSON.stringify(message) ?? 'null'), label: 'not JSON-RPC' }));

/** Framed bodies that are not JSON: random bytes, cut JSON padded to the declared length, deep nesting. */
const badBody: fc.Arbitrary<Input> = fc.oneof(
	fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => ({ bytes: frame(Buffer.from(bytes).toString('latin1')), label: 'random body' })),
	fc.tuple(request, fc.nat()).map(([input, cut]) => {
		const body = input.bytes.subarray(input.bytes.indexOf('\r\n\r\n') + 4);
		const kept = body.subarray(0, cut % Math.max(1, body.length));
		// The declared length is the original one: the missing bytes come as spaces, so the body is cut JSON.
		const padded = Buffer.concat([kept, Buffer.alloc(body.length - kept.length, 0x20)]);
		return { bytes: Buffer.concat([Buffer.from(`Content-Length: ${padded.length}\r\n\r\n`), padded]), label: 'truncated body' };
	}),
	fc.integer({ min: 1_000, max: 200_000 }).map((depth) => ({ bytes: frame('['.repeat(depth) + ']'.repeat(depth)), label: `nesting ${depth} deep` })),
	fc.constantFrom('', '{', 'null', '"x"', '{"jsonrpc":"2.0","id":1,', '\u0000\u0001').map((body) => ({ bytes: frame(body), label: 'bad JSON' })),
);

/** Header trouble: no Content-Length, non-numbers, negative, absurd, too short, unsupported charset, garbage bytes, blank lines. */
const badHeader: fc.Arbitrary<Input> = fc.oneof(
	fc.constantFrom(
		'Content-Length: abc\r\n\r\n{}',
		'Content-Length: -1\r\n\r\n{}',
		'Content-Length: 1e3\r\n\r\n{}',
		'Content-Lenght: 2\r\n\r\n{}',
		'content-length:\r\n\r\n',
		'Content-Length: 2\r\n',
		'Content-Length 2\r\n\r\n{}',
		': 2\r\n\r\n{}',
		'Content-Length: 99999999999999999999\r\n\r\n{"jsonrpc":"2.0","id":"lost","method":"listMacros"}',
		'Content-Length: 300000000\r\n\r\nxyz',
		'\r\n',
		'\n\n',
		'\r\n\r\n',
		'\r\n\r\n\r\n\r\n',
	).map((text) => ({
		bytes: Buffer.from(text, 'latin1'),
		label: `header ${JSON.stringify(text.slice(0, 24))}`,
		mergesWithNext: text === 'Content-Length: 2\r\n',
	})),
	fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => ({ bytes: Buffer.from(bytes), label: 'garbage bytes' })),
	fc.string({ maxLength: 40 }).map((text) => ({ bytes: Buffer.from(`${text}\r\n\r\n`, 'utf8'), label: 'garbage header' })),
	// Too short: the body is cut, and its rest is garbage before the next header.
	fc.tuple(request, fc.nat({ max: 30 })).map(([input, short]) => {
		const body = input.bytes.subarray(input.bytes.indexOf('\r\n\r\n') + 4);
		const declared = Math.max(0, body.length - 1 - short);
		return { bytes: Buffer.concat([Buffer.from(`Content-Length: ${declared}\r\n\r\n`), body]), label: 'Content-Length too short' };
	}),
	request.map((input) => {
		const body = input.bytes.subarray(input.bytes.indexOf('\r\n\r\n') + 4);
		const header = `Content-Length: ${body.length}\r\nContent-Type: application/vscode-jsonrpc; charset=klingon\r\n\r\n`;
		return { bytes: Buffer.concat([Buffer.from(header), body]), label: 'unsupported charset' };
	}),
);

const input: fc.Arbitrary<Input> = fc
	.oneof(
		{ weight: 5, arbitrary: request },
		{ weight: 1, arbitrary: notification },
		{ weight: 1, arbitrary: notJsonRpc },
		{ weight: 2, arbitrary: badBody },
		{ weight: 2, arbitrary: badHeader },
	)
	.map(described);

// ---- The test ----

describe('the host under protocol fuzzing', () => {
	let host: RawHost;
	const rss: number[] = [];
	let probes = 0;

	const probe = async (): Promise<void> => {
		const answer = await host.request(`probe-${++probes}`, 'listMacros');
		expect(answer.error).toBeUndefined();
	};

	beforeAll(async () => {
		host = new RawHost();
		expect((await host.request('init', 'initialize', { protocolVersion: 1, bulk: BULK_OFFER })).result).toMatchObject({ capabilities: { bulk: true } });
		expect((await host.request('load', 'loadLibrary', { path: LIBC_BASIC })).error).toBeUndefined();
	});

	afterAll(() => {
		if (host.child.exitCode === null) host.child.kill('SIGKILL');
		rmSync(BULK_DIR, { recursive: true, force: true });
	});

	it(`answers or ignores ${BATCHES * BATCH_SIZE} generated inputs, and never stops answering`, async () => {
		let inputs = 0;
		await fc.assert(
			fc.asyncProperty(fc.array(input, { minLength: BATCH_SIZE, maxLength: BATCH_SIZE }), async (batch) => {
				for (const item of batch) await host.write(item.bytes);
				inputs += batch.length;
				await probe();
				expect(host.child.exitCode).toBeNull();
				// The host serves in arrival order: by the probe's answer, every request before it is answered.
				batch.forEach((item, i) => {
					if (item.answerId === undefined) return;
					const answers = host.answers.get(JSON.stringify(item.answerId)) ?? [];
					const merged = i > 0 && batch[i - 1].mergesWithNext === true;
					if (answers.length > 1 || (answers.length === 0 && !merged)) {
						throw new Error(`${item.label} (id ${item.answerId}) got ${answers.length} answers`);
					}
				});
				rss.push(host.residentMiB());
			}),
			{ numRuns: BATCHES, seed: SEED, endOnFailure: true },
		);
		expect(inputs).toBeGreaterThanOrEqual(10_000);
		expect(host.unframed).toEqual([]);
		// Garbage with no id to answer is reported once per drop, with id null.
		expect(host.nullIdErrors).toBeGreaterThan(0);
		// Only ids that were sent came back.
		for (const key of host.answers.keys()) expect(key).toMatch(/^("fz-\d+"|\d+|"probe-\d+"|"init"|"load")$/);
		// Flat memory: the last quarter of the run peaks no higher than the first quarter, give or take.
		const quarter = Math.floor(rss.length / 4);
		const early = Math.max(...rss.slice(0, quarter));
		const late = Math.max(...rss.slice(-quarter));
		expect(late).toBeLessThan(early + 64);
		expect(Math.max(...rss)).toBeLessThan(512);
	});

	it('takes a 64 MiB message (and a 64 MiB body that is not JSON) and goes on', async () => {
		const text = 'a'.repeat(64 * MIB);
		const big = await host.request('big', 'expandInline', { name: 'noop', args: { text, records: [0, 0, 0, 1, 0, 1] } }, 120_000);
		expect(big).toEqual({ jsonrpc: '2.0', id: 'big', result: { outcome: 'leave', diagnostics: [] } });
		await host.write(frame(`{${'x'.repeat(64 * MIB)}`));
		await probe();
		expect(host.child.exitCode).toBeNull();
		// Well under the default memory limit, and nothing of the two messages is kept.
		expect(host.residentMiB()).toBeLessThan(1024);
	});

	it('still expands normally afterwards, and ends cleanly on shutdown and exit', async () => {
		const args = { text: 'xy', records: [0, 0, 0, 2, 5, 7] };
		const wrapped = await host.request('final', 'expandInline', { name: 'wrap', args });
		expect(wrapped.result).toEqual({
			outcome: 'replace',
			diagnostics: [],
			tokens: { text: '(xy)', records: [1, 1, 0, 1, 0xffffffff, 0xffffffff, 0, 0, 1, 2, 5, 7, 1, 0, 3, 1, 0xffffffff, 0xffffffff] },
		});
		expect((await host.request('bye', 'shutdown')).error).toBeUndefined();
		const exited = new Promise<number | null>((resolve) => host.child.on('exit', (code) => resolve(code)));
		await host.write(frame({ jsonrpc: '2.0', method: 'exit' }));
		expect(await exited).toBe(0);
	});
});
