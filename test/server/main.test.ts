import { realpathSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MacroHostErrorCodes } from '../../dist/protocol/errors.js';
import {
	CALL_SITE,
	connectHost,
	EMPTY,
	fixture,
	frame,
	FrameReader,
	IDENT,
	initialize,
	LITERAL,
	PUNCT,
	requestError,
	spawnHost,
	tokens,
	type ConnectedHost,
	type HostProcess,
} from './harness.js';

const ARGS = tokens([IDENT, 'a', 5], [PUNCT, ',', 6], [LITERAL, '1', 8]);
const ITEM = tokens([IDENT, 'enum', 0], [IDENT, 'Color', 5], [PUNCT, '{', 11], [IDENT, 'Red', 13], [PUNCT, '}', 17]);

const running: HostProcess[] = [];
afterEach(() => {
	for (const host of running.splice(0)) host.child.kill('SIGKILL');
});
function track<T extends HostProcess>(host: T): T {
	running.push(host);
	return host;
}

describe('command line', () => {
	it('--help prints the usage on stdout and exits 0', async () => {
		const host = track(spawnHost({ args: ['--help'] }));
		let stdout = '';
		host.child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
		expect(await host.exited).toEqual({ code: 0, signal: null });
		expect(stdout).toMatch(/^Usage: macro-host serve \[--encoding json\|msgpack\] \[options\]\n/);
		expect(stdout).toContain('--wasm-timeout-ms N');
		expect(host.stderr()).toBe('');
	});

	it.each([
		[['--encoding', 'xml'], 'macro-host serve: --encoding must be json or msgpack, got "xml"'],
		[['--encoding'], 'macro-host serve: --encoding needs a value: json or msgpack'],
		[['--verbose'], 'macro-host serve: unknown argument "--verbose"'],
		[['--wasm-timeout-ms', '0'], 'macro-host serve: --wasm-timeout-ms must be an integer number of milliseconds from 1 to 2147483647, got "0"'],
		[['--wasm-timeout-ms'], 'macro-host serve: --wasm-timeout-ms must be an integer number of milliseconds from 1 to 2147483647, got nothing'],
		[['--wasm-max-memory-pages=70000'], 'macro-host serve: --wasm-max-memory-pages must be an integer number of 64 KiB pages from 1 to 65536, got "70000"'],
		[['--wasm-max-memory-pages', 'lots'], 'macro-host serve: --wasm-max-memory-pages must be an integer number of 64 KiB pages from 1 to 65536, got "lots"'],
	])('usage error %j exits 2 with a message on stderr', async (args, message) => {
		const host = track(spawnHost({ args }));
		expect(await host.exited).toEqual({ code: 2, signal: null });
		expect(host.stderr().split('\n')[0]).toBe(message);
		expect(host.stderr()).toContain('Usage: macro-host serve');
	});
});

describe('a JSON session with a real host process', () => {
	let host: ConnectedHost;

	it('initializes, loads, expands every kind, post-processes, and exits 0 after shutdown', async () => {
		host = track(connectHost('json'));
		const init = (await initialize(host.connection)) as { pid: number; capabilities: { encoding: string } };
		expect(init.pid).toBe(host.child.pid);
		expect(init.capabilities.encoding).toBe('json');
		const lib = (await host.connection.sendRequest('loadLibrary', { path: fixture('libc_basic.so') })) as { library: string };
		expect(lib.library).toBe(realpathSync(fixture('libc_basic.so')));

		// Pipelined: all sent before any reply; answered in order.
		const replies = await Promise.all([
			host.connection.sendRequest('expandInline', { name: 'wrap', args: ARGS }),
			host.connection.sendRequest('expandInline', { name: 'aux', args: ARGS }),
			host.connection.sendRequest('expandAttribute', { name: 'tag', args: EMPTY, item: ITEM }),
			host.connection.sendRequest('expandDerive', { derives: ['Named', 'Hello'], item: ITEM }),
		]);
		expect(replies[0]).toMatchObject({ outcome: 'replace', tokens: { text: '(a,1)' } });
		expect((replies[0] as { tokens: { records: unknown } }).tokens.records).toBeInstanceOf(Array);
		expect(replies[1]).toEqual({ outcome: 'leave', diagnostics: [], auxData: { tokens: 3 } });
		expect(replies[2]).toMatchObject({ outcome: 'replace', tokens: { text: '#[tagged]enumColor{Red}' } });
		expect(replies[3]).toMatchObject({ outcome: 'replace', tokens: { text: 'implNamedforColor{}fnhello_Color(){}' } });
		expect(await host.connection.sendRequest('postProcess', { library: lib.library, auxData: [{ tokens: 3 }] })).toEqual({
			diagnostics: [{ severity: 'note', message: 'post-process saw 1 aux values' }],
		});
		expect(await host.close()).toEqual({ code: 0, signal: null });
	});

	it('exit without shutdown exits 1', async () => {
		host = track(connectHost('json'));
		await initialize(host.connection);
		await host.connection.sendNotification('exit');
		expect(await host.exited).toEqual({ code: 1, signal: null });
	});

	it('a name in both the C and the Rust fixture is ambiguous', async () => {
		const rust = fixture('librust_macros.so');
		expect(existsSync(rust), 'librust_macros.so is built by test/fixtures/rust/build.ts').toBe(true);
		host = track(connectHost('json'));
		await initialize(host.connection);
		await host.connection.sendRequest('loadLibrary', { path: fixture('libc_basic.so') });
		await host.connection.sendRequest('loadLibrary', { path: rust });
		const c = realpathSync(fixture('libc_basic.so'));
		const r = realpathSync(rust);
		expect(await requestError(host.connection, 'expandInline', { name: 'noop', args: EMPTY })).toEqual({
			code: MacroHostErrorCodes.AmbiguousMacro,
			message: `the inline macro noop is provided by 2 libraries: ${c} and ${r}; pass "library" to choose one`,
			data: { name: 'noop', libraries: [c, r] },
		});
		expect(await host.connection.sendRequest('expandInline', { name: 'noop', args: EMPTY, library: r })).toEqual({
			outcome: 'leave',
			diagnostics: [],
		});
		await host.close();
	});
});

describe('msgpack encoding end to end', () => {
	it('carries records as Uint32Array both ways', async () => {
		const host = track(connectHost('msgpack'));
		const init = (await initialize(host.connection)) as { capabilities: { encoding: string } };
		expect(init.capabilities.encoding).toBe('msgpack');
		await host.connection.sendRequest('loadLibrary', { path: fixture('libc_basic.so') });
		const args = { text: ARGS.text, records: Uint32Array.from(ARGS.records) };
		const wrapped = (await host.connection.sendRequest('expandInline', { name: 'wrap', args })) as {
			outcome: string;
			tokens: { text: string; records: unknown };
		};
		expect(wrapped.outcome).toBe('replace');
		expect(wrapped.tokens.text).toBe('(a,1)');
		expect(wrapped.tokens.records).toBeInstanceOf(Uint32Array);
		expect(Array.from(wrapped.tokens.records as Uint32Array)).toEqual([
			PUNCT, 1, 0, 1, CALL_SITE, CALL_SITE,
			IDENT, 0, 1, 1, 5, 6,
			PUNCT, 0, 2, 1, 6, 7,
			LITERAL, 0, 3, 1, 8, 9,
			PUNCT, 0, 4, 1, CALL_SITE, CALL_SITE,
		]);
		const derived = (await host.connection.sendRequest('expandDerive', {
			derives: ['Named', 'Hello'],
			item: { text: ITEM.text, records: Uint32Array.from(ITEM.records) },
		})) as { tokens: { text: string; records: unknown } };
		expect(derived.tokens.text).toBe('implNamedforColor{}fnhello_Color(){}');
		expect(derived.tokens.records).toBeInstanceOf(Uint32Array);
		// Plain number arrays are accepted in msgpack too.
		expect(await host.connection.sendRequest('expandInline', { name: 'bail', args: ARGS })).toEqual({
			outcome: 'bail',
			diagnostics: [
				{ severity: 'error', message: 'bail: refused to expand', span: { start: 5, end: 6 } },
				{ severity: 'warning', message: 'bail: second thought' },
			],
		});
		// Bad records are refused at the edge in msgpack as well.
		expect(await requestError(host.connection, 'expandInline', { name: 'wrap', args: { text: 'a', records: new Uint32Array(7) } })).toEqual({
			code: -32602,
			message: 'expandInline: params.args: records has 7 numbers, not a multiple of 6',
		});
		expect(await host.close()).toEqual({ code: 0, signal: null });
	});
});

describe('malformed input never kills or wedges the host', () => {
	it('answers garbage, bad bodies and non-JSON-RPC messages with errors, then keeps serving', async () => {
		const host = track(spawnHost());
		const frames = new FrameReader(host.child.stdout);
		const send = (bytes: Buffer | string) => host.child.stdin.write(bytes);
		const jsonError = (text: string): string => {
			try {
				JSON.parse(text);
			} catch (error) {
				return (error as Error).message;
			}
			throw new Error('parsed');
		};

		send(frame({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: 1 } }));
		expect(await frames.next()).toMatchObject({ id: 1, result: { protocolVersion: 1 } });

		// Garbage with no header at all, glued to a valid request: the garbage is dropped and reported.
		send(Buffer.concat([Buffer.from('hello there'), frame({ jsonrpc: '2.0', id: 2, method: 'listMacros' })]));
		expect(await frames.next()).toEqual({
			jsonrpc: '2.0',
			id: null,
			error: {
				code: -32700,
				message: 'Parse error: dropped 11 bytes that do not start a message (expected "Content-Length: N" then an empty line): "hello there"',
			},
		});
		expect(await frames.next()).toEqual({ jsonrpc: '2.0', id: 2, result: { libraries: [] } });

		// A header block without a usable Content-Length.
		send('Content-Length: abc\r\n\r\n');
		expect(await frames.next()).toMatchObject({ id: null, error: { code: -32700 } });

		// A body that is not JSON.
		send(frame('{"jsonrpc": "2.0", "id": 3,'));
		expect(await frames.next()).toEqual({
			jsonrpc: '2.0',
			id: null,
			error: { code: -32700, message: `Parse error: ${jsonError('{"jsonrpc": "2.0", "id": 3,')}` },
		});

		// JSON that is not a JSON-RPC message.
		send(frame('[1, 2, 3]'));
		expect(await frames.next()).toEqual({
			jsonrpc: '2.0',
			id: null,
			error: { code: -32600, message: 'Invalid request: the message is not a JSON-RPC 2.0 request, notification or response' },
		});
		send(frame({ jsonrpc: '2.0', id: 4 }));
		expect(await frames.next()).toMatchObject({ id: 4, error: { code: -32600 } });

		// Two Content-Length headers: refused with its body, and the frame after it is read whole.
		const twice = JSON.stringify({ jsonrpc: '2.0', id: 40, method: 'listMacros' });
		send(`Content-Length: ${twice.length}\r\nContent-Length: 3\r\n\r\n${twice}`);
		send(frame({ jsonrpc: '2.0', id: 41, method: 'listMacros' }));
		expect(await frames.next()).toEqual({
			jsonrpc: '2.0',
			id: null,
			error: { code: -32700, message: `Parse error: refused a message whose header block has more than one Content-Length header: ${JSON.stringify(`Content-Length: ${twice.length}\r\nContent-Length: 3`)}` },
		});
		expect(await frames.next()).toEqual({ jsonrpc: '2.0', id: 41, result: { libraries: [] } });

		// Any JSON-RPC version but 2.0, or none.
		send(frame({ jsonrpc: '1.0', id: 42, method: 'listMacros' }));
		expect(await frames.next()).toEqual({ jsonrpc: '2.0', id: 42, error: { code: -32600, message: 'Invalid request: "jsonrpc" must be "2.0", got "1.0"' } });
		send(frame({ id: 43, method: 'listMacros' }));
		expect(await frames.next()).toEqual({ jsonrpc: '2.0', id: 43, error: { code: -32600, message: 'Invalid request: "jsonrpc" must be "2.0", got none' } });

		// Params of the wrong type, and an unknown method.
		send(frame({ jsonrpc: '2.0', id: 5, method: 'expandInline', params: 'hello' }));
		expect(await frames.next()).toEqual({
			jsonrpc: '2.0',
			id: 5,
			error: { code: -32602, message: 'expandInline: params must be an object, got string "hello"' },
		});
		send(frame({ jsonrpc: '2.0', id: 6, method: 'doSomething', params: {} }));
		expect(await frames.next()).toEqual({ jsonrpc: '2.0', id: 6, error: { code: -32601, message: 'Unhandled method doSomething' } });
		send(frame({ jsonrpc: '2.0', method: 'someNotification', params: {} }));

		// Still serving.
		send(frame({ jsonrpc: '2.0', id: 7, method: 'loadLibrary', params: { path: fixture('libc_basic.so') } }));
		expect(await frames.next()).toMatchObject({ id: 7, result: { abiVersion: 1 } });
		send(frame({ jsonrpc: '2.0', id: 8, method: 'expandInline', params: { name: 'remove', args: EMPTY } }));
		expect(await frames.next()).toEqual({ jsonrpc: '2.0', id: 8, result: { outcome: 'remove', diagnostics: [] } });
		expect(host.child.exitCode).toBeNull();
		expect(host.stderr()).toContain('macro-host: transport error: dropped 11 bytes');
		expect(host.stderr()).toContain('macro-host: ignored unknown notification someNotification');
		host.child.stdin.end();
		expect(await host.exited).toEqual({ code: 0, signal: null });
	});
});
