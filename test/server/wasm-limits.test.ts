/**
 * The wasm sandbox against hand-written modules (test/fixtures/wasm/module-builder.ts), through a
 * real host process: tables and element segments capped at load, one memory budget for the host,
 * state that does not survive a call (tables, dropped segments), results checked as native ones
 * are, and the right diagnosis for traps, exceptions, start functions and allocators.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../dist/protocol/version.js';
import { buildModule, Op, RESULT_AT, sleb, uleb, words, type ModuleParts } from '../fixtures/wasm/module-builder.js';
import { connectHost, EMPTY, requestError, type ConnectedHost } from './harness.js';

let dir: string;
let counter = 0;

/** Writes a module made of `parts` to a new file; returns its path. */
function moduleFile(parts: ModuleParts): string {
	const path = join(dir, `m${++counter}.wasm`);
	writeFileSync(path, buildModule(parts));
	return path;
}

async function start(wasm?: Record<string, number>): Promise<{ host: ConnectedHost; pid: number }> {
	const host = connectHost('json');
	const info = (await host.connection.sendRequest('initialize', { protocolVersion: PROTOCOL_VERSION, wasm })) as { pid: number };
	return { host, pid: info.pid };
}

function expandM(host: ConnectedHost, library: string): Promise<any> {
	return host.connection.sendRequest('expandInline', { name: 'm', args: EMPTY, callSite: { start: 0, end: 10 }, library });
}

function bail(message: string, code: string): unknown {
	return { outcome: 'bail', diagnostics: [{ severity: 'error', message, code }] };
}

/** An mh_result: outcome, tokens (ptr, len, text, text_len), no aux data, diagnostics (ptr, len). */
function result(outcome: number, diagnostics: [number, number] = [0, 0], tokens: number[] = [0, 0, 0, 0]): Uint8Array {
	return words(outcome, ...tokens, 0, 0, ...diagnostics);
}

/** A module whose mh_expand returns the result struct `struct` (at RESULT_AT), with more data after it. */
function answering(struct: Uint8Array, more: { offset: number; bytes: Uint8Array }[] = [], memory?: ModuleParts['memory']): ModuleParts {
	return { memory, data: [{ offset: RESULT_AT, bytes: struct }, ...more] };
}

beforeAll(() => {
	dir = mkdtempSync(join(tmpdir(), 'macro-host-wasm-limits-'));
});
afterAll(() => {
	rmSync(dir, { recursive: true, force: true });
});

describe('tables, element segments and the memory budget', () => {
	let host: ConnectedHost;
	let pid: number;
	beforeAll(async () => {
		({ host, pid } = await start());
	});
	afterAll(async () => {
		await host.close();
	});

	async function stillServing(): Promise<void> {
		const path = moduleFile({ data: [{ offset: RESULT_AT, bytes: result(0) }] });
		await host.connection.sendRequest('loadLibrary', { path });
		expect(await expandM(host, path)).toEqual({ outcome: 'leave', diagnostics: [] });
		const again = (await host.connection.sendRequest('initialize', { protocolVersion: PROTOCOL_VERSION })) as { pid: number };
		expect(again.pid).toBe(pid);
	}

	it('refuses 30 tables of 10 million entries while loading, naming the table and the limit', async () => {
		const path = moduleFile({ tables: Array.from({ length: 30 }, () => ({ initial: 10_000_000 })) });
		expect(await requestError(host.connection, 'loadLibrary', { path })).toEqual({
			code: -33003,
			message: `cannot load macro library ${path}: its table 0 starts at 10000000 entries, more than the limit for wasm macros of 65536 entries per table`,
			data: { path, reason: 'memoryLimit' },
		});
		await stillServing();
	});

	it('refuses an element segment longer than the limit', async () => {
		const entries = 70_000;
		// A passive segment (flags 1) of function indices (kind 0x00), all function 0.
		const path = moduleFile({ tables: [{ initial: 1 }], elements: [[1, 0x00, ...uleb(entries), ...new Array<number>(entries).fill(0)]] });
		expect(await requestError(host.connection, 'loadLibrary', { path })).toEqual({
			code: -33003,
			message: `cannot load macro library ${path}: its element segment 0 has 70000 entries, more than the limit for wasm macros of 65536 entries per segment`,
			data: { path, reason: 'memoryLimit' },
		});
	});

	it('caps table.grow at the limit: growing by 100000 fails inside the module', async () => {
		// The outcome word is what table.grow returned: -1 (failure) is an unknown outcome.
		const grow = [Op.i32Const, ...sleb(RESULT_AT), Op.refNull, Op.funcref, Op.i32Const, ...sleb(100_000), Op.misc, 15, 0, Op.i32Store, 2, 0, Op.i32Const, ...sleb(RESULT_AT)];
		const path = moduleFile({ tables: [{ initial: 1 }], expand: grow });
		await host.connection.sendRequest('loadLibrary', { path });
		expect(await expandM(host, path)).toEqual(bail(`bad result: the inline macro m (${path}) returned unknown outcome 4294967295`, 'bad-result'));
	});

	it('refuses a module starting at 16384 pages (page limit raised) as over the budget, and keeps serving', async () => {
		const big = await start({ maxMemoryPages: 65536 });
		try {
			const path = moduleFile({ memory: { initial: 16384 } });
			expect(await requestError(big.host.connection, 'loadLibrary', { path })).toEqual({
				code: -33003,
				message:
					`cannot load macro library ${path}: it needs 2049 MiB of host memory (memory, snapshot and tables) and up to 3072 MiB more while a call runs, ` +
					`which does not fit the host's budget for wasm macros of 1024 MiB (3072 MiB are kept for the growth of one call)`,
				data: { path, reason: 'memoryLimit' },
			});
			// With the page limit raised, only a module with a maximum of its own fits the budget.
			const small = moduleFile({ memory: { initial: 1, max: 1 }, data: [{ offset: RESULT_AT, bytes: result(0) }] });
			await big.host.connection.sendRequest('loadLibrary', { path: small });
			expect(await expandM(big.host, small)).toEqual({ outcome: 'leave', diagnostics: [] });
		} finally {
			await big.host.close();
		}
	});

	it('counts every module against one budget: the module that does not fit is a load error', async () => {
		const budget = await start({ budgetMiB: 4 });
		try {
			// 16 pages (1 MiB) with a fixed maximum: 1 MiB live and 1 MiB of snapshot, no growth.
			const parts: ModuleParts = { memory: { initial: 16, max: 16 }, data: [{ offset: RESULT_AT, bytes: result(0) }] };
			const first = moduleFile(parts);
			const second = moduleFile(parts);
			const third = moduleFile(parts);
			await budget.host.connection.sendRequest('loadLibrary', { path: first });
			await budget.host.connection.sendRequest('loadLibrary', { path: second });
			expect(await requestError(budget.host.connection, 'loadLibrary', { path: third })).toEqual({
				code: -33003,
				message:
					`cannot load macro library ${third}: it needs 2 MiB of host memory (memory, snapshot and tables) and up to 0 MiB more while a call runs, ` +
					`which does not fit the host's budget for wasm macros of 4 MiB, of which 4 MiB are held by 2 loaded modules (0 MiB are kept for the growth of one call)`,
				data: { path: third, reason: 'memoryLimit' },
			});
			expect(await expandM(budget.host, second)).toEqual({ outcome: 'leave', diagnostics: [] });
		} finally {
			await budget.host.close();
		}
	});

	it('refuses a bad budget in initialize', async () => {
		expect(await requestError(host.connection, 'initialize', { protocolVersion: PROTOCOL_VERSION, wasm: { budgetMiB: 0 } })).toEqual({
			code: -32602,
			message: 'initialize: params.wasm.budgetMiB must be an integer number of MiB from 1 to 1048576, got 0',
		});
	});
});

describe('no state survives a call', () => {
	let host: ConnectedHost;
	beforeAll(async () => {
		({ host } = await start());
	});
	afterAll(async () => {
		await host.close();
	});

	async function fiveCalls(path: string): Promise<string[]> {
		await host.connection.sendRequest('loadLibrary', { path });
		const outcomes: string[] = [];
		for (let i = 0; i < 5; i++) outcomes.push((await expandM(host, path)).outcome);
		return outcomes;
	}

	it('table.grow gives the same answer on every call', async () => {
		// Outcome = what table.grow(null, 1) returned: 1 (replace) on a fresh table of one entry.
		const grow = [Op.i32Const, ...sleb(RESULT_AT), Op.refNull, Op.funcref, Op.i32Const, 1, Op.misc, 15, 0, Op.i32Store, 2, 0, Op.i32Const, ...sleb(RESULT_AT)];
		expect(await fiveCalls(moduleFile({ tables: [{ initial: 1 }], expand: grow }))).toEqual(Array(5).fill('replace'));
	});

	it('table.set is undone before the next call', async () => {
		// Outcome = whether entry 0 is null (1, replace), then entry 0 is set to function 0.
		const set = [
			Op.i32Const, ...sleb(RESULT_AT), Op.i32Const, 0, Op.tableGet, 0, Op.refIsNull, Op.i32Store, 2, 0,
			Op.i32Const, 0, Op.refFunc, 0, Op.tableSet, 0,
			Op.i32Const, ...sleb(RESULT_AT),
		];
		// A declarative segment (flags 3) declares function 0 for ref.func.
		const path = moduleFile({ tables: [{ initial: 1, max: 1 }], elements: [[3, 0x00, 1, 0]], expand: set });
		expect(await fiveCalls(path)).toEqual(Array(5).fill('replace'));
	});

	// Outcome = the byte at FAR (0 on a fresh memory: leave), then `write` changes that byte.
	const FAR = 60_000;
	const readFar = [Op.i32Const, ...sleb(RESULT_AT), Op.i32Const, ...sleb(FAR), 0x2d, 0, 0, Op.i32Store, 2, 0];
	const writes: [string, number[]][] = [
		['i32.store8', [Op.i32Const, ...sleb(FAR - 8), Op.i32Const, 3, 0x3a, 0, 8]],
		['memory.fill', [Op.i32Const, ...sleb(FAR), Op.i32Const, 2, Op.i32Const, 1, Op.misc, 11, 0]],
		['memory.copy', [Op.i32Const, ...sleb(FAR), Op.i32Const, ...sleb(RESULT_AT + 40), Op.i32Const, 1, Op.misc, 10, 0, 0]],
	];
	it.each(writes)('a byte written by %s far from everything else is restored', async (_what, write) => {
		const path = moduleFile({
			data: [{ offset: RESULT_AT, bytes: result(0) }, { offset: RESULT_AT + 40, bytes: Uint8Array.of(1) }],
			expand: [...readFar, ...write, Op.i32Const, ...sleb(RESULT_AT)],
		});
		expect(await fiveCalls(path)).toEqual(Array(5).fill('leave'));
	});

	it('a dropped data segment is back on the next call', async () => {
		// memory.init copies the passive segment (index 2, after the manifest and the result) (outcome word 1) over the result, then data.drop empties it.
		const init = [
			Op.i32Const, ...sleb(RESULT_AT), Op.i32Const, 0, Op.i32Const, 4, Op.misc, 8, 2, 0,
			Op.misc, 9, 2,
			Op.i32Const, ...sleb(RESULT_AT),
		];
		const path = moduleFile({ data: [{ offset: RESULT_AT, bytes: result(0) }], passiveData: [words(1)], expand: init });
		expect(await fiveCalls(path)).toEqual(Array(5).fill('replace'));
	});
});

describe('wasm results get the checks native results get', () => {
	let host: ConnectedHost;
	beforeAll(async () => {
		({ host } = await start());
	});
	afterAll(async () => {
		await host.close();
	});

	async function answer(parts: ModuleParts): Promise<{ path: string; reply: any }> {
		const path = moduleFile(parts);
		await host.connection.sendRequest('loadLibrary', { path });
		return { path, reply: await expandM(host, path) };
	}

	const DIAGNOSTIC_AT = 3072;
	const MESSAGE_AT = 3584;
	const hi = { offset: MESSAGE_AT, bytes: new TextEncoder().encode('hi') };

	it('a diagnostic span that ends before it starts', async () => {
		const { path, reply } = await answer(answering(result(0, [DIAGNOSTIC_AT, 1]), [{ offset: DIAGNOSTIC_AT, bytes: words(0, 10, 5, MESSAGE_AT, 2) }, hi]));
		expect(reply).toEqual(bail(`bad result: the inline macro m (${path}) diagnostic 0 has span 10..5, which ends before it starts`, 'bad-result'));
	});

	it('a diagnostic span with one end at the call site', async () => {
		const { path, reply } = await answer(answering(result(0, [DIAGNOSTIC_AT, 1]), [{ offset: DIAGNOSTIC_AT, bytes: words(0, 3, 0xffffffff, MESSAGE_AT, 2) }, hi]));
		expect(reply).toEqual(
			bail(`bad result: the inline macro m (${path}) diagnostic 0 has span 3..call-site: only one end is the call site (0xFFFFFFFF), a generated token has both`, 'bad-result'),
		);
	});

	it('an output token with one end at the call site', async () => {
		const token = { offset: DIAGNOSTIC_AT, bytes: words(0, 0, 0, 1, 0xffffffff, 7) };
		const { path, reply } = await answer(answering(result(1, [0, 0], [DIAGNOSTIC_AT, 1, MESSAGE_AT, 1]), [token, hi]));
		expect(reply).toEqual(
			bail(`bad result: the inline macro m (${path}) output: token 0 has span call-site..7: only one end is the call site (0xFFFFFFFF), a generated token has both`, 'bad-result'),
		);
	});

	it('more than 2^21 output tokens', async () => {
		const { path, reply } = await answer(answering(result(1, [0, 0], [DIAGNOSTIC_AT, 2 ** 21 + 1, 0, 0])));
		expect(reply).toEqual(bail(`bad result: the inline macro m (${path}) output has 2097153 tokens, more than the 2097152 a result may hold`, 'bad-result'));
	});

	it('more than 100000 diagnostics', async () => {
		const { path, reply } = await answer(answering(result(0, [DIAGNOSTIC_AT, 300_000])));
		expect(reply).toEqual(bail(`bad result: the inline macro m (${path}) result has 300000 diagnostics, more than the 100000 a result may hold`, 'bad-result'));
	});

	it('a 96 MiB message is a bad result, not a rejected request', async () => {
		const { path, reply } = await answer(answering(result(0, [DIAGNOSTIC_AT, 1]), [{ offset: DIAGNOSTIC_AT, bytes: words(0, 0xffffffff, 0xffffffff, 0, 96 * 1048576) }]));
		expect(reply).toEqual(
			bail(`bad result: the inline macro m (${path}) diagnostic 0 message has 100663296 bytes, more than the 67108864 a result may hold`, 'bad-result'),
		);
	});

	it('forty diagnostics pointing at one 33 MiB message are refused before they multiply', async () => {
		const length = 33 * 1048576;
		const diagnostics = words(...Array.from({ length: 40 }, () => [0, 0xffffffff, 0xffffffff, 65536, length]).flat());
		const { path, reply } = await answer(answering(result(0, [DIAGNOSTIC_AT, 40]), [{ offset: DIAGNOSTIC_AT, bytes: diagnostics }], { initial: 600 }));
		expect(reply).toEqual(
			bail(
				`bad result: the inline macro m (${path}) result's diagnostic messages (up to diagnostic 1) has ${2 * length} bytes, more than the 67108864 a result may hold`,
				'bad-result',
			),
		);
	});

	it('a message that is not UTF-8', async () => {
		const bad = { offset: MESSAGE_AT, bytes: Uint8Array.of(0xff, 0xfe) };
		const { path, reply } = await answer(answering(result(0, [DIAGNOSTIC_AT, 1]), [{ offset: DIAGNOSTIC_AT, bytes: words(0, 0xffffffff, 0xffffffff, MESSAGE_AT, 2) }, bad]));
		expect(reply).toEqual(bail(`bad result: the inline macro m (${path}) diagnostic 0 message is not valid UTF-8`, 'bad-result'));
	});

	it('keeps a sound diagnostic with its span', async () => {
		const { reply } = await answer(answering(result(0, [DIAGNOSTIC_AT, 1]), [{ offset: DIAGNOSTIC_AT, bytes: words(1, 2, 4, MESSAGE_AT, 2) }, hi]));
		expect(reply).toEqual({ outcome: 'leave', diagnostics: [{ severity: 'warning', message: 'hi', span: { start: 2, end: 4 } }] });
	});
});

describe('diagnoses', () => {
	let host: ConnectedHost;
	beforeAll(async () => {
		({ host } = await start({ timeoutMs: 1000 }));
	});
	afterAll(async () => {
		await host.close();
	});

	async function load(parts: ModuleParts): Promise<string> {
		const path = moduleFile(parts);
		await host.connection.sendRequest('loadLibrary', { path });
		return path;
	}

	it('a trap in a module whose memory has a fixed maximum is a trap, not running out of memory', async () => {
		const path = await load({ memory: { initial: 1, max: 1 }, expand: [Op.unreachable] });
		expect(await expandM(host, path)).toEqual(bail(`the inline macro m (${path}) trapped: unreachable`, 'wasm-trap'));
	});

	it('an mh_alloc that returns a block past the end of memory is a bad result naming the macro', async () => {
		// Blocks of up to 8 bytes (the manifest's) at 65520; larger ones end past the one page.
		const path = await load({ alloc: [Op.i32Const, ...sleb(65520)] });
		expect(await expandM(host, path)).toEqual(
			bail(`bad result: the inline macro m (${path}): mh_alloc(53) returned the block at 65520, which ends past the module's memory (65536 bytes)`, 'bad-result'),
		);
	});

	it('an mh_alloc failure names the macro', async () => {
		// NULL for anything larger than the manifest's 8 bytes.
		const alloc = [Op.localGet, 0, Op.i32Const, 8, Op.i32GtU, Op.if, Op.blockI32, Op.i32Const, 0, Op.else, Op.i32Const, ...sleb(4096), Op.end];
		const path = await load({ alloc });
		expect(await expandM(host, path)).toEqual(
			bail(`bad result: the inline macro m (${path}): mh_alloc(53) returned NULL: the module has no memory left for the inputs`, 'bad-result'),
		);
	});

	it('an uncaught wasm exception', async () => {
		const path = await load({ tags: 1, expand: [Op.throw, 0] });
		expect(await expandM(host, path)).toEqual(bail(`the inline macro m (${path}) threw a wasm exception that nothing caught`, 'wasm-trap'));
	});

	it('a module that already exports mh$global$0 loads and runs', async () => {
		const path = await load({
			globals: [{ type: Op.i32, mutable: true, init: [Op.i32Const, 7] }],
			extraExports: [{ name: 'mh$global$0', kind: 0, index: 0 }],
			data: [{ offset: RESULT_AT, bytes: result(0) }],
		});
		expect(await expandM(host, path)).toEqual({ outcome: 'leave', diagnostics: [] });
	});

	it('a module with a mutable v128 global loads and runs', async () => {
		const path = await load({
			globals: [{ type: Op.v128, mutable: true, init: [0xfd, 0x0c, ...new Array<number>(16).fill(0)] }],
			data: [{ offset: RESULT_AT, bytes: result(0) }],
		});
		expect(await expandM(host, path)).toEqual({ outcome: 'leave', diagnostics: [] });
	});

	it("a start function's trap is the start function's", async () => {
		const path = moduleFile({ start: [Op.unreachable] });
		expect(await requestError(host.connection, 'loadLibrary', { path })).toEqual({
			code: -33003,
			message: `cannot load macro library ${path}: its start function (run when the module is instantiated) trapped: unreachable`,
			data: { path, reason: 'badManifest' },
		});
	});

	it("a start function's hang is the start function's", async () => {
		const path = moduleFile({ start: [Op.loop, Op.blockEmpty, Op.br, 0, Op.end] });
		expect(await requestError(host.connection, 'loadLibrary', { path })).toEqual({
			code: -33003,
			message: `cannot load macro library ${path}: its start function (run when the module is instantiated) did not return within 1000 ms`,
			data: { path, reason: 'badManifest' },
		});
	});
});
