/**
 * expandSource through a real host process: the host runs the engine over the source and answers what
 * the engine gives with the same library called call by call (text, diagnostics, aux data, expansions),
 * in either encoding; a call the host refuses is a diagnostic in the result, as in a driver; wasm calls,
 * which answer later, are awaited in order; malformed params are refused naming the field, and the host
 * keeps serving.
 */
import { realpathSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expandSource } from '../../dist/expansion/expansion-engine.js';
import { MacroRegistry } from '../../dist/expansion/macro-registry.js';
import { connectHost, fixture, hostPerTest, initialize, requestError, type ConnectedHost } from './harness.js';

const INVALID_PARAMS = -32602;
const BASIC = realpathSync(fixture('libc_basic.so'));
const PACKAGES = [
	{
		name: 'basic',
		library: BASIC,
		macros: [
			{ name: 'wrap', kind: 'inline' },
			{ name: 'remove', kind: 'inline' },
			{ name: 'bail', kind: 'inline' },
			{ name: 'aux', kind: 'inline' },
			{ name: 'tag', kind: 'attribute' },
			{ name: 'Named', kind: 'derive' },
			// Not in the library: the host refuses the call, and the engine reports it at its call site.
			{ name: 'missing', kind: 'inline' },
		],
	},
] as const;
const SOURCE = '#[tag]\n#[derive(Named)]\nstruct S {}\nfn f() { wrap!(1 + 2); remove!(x); bail!(y); aux!(a b c); missing!(z) }\n';

const hosts = hostPerTest();
const startHost = (encoding: 'json' | 'msgpack'): Promise<ConnectedHost> => hosts.start(encoding, 'expandSource', BASIC);

describe.each(['json', 'msgpack'] as const)('expandSource over %s', (encoding) => {
	it('answers what the engine gives with the same library called call by call', async () => {
		const host = await startHost(encoding);
		const params = { text: SOURCE, packages: PACKAGES, recursionLimit: 64, checkOutput: true };
		const result = await host.connection.sendRequest('expandSource', params);
		// The same engine in this process, each call sent to the host on its own.
		const caller = {
			expandInline: (p: object) => host.connection.sendRequest('expandInline', wire(p)),
			expandAttribute: (p: object) => host.connection.sendRequest('expandAttribute', wire(p)),
			expandDerive: (p: object) => host.connection.sendRequest('expandDerive', wire(p)),
		};
		const expected = await expandSource(SOURCE, { registry: new MacroRegistry(PACKAGES), caller: caller as never });
		expect(JSON.parse(JSON.stringify(result))).toEqual(JSON.parse(JSON.stringify(expected)));
		expect(result).toMatchObject({ expansions: 7, aux: [{ library: BASIC, value: { tokens: 3 } }] });
		const { text, diagnostics } = result as { text: string; diagnostics: { code?: string; message: string }[] };
		expect(text).toContain('fn f() { (1 + 2); ; bail!(y); aux!(a b c); missing!(z) }');
		expect(diagnostics.find((d) => d.code === 'request-failed')?.message).toBe(
			`\`missing!\` (package \`basic\`) could not be expanded: the library ${BASIC} does not provide an inline macro named missing`,
		);
		expect(await host.close()).toEqual({ code: 0, signal: null });
	});
});

describe('expandSource with a wasm library', () => {
	it('awaits each wasm call: the wasm build of the Rust fixture gives what its native build gives', async () => {
		const host = hosts.keep(connectHost('json'));
		await initialize(host.connection);
		const native = (await host.connection.sendRequest('loadLibrary', { path: fixture('librust_macros.so') })) as { library: string; macros: { name: string; kind: string }[] };
		const wasm = (await host.connection.sendRequest('loadLibrary', { path: fixture('rust_macros.wasm') })) as { library: string; sandbox: string };
		expect(wasm.sandbox).toBe('wasm');
		const text = '#[instrument]\nfn f(x: felt252) -> felt252 { add!(x, 1) + count_aux!(a b) }\n#[derive(ToValue, Describe)]\nstruct P {}\nfn g() { bang_panic!(z); }\n';
		const macros = native.macros.map((m) => ({ name: m.name, kind: m.kind }));
		const run = (library: string) =>
			host.connection.sendRequest('expandSource', { text, packages: [{ name: 'rust_macros', library, macros }], recursionLimit: 64, checkOutput: true }) as Promise<{
				text: string;
				diagnostics: unknown[];
				aux: { library: string; value: unknown }[];
				expansions: number;
			}>;
		const fromNative = await run(native.library);
		const fromWasm = await run(wasm.library);
		expect(fromWasm.expansions).toBe(5);
		expect(fromWasm.text).toContain('(x) + (1)');
		expect(fromWasm.diagnostics.length).toBeGreaterThan(0);
		expect({ ...fromWasm, aux: fromWasm.aux.map((a) => a.value) }).toEqual({ ...fromNative, aux: fromNative.aux.map((a) => a.value) });
		expect(await host.close()).toEqual({ code: 0, signal: null });
	});
});

/** Params as this bare connection must send them: JSON has no Uint32Array, so records go as plain arrays. */
function wire(params: object): object {
	return Object.fromEntries(
		Object.entries(params).map(([key, value]) => [key, value !== null && typeof value === 'object' && 'records' in value ? { ...value, records: Array.from(value.records as Uint32Array) } : value]),
	);
}

describe('malformed expandSource params are refused, naming the field, and the host keeps serving', () => {
	const good = { text: 'fn f() {}', packages: [], recursionLimit: 64, checkOutput: true };
	it.each([
		['text missing', { ...good, text: undefined }, 'expandSource: params.text must be a string, got nothing (the field is missing)'],
		['packages not an array', { ...good, packages: {} }, 'expandSource: params.packages must be an array of packages {name, library, macros}, got an object'],
		['a package with no library', { ...good, packages: [{ name: 'p', macros: [] }] }, 'expandSource: params.packages[0].library must be a non-empty string, got nothing (the field is missing)'],
		[
			'a macro of an unknown kind',
			{ ...good, packages: [{ name: 'p', library: BASIC, macros: [{ name: 'm', kind: 'proc' }] }] },
			'expandSource: params.packages[0].macros[0].kind must be one of inline, attribute, derive, got string "proc"',
		],
		['recursionLimit zero', { ...good, recursionLimit: 0 }, 'expandSource: params.recursionLimit must be an integer from 1 to 100000, got number 0'],
		['checkOutput missing', { ...good, checkOutput: undefined }, 'expandSource: params.checkOutput must be true or false, got nothing (the field is missing)'],
		['progress id zero', { ...good, id: 0 }, 'expandSource: params.id must be an integer from 1 to 4294967295, got number 0'],
	])('%s', async (_label, params, message) => {
		const host = await startHost('json');
		expect(await requestError(host.connection, 'expandSource', params)).toEqual({ code: INVALID_PARAMS, message });
		expect(await host.connection.sendRequest('expandSource', good)).toEqual({ text: 'fn f() {}', diagnostics: [], aux: [], expansions: 0 });
	});
});
