/**
 * Wasm macros through a real host process: the Rust fixture built native and wasm gives the same
 * answers byte for byte; traps, a hang, a memory blow-up and a forbidden import each give a
 * diagnostic (or a load error) while the same host process keeps serving; no state survives an
 * expansion; replies keep arrival order across native and wasm calls.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MacroHost } from '../../dist/client/index.js';
import { PROTOCOL_VERSION } from '../../dist/protocol/version.js';
import { connectHost, fixture, IDENT, LITERAL, PUNCT, requestError, tokens, EMPTY, type ConnectedHost } from './harness.js';

const NATIVE = fixture('librust_macros.so');
const WASM = fixture('rust_macros.wasm');
const MISBEHAVE = fixture('wasm_misbehave.wasm');
const IMPORTS = fixture('wasm_imports_clock.wasm');
const C_BASIC = fixture('libc_basic.so');

interface Info {
	pid: number;
	capabilities: { sandboxes: string[] };
}

async function start(wasm?: { timeoutMs?: number; maxMemoryPages?: number }, args: string[] = []): Promise<{ host: ConnectedHost; pid: number; info: Info }> {
	const host = connectHost('json', { args });
	const info = (await host.connection.sendRequest('initialize', { protocolVersion: PROTOCOL_VERSION, wasm })) as Info;
	return { host, pid: info.pid, info };
}

function inline(connection: MessageConnection, name: string, args: unknown, library?: string): Promise<any> {
	return connection.sendRequest('expandInline', { name, args, callSite: { start: 0, end: 40 }, ...(library ? { library } : {}) });
}

const ADD_ARGS = tokens([IDENT, 'a', 5], [PUNCT, ',', 6], [LITERAL, '1', 8]);
const FN_ITEM = tokens([IDENT, 'fn', 0], [IDENT, 'f', 3], [PUNCT, '(', 4], [PUNCT, ')', 5], [PUNCT, '{', 7], [IDENT, 'x', 9], [PUNCT, '}', 11]);
const STRUCT_ITEM = tokens([IDENT, 'struct', 0], [IDENT, 'Point', 7], [PUNCT, '{', 13], [PUNCT, '}', 14]);

describe('the Rust fixture built native and wasm', () => {
	let host: ConnectedHost;
	let native: any;
	let wasm: any;
	beforeAll(async () => {
		({ host } = await start());
		native = await host.connection.sendRequest('loadLibrary', { path: NATIVE });
		wasm = await host.connection.sendRequest('loadLibrary', { path: WASM });
	});
	afterAll(async () => {
		await host.close();
	});

	it('loads with the same shape, sandbox "wasm"', () => {
		expect(wasm).toEqual({ ...native, library: WASM, sandbox: 'wasm' });
		expect(native.sandbox).toBe('native');
	});

	const cases: [string, string, Record<string, unknown>][] = [
		['add', 'expandInline', { name: 'add', args: ADD_ARGS }],
		['add without a comma (bail)', 'expandInline', { name: 'add', args: tokens([IDENT, 'a', 5]) }],
		['count_aux (aux data)', 'expandInline', { name: 'count_aux', args: ADD_ARGS }],
		['noop', 'expandInline', { name: 'noop', args: EMPTY }],
		['rust_prints_stdout', 'expandInline', { name: 'rust_prints_stdout', args: ADD_ARGS }],
		['bang_panic (a panic becomes the same BAIL)', 'expandInline', { name: 'bang_panic', args: EMPTY }],
		['instrument (attribute)', 'expandAttribute', { name: 'instrument', args: EMPTY, item: FN_ITEM }],
		['ToValue + Describe (derives)', 'expandDerive', { derives: ['ToValue', 'Describe'], item: STRUCT_ITEM }],
		['a derive on an item it cannot handle', 'expandDerive', { derives: ['ToValue'], item: FN_ITEM }],
		['non-ASCII text', 'expandInline', { name: 'add', args: tokens([IDENT, 'é', 5], [PUNCT, ',', 7], [LITERAL, '"日本"', 9]) }],
	];
	it.each(cases)('%s gives byte-identical answers', async (_what, method, params) => {
		const call = { ...params, callSite: { start: 0, end: 30 } };
		const fromNative = await host.connection.sendRequest(method, { ...call, library: NATIVE });
		const fromWasm = await host.connection.sendRequest(method, { ...call, library: WASM });
		expect(JSON.stringify(fromWasm)).toBe(JSON.stringify(fromNative));
	});

	it('gives identical answers for a large input (memory grows past the snapshot) and keeps working after', async () => {
		const specs: [number, string, number][] = [];
		for (let i = 0; i < 20_000; i++) specs.push([IDENT, `v${i}`, i * 8], [PUNCT, '+', i * 8 + 5]);
		specs.push([IDENT, 'z', 200_000], [PUNCT, ',', 200_002], [LITERAL, '1', 200_004]);
		const big = tokens(...specs);
		const fromNative = await inline(host.connection, 'add', big, NATIVE);
		const fromWasm = await inline(host.connection, 'add', big, WASM);
		expect(fromWasm.tokens.records.length).toBe((specs.length + 4) * 6);
		expect(JSON.stringify(fromWasm)).toBe(JSON.stringify(fromNative));
		expect(JSON.stringify(await inline(host.connection, 'add', ADD_ARGS, WASM))).toBe(JSON.stringify(await inline(host.connection, 'add', ADD_ARGS, NATIVE)));
	});

	it('gives identical answers over msgpack', async () => {
		const msgpack = connectHost('msgpack');
		try {
			await msgpack.connection.sendRequest('initialize', { protocolVersion: PROTOCOL_VERSION });
			await msgpack.connection.sendRequest('loadLibrary', { path: NATIVE });
			await msgpack.connection.sendRequest('loadLibrary', { path: WASM });
			const args = { text: ADD_ARGS.text, records: Uint32Array.from(ADD_ARGS.records) };
			const fromNative = (await inline(msgpack.connection, 'add', args, NATIVE)) as { tokens: { records: Uint32Array } };
			const fromWasm = (await inline(msgpack.connection, 'add', args, WASM)) as { tokens: { records: Uint32Array } };
			expect(fromWasm.tokens.records).toBeInstanceOf(Uint32Array);
			expect(fromWasm).toEqual(fromNative);
		} finally {
			await msgpack.close();
		}
	});

	it('bang_panic carries the panic message on wasm too', async () => {
		expect(await inline(host.connection, 'bang_panic', EMPTY, WASM)).toEqual({
			outcome: 'bail',
			diagnostics: [{ severity: 'error', message: 'macro `bang_panic` panicked: boom at the macro' }],
		});
	});

	it('postProcess gives byte-identical answers', async () => {
		const auxData = [{ macro: 'count_aux', args: 3 }, 2];
		const fromNative = await host.connection.sendRequest('postProcess', { library: NATIVE, auxData });
		const fromWasm = await host.connection.sendRequest('postProcess', { library: WASM, auxData });
		expect(JSON.stringify(fromWasm)).toBe(JSON.stringify(fromNative));
		expect(fromWasm).toEqual({ diagnostics: [{ severity: 'note', message: 'rust post-process saw 2 aux values' }] });
	});

	it('an expansion run 100 times gives identical output', async () => {
		const first = JSON.stringify(await inline(host.connection, 'add', ADD_ARGS, WASM));
		const runs = await Promise.all(Array.from({ length: 100 }, () => inline(host.connection, 'add', ADD_ARGS, WASM)));
		for (const run of runs) expect(JSON.stringify(run)).toBe(first);
	});

	it('answers in arrival order when native and wasm calls interleave', async () => {
		const order: number[] = [];
		const calls = Array.from({ length: 20 }, (_, i) =>
			inline(host.connection, i % 3 === 0 ? 'count_aux' : 'add', ADD_ARGS, i % 2 === 0 ? WASM : NATIVE).then((r) => {
				order.push(i);
				return r;
			}),
		);
		const results = await Promise.all(calls);
		expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
		expect(results[3]).toEqual(results[0]);
	});
});

describe('the wasm sandbox', () => {
	let host: ConnectedHost;
	let pid: number;
	let info: Info;
	beforeAll(async () => {
		({ host, pid, info } = await start({ timeoutMs: 1000, maxMemoryPages: 64 }));
		await host.connection.sendRequest('loadLibrary', { path: WASM });
		await host.connection.sendRequest('loadLibrary', { path: MISBEHAVE });
	});
	afterAll(async () => {
		await host.close();
	});

	/** The host still answers, from the same process. */
	async function stillServing(): Promise<void> {
		expect((await inline(host.connection, 'add', ADD_ARGS)).outcome).toBe('replace');
		const again = (await host.connection.sendRequest('initialize', { protocolVersion: PROTOCOL_VERSION })) as Info;
		expect(again.pid).toBe(pid);
	}

	function bail(message: string, code: string): unknown {
		return { outcome: 'bail', diagnostics: [{ severity: 'error', message, code }] };
	}

	it('says it runs wasm', () => {
		expect(info.capabilities.sandboxes).toEqual(['native', 'wasm']);
	});

	it('turns unreachable into a trap diagnostic', async () => {
		expect(await inline(host.connection, 'wasm_unreachable', EMPTY)).toEqual(
			bail(`the inline macro wasm_unreachable (${MISBEHAVE}) trapped: unreachable`, 'wasm-trap'),
		);
		await stillServing();
	});

	it('turns an out-of-bounds access into a trap diagnostic', async () => {
		expect(await inline(host.connection, 'wasm_out_of_bounds', EMPTY)).toEqual(
			bail(`the inline macro wasm_out_of_bounds (${MISBEHAVE}) trapped: memory access out of bounds`, 'wasm-trap'),
		);
		await stillServing();
	});

	it('turns stack exhaustion into a trap diagnostic', async () => {
		const result = await inline(host.connection, 'wasm_stack_overflow', EMPTY);
		expect(result.outcome).toBe('bail');
		expect(result.diagnostics).toHaveLength(1);
		expect(result.diagnostics[0].code).toBe('wasm-trap');
		expect(result.diagnostics[0].message).toMatch(/^the inline macro wasm_stack_overflow \(.*\) trapped: /);
		await stillServing();
	});

	it('stops an infinite loop after the timeout, not the host', async () => {
		expect(await inline(host.connection, 'wasm_hang', EMPTY)).toEqual(
			bail(`the inline macro wasm_hang (${MISBEHAVE}) timed out after 1000 ms; its wasm worker was stopped and the host keeps serving`, 'timeout'),
		);
		await stillServing();
		// The restarted worker instantiates the other module again too.
		expect(await inline(host.connection, 'wasm_counter', EMPTY)).toEqual({ outcome: 'leave', diagnostics: [], auxData: { calls: 1 } });
	});

	it('caps memory growth at the page limit', async () => {
		const result = await inline(host.connection, 'wasm_memory_blowup', EMPTY);
		expect(result.outcome).toBe('bail');
		expect(result.diagnostics).toHaveLength(1);
		expect(result.diagnostics[0].code).toBe('wasm-memory-limit');
		expect(result.diagnostics[0].message).toMatch(
			new RegExp(`^the inline macro wasm_memory_blowup \\(${MISBEHAVE.replace(/[.]/g, '\\.')}\\) ran out of memory: allocating \\d+ bytes failed with \\d+ pages in use; the limit for wasm macros is 64 pages \\(4 MiB\\)$`),
		);
		await stillServing();
	});

	it('reports a formatted panic message like the native SDK', async () => {
		expect(await inline(host.connection, 'wasm_panic_format', ADD_ARGS)).toEqual({
			outcome: 'bail',
			diagnostics: [{ severity: 'error', message: 'macro `wasm_panic_format` panicked: saw 3 tokens' }],
		});
	});

	it('keeps no state between expansions', async () => {
		for (let i = 0; i < 5; i++) {
			expect(await inline(host.connection, 'wasm_counter', EMPTY)).toEqual({ outcome: 'leave', diagnostics: [], auxData: { calls: 1 } });
		}
	});

	it('refuses a module that imports a host function, and keeps serving', async () => {
		expect(await requestError(host.connection, 'loadLibrary', { path: IMPORTS })).toEqual({
			code: -33003,
			message: `cannot load macro library ${IMPORTS}: the module imports env.clock_time_get; wasm macros must import nothing (no clock, randomness or I/O)`,
			data: { path: IMPORTS, reason: 'forbiddenImport', imports: ['env.clock_time_get'] },
		});
		await stillServing();
	});
});

describe('loading wasm modules', () => {
	let host: ConnectedHost;
	let dir: string;
	beforeAll(async () => {
		({ host } = await start({ maxMemoryPages: 8 }));
		dir = mkdtempSync(join(tmpdir(), 'macro-host-wasm-'));
	});
	afterAll(async () => {
		await host.close();
		rmSync(dir, { recursive: true, force: true });
	});

	it('names a .wasm file that is not WebAssembly', async () => {
		const path = join(dir, 'text.wasm');
		writeFileSync(path, 'not wasm at all');
		expect(await requestError(host.connection, 'loadLibrary', { path })).toEqual({
			code: -33003,
			message: `cannot load macro library ${path}: not a WebAssembly module (it does not start with the bytes \\0asm)`,
			data: { path, reason: 'notALibrary' },
		});
	});

	it('names a module that does not compile', async () => {
		const path = join(dir, 'broken.wasm');
		writeFileSync(path, Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0x01, 0x05, 0xff]));
		const error = await requestError(host.connection, 'loadLibrary', { path });
		expect(error.message).toMatch(new RegExp(`^cannot load macro library ${path.replace(/[.]/g, '\\.')}: not a valid WebAssembly module \\(.+\\)$`));
		expect(error.data).toEqual({ path, reason: 'notALibrary' });
	});

	it('names a missing export', async () => {
		const path = join(dir, 'empty.wasm');
		writeFileSync(path, Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
		expect(await requestError(host.connection, 'loadLibrary', { path })).toEqual({
			code: -33003,
			message: `cannot load macro library ${path}: it does not export its memory as "memory"`,
			data: { path, reason: 'missingSymbol', symbol: 'memory' },
		});
	});

	it('refuses a module whose memory starts above the page limit', async () => {
		expect(await requestError(host.connection, 'loadLibrary', { path: WASM })).toEqual({
			code: -33003,
			message: `cannot load macro library ${WASM}: its memory starts at 17 pages, more than the limit for wasm macros of 8 pages (0.5 MiB)`,
			data: { path: WASM, reason: 'memoryLimit' },
		});
	});

	it('refuses bad wasm limits in initialize', async () => {
		expect(await requestError(host.connection, 'initialize', { protocolVersion: PROTOCOL_VERSION, wasm: { timeoutMs: 0 } })).toEqual({
			code: -32602,
			message: 'initialize: params.wasm.timeoutMs must be an integer number of milliseconds from 1 to 2147483647, got 0',
		});
		expect(await requestError(host.connection, 'initialize', { protocolVersion: PROTOCOL_VERSION, wasm: { maxMemoryPages: 70000 } })).toEqual({
			code: -32602,
			message: 'initialize: params.wasm.maxMemoryPages must be an integer number of 64 KiB pages from 1 to 65536, got 70000',
		});
	});

	it('mixes native and wasm derives on one item, merged as native ones are', async () => {
		const mixed = await start();
		const allNative = await start();
		try {
			await mixed.host.connection.sendRequest('loadLibrary', { path: C_BASIC });
			await mixed.host.connection.sendRequest('loadLibrary', { path: WASM });
			await allNative.host.connection.sendRequest('loadLibrary', { path: C_BASIC });
			await allNative.host.connection.sendRequest('loadLibrary', { path: NATIVE });
			const params = { derives: ['Named', 'ToValue', 'Describe'], item: STRUCT_ITEM, callSite: { start: 0, end: 15 } };
			const fromMixed = await mixed.host.connection.sendRequest('expandDerive', params);
			const fromNative = await allNative.host.connection.sendRequest('expandDerive', params);
			expect(JSON.stringify(fromMixed)).toBe(JSON.stringify(fromNative));
			expect((fromMixed as { outcome: string }).outcome).toBe('replace');
		} finally {
			await mixed.host.close();
			await allNative.host.close();
		}
	});
});

describe('wasm limits from the command line', () => {
	let host: ConnectedHost;
	afterAll(async () => {
		await host?.close();
	});

	const hangTimeout = (ms: number): unknown => ({
		outcome: 'bail',
		diagnostics: [
			{
				severity: 'error',
				code: 'timeout',
				message: `the inline macro wasm_hang (${MISBEHAVE}) timed out after ${ms} ms; its wasm worker was stopped and the host keeps serving`,
			},
		],
	});

	it('applies --wasm-timeout-ms and --wasm-max-memory-pages when initialize sets none, and initialize overrides them', async () => {
		({ host } = await start(undefined, ['--wasm-timeout-ms', '700', '--wasm-max-memory-pages=48']));
		await host.connection.sendRequest('loadLibrary', { path: MISBEHAVE });
		expect(await inline(host.connection, 'wasm_hang', EMPTY)).toEqual(hangTimeout(700));
		const blowup = await inline(host.connection, 'wasm_memory_blowup', EMPTY);
		expect(blowup.diagnostics[0].code).toBe('wasm-memory-limit');
		expect(blowup.diagnostics[0].message).toMatch(/; the limit for wasm macros is 48 pages \(3 MiB\)$/);

		await host.connection.sendRequest('initialize', { protocolVersion: PROTOCOL_VERSION, wasm: { timeoutMs: 400 } });
		expect(await inline(host.connection, 'wasm_hang', EMPTY)).toEqual(hangTimeout(400));
	});
});

describe('one clock: the client request timeout bounds wasm calls', () => {
	it('initialize.requestTimeoutMs stops a hung wasm call before that clock, naming it', async () => {
		const { host, pid } = await start();
		try {
			await host.connection.sendRequest('initialize', { protocolVersion: PROTOCOL_VERSION, requestTimeoutMs: 1500 });
			await host.connection.sendRequest('loadLibrary', { path: MISBEHAVE });
			expect(await inline(host.connection, 'wasm_hang', EMPTY)).toEqual({
				outcome: 'bail',
				diagnostics: [
					{
						severity: 'error',
						code: 'timeout',
						message: `the inline macro wasm_hang (${MISBEHAVE}) timed out after 1350 ms (kept below the client's request timeout of 1500 ms); its wasm worker was stopped and the host keeps serving`,
					},
				],
			});
			const again = (await host.connection.sendRequest('initialize', { protocolVersion: PROTOCOL_VERSION })) as Info;
			expect(again.pid).toBe(pid);
			expect(await requestError(host.connection, 'initialize', { protocolVersion: PROTOCOL_VERSION, requestTimeoutMs: -5 })).toEqual({
				code: -32602,
				message: 'initialize: params.requestTimeoutMs must be an integer number of milliseconds from 1 to 2147483647, got -5',
			});
		} finally {
			await host.close();
		}
	});

	it('a MacroHost with a request timeout below the wasm limit gets the answer from the same host', async () => {
		const client = await MacroHost.start({ requestTimeoutMs: 2000 });
		try {
			const pid = client.pid;
			await client.loadLibrary(MISBEHAVE);
			const result = await client.expandInline({ name: 'wasm_hang', args: EMPTY, callSite: { start: 0, end: 4 } });
			expect(result.outcome).toBe('bail');
			expect(result.diagnostics[0]).toMatchObject({ code: 'timeout' });
			expect(result.diagnostics[0]?.message).toContain("timed out after 1800 ms (kept below the client's request timeout of 2000 ms)");
			expect(client.pid).toBe(pid);
			expect(client.restarts).toBe(0);
		} finally {
			await client.close();
		}
	});
});
