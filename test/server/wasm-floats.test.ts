/**
 * Deterministic floats through real host processes: a hand-written module (module-builder.ts)
 * whose NaN-producing float operations would give engine-chosen NaNs answers the canonical NaN on
 * every call, after its code has run hot, and in another process; other float results are untouched.
 * The same for a Rust macro built by the project's wasm flow (wasm_nan_bits in test/fixtures/wasm).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../dist/protocol/version.js';
import { buildModule, Op, RESULT_AT, sleb, words } from '../fixtures/wasm/module-builder.js';
import { connectHost, EMPTY, fixture, type ConnectedHost } from './harness.js';

const TOKENS_AT = 3072;
const TEXT_AT = 4096;
const f32 = (bits: number): number[] => [...words(bits)];

/** Code that stores the i32 the code in `value` leaves as token `k`'s span start and end. */
function spanOf(k: number, value: number[]): number[] {
	const store = (at: number): number[] => [Op.i32Const, ...sleb(at), ...value, Op.i32Store, 2, 0];
	return [...store(TOKENS_AT + 24 * k + 16), ...store(TOKENS_AT + 24 * k + 20)];
}

const expand = [
	// Run hot first (200000 rounds of a loop on the request pointer) so V8 tiers the code up.
	Op.i32Const, ...sleb(200_000), 0x21, 0,
	Op.loop, Op.blockEmpty, Op.localGet, 0, Op.i32Const, 1, 0x6b, 0x22, 0, 0x0d, 0, Op.end,
	// f32.add of two NaNs with payloads (0x7fc00123 + 0xffc00456), as i32 bits.
	...spanOf(0, [0x43, ...f32(0x7fc00123), 0x43, ...f32(0xffc00456), Op.f32Add, 0xbc]),
	// f64.div 0 / 0 (x86 makes the negative "default NaN"), high 32 bits.
	...spanOf(1, [0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0xbd, 0x42, 32, 0x88, 0xa7]),
	// f32.add 1.5 + 2.25 = 3.75 (0x40700000): not a NaN, left as it is.
	...spanOf(2, [0x43, ...f32(0x3fc00000), 0x43, ...f32(0x40100000), Op.f32Add, 0xbc]),
	Op.i32Const, ...sleb(RESULT_AT),
];

const token = words(0, 0, 0, 1, 0, 0);
const module = buildModule({
	expand,
	data: [
		{ offset: RESULT_AT, bytes: words(1, TOKENS_AT, 3, TEXT_AT, 1, 0, 0, 0, 0) },
		{ offset: TOKENS_AT, bytes: Uint8Array.from([...token, ...token, ...token]) },
		{ offset: TEXT_AT, bytes: new TextEncoder().encode('x') },
	],
});

let dir: string;
let path: string;
beforeAll(() => {
	dir = mkdtempSync(join(tmpdir(), 'macro-host-wasm-floats-'));
	path = join(dir, 'floats.wasm');
	writeFileSync(path, module);
});
afterAll(() => {
	rmSync(dir, { recursive: true, force: true });
});

async function spans(host: ConnectedHost): Promise<number[]> {
	const reply = (await host.connection.sendRequest('expandInline', { name: 'm', args: EMPTY, callSite: { start: 0, end: 1 }, library: path })) as {
		outcome: string;
		tokens: { records: number[] };
	};
	expect(reply.outcome).toBe('replace');
	return [0, 1, 2].map((k) => reply.tokens.records[k * 6 + 4] >>> 0);
}

describe('float results of wasm macros', () => {
	const hosts: ConnectedHost[] = [];
	afterAll(async () => {
		for (const host of hosts) await host.close();
	});

	async function started(): Promise<ConnectedHost> {
		const host = connectHost('json');
		hosts.push(host);
		await host.connection.sendRequest('initialize', { protocolVersion: PROTOCOL_VERSION });
		await host.connection.sendRequest('loadLibrary', { path });
		return host;
	}

	it('give the canonical NaN on every call, cold or hot, and leave other results alone', async () => {
		const host = await started();
		for (let call = 0; call < 6; call++) {
			expect((await spans(host)).map((bits) => bits.toString(16))).toEqual(['7fc00000', '7ff80000', '40700000']);
		}
	});

	it('give the same bits in another process', async () => {
		const [a, b] = [await started(), await started()];
		const fromA = await spans(a);
		expect(await spans(b)).toEqual(fromA);
		expect(await spans(a)).toEqual(fromA);
	});
});

describe('a Rust macro adding NaNs with payloads', () => {
	const MISBEHAVE = fixture('wasm_misbehave.wasm');
	const hosts: ConnectedHost[] = [];
	afterAll(async () => {
		for (const host of hosts) await host.close();
	});

	async function bits(host: ConnectedHost): Promise<unknown> {
		const reply = (await host.connection.sendRequest('expandInline', { name: 'wasm_nan_bits', args: EMPTY, library: MISBEHAVE })) as { auxData?: unknown };
		return reply.auxData;
	}

	it('gives the canonical NaN on every call and in every process', async () => {
		for (let i = 0; i < 2; i++) {
			const host = connectHost('json');
			hosts.push(host);
			await host.connection.sendRequest('initialize', { protocolVersion: PROTOCOL_VERSION });
			await host.connection.sendRequest('loadLibrary', { path: MISBEHAVE });
			for (let call = 0; call < 3; call++) expect(await bits(host)).toEqual({ bits: '7fc00000' });
		}
	});
});
