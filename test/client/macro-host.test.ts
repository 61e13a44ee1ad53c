/**
 * MacroHost's API against a real host: loading, listing, the three expand kinds, post-processing,
 * wire errors, msgpack, close(), and hosts that cannot start.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
	HostClosedError,
	HostStartError,
	MacroHost,
	MacroHostErrorCodes,
	MacroHostRequestError,
	RequestSendError,
} from '../../dist/client/index.js';
import {
	expectBatch,
	fixture,
	ident,
	LIBC_BASIC,
	LIBC_BASIC_ID,
	processExists,
	RUST_MACROS,
	RUST_MACROS_ID,
	startHost,
	tokensOf,
	whenRestarted,
	wrapBatch,
} from './support.js';

describe('MacroHost', () => {
	it('loads libraries, lists them and expands all three kinds', async () => {
		const { host } = await startHost();
		expect(host.serverInfo).toMatchObject({ protocolVersion: 1, abiVersion: 1, pid: host.pid, capabilities: { encoding: 'json' } });
		const basic = await host.loadLibrary(LIBC_BASIC);
		expect(basic).toMatchObject({ library: LIBC_BASIC_ID, abiVersion: 1, hasPostProcess: true });
		expect(basic.macros.map((m) => `${m.kind} ${m.name}`)).toContain('attribute tag');
		await host.loadLibrary(RUST_MACROS);
		expect(host.libraries.map((l) => l.library)).toEqual([LIBC_BASIC_ID, RUST_MACROS_ID]);
		expect((await host.listMacros()).libraries.map((l) => l.library)).toEqual([LIBC_BASIC_ID, RUST_MACROS_ID]);

		const item = { text: 'structFoo{}', records: [0, 0, 0, 6, 0, 6, 0, 0, 6, 3, 7, 10, 1, 1, 9, 1, 11, 12, 1, 0, 10, 1, 12, 13] };
		const tagged = await host.expandAttribute({ name: 'tag', args: { text: '', records: [] }, item });
		expect(tokensOf(tagged.tokens).map((t) => t.text).join(' ')).toBe('# [ tagged ] struct Foo { }');
		const derived = await host.expandDerive({ derives: ['Named', 'Hello'], item, library: LIBC_BASIC_ID });
		expect(derived.outcome).toBe('replace');
		expect(tokensOf(derived.tokens).map((t) => t.text).join(' ')).toBe('impl Named for Foo { } fn hello_Foo ( ) { }');

		const aux = await host.expandInline({ name: 'aux', args: ident('a', 0) });
		expect(aux).toMatchObject({ outcome: 'leave', auxData: { tokens: 1 } });
		const post = await host.postProcess({ library: LIBC_BASIC_ID, auxData: [aux.auxData, aux.auxData] });
		expect(post.diagnostics).toEqual([{ severity: 'note', message: 'post-process saw 2 aux values' }]);
	});

	it('rejects with MacroHostRequestError, code and data included, when the host refuses a call', async () => {
		const { host } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		const unknown = await host.expandInline({ name: 'nope', args: ident('a', 0) }).catch((e: unknown) => e);
		expect(unknown).toBeInstanceOf(MacroHostRequestError);
		expect(unknown).toMatchObject({ code: MacroHostErrorCodes.UnknownMacro, method: 'expandInline', data: { name: 'nope', kind: 'inline' } });

		const notLibrary = fixture('not-a-library.so');
		const load = await host.loadLibrary(notLibrary).catch((e: unknown) => e);
		expect(load).toBeInstanceOf(MacroHostRequestError);
		expect(load).toMatchObject({ code: MacroHostErrorCodes.LibraryLoadFailed, data: { path: notLibrary, reason: 'notALibrary' } });
		expect((load as Error).message).toContain(notLibrary);
		// A refused load is not remembered, and the host is unharmed.
		expect(host.libraries.map((l) => l.library)).toEqual([LIBC_BASIC_ID]);
		expect(host.restarts).toBe(0);
		await expectBatch(wrapBatch(host, 'w', 3), 'w');
	});

	it('rejects a call whose params cannot be encoded with RequestSendError, and goes on', async () => {
		const { host } = await startHost();
		await host.loadLibrary(LIBC_BASIC);
		const params: Record<string, unknown> = { name: 'wrap', args: ident('x', 0) };
		params.self = params;
		const before = wrapBatch(host, 'a', 3);
		const error = await host.expandInline(params as never).catch((e: unknown) => e);
		const after = wrapBatch(host, 'b', 3);
		expect(error).toBeInstanceOf(RequestSendError);
		expect(error).toMatchObject({ method: 'expandInline' });
		expect((error as Error).message).toMatch(/^The expandInline request could not be sent to the macro host: .*circular/);
		await expectBatch(before, 'a');
		await expectBatch(after, 'b');
		expect(host.restarts).toBe(0);
	});

	it('speaks msgpack: records arrive as a Uint32Array, and a crash is handled the same way', async () => {
		const { host } = await startHost({ encoding: 'msgpack' });
		expect(host.serverInfo.capabilities.encoding).toBe('msgpack');
		await host.loadLibrary(LIBC_BASIC);
		const wrapped = await host.expandInline({ name: 'wrap', args: { text: 'x', records: Uint32Array.of(0, 0, 0, 1, 4, 5) } });
		expect(wrapped.tokens?.records).toBeInstanceOf(Uint32Array);
		expect(tokensOf(wrapped.tokens).map((t) => t.text)).toEqual(['(', 'x', ')']);

		const before = wrapBatch(host, 'a', 5);
		const crashed = host.expandInline({ name: 'bang_abort', args: ident('x', 1) });
		const after = wrapBatch(host, 'b', 5);
		expect((await crashed).diagnostics[0]).toMatchObject({ code: 'host-crash', severity: 'error' });
		expect((await crashed).diagnostics[0].message).toContain('SIGABRT (Aborted)');
		await expectBatch(before, 'a');
		await expectBatch(after, 'b');
	});

	it('close() lets pending calls finish, ends the process, is idempotent, and refuses later calls', async () => {
		const host = await MacroHost.start();
		await host.loadLibrary(LIBC_BASIC);
		const pid = host.pid!;
		const pending = wrapBatch(host, 'p', 5);
		const first = host.close();
		expect(host.close()).toBe(first);
		await expectBatch(pending, 'p');
		await first;
		expect(processExists(pid)).toBe(false);
		expect(host.pid).toBeUndefined();
		await expect(host.expandInline({ name: 'wrap', args: ident('x', 0) })).rejects.toThrow(
			new HostClosedError('expandInline'),
		);
		await expect(host.listMacros()).rejects.toThrow('The macro host is closed; the listMacros call was not run.');
		await host.close();
	});

	it('close() right after a crash waits for the restart, then ends the new host too', async () => {
		const host = await MacroHost.start({ restart: { backoffInitialMs: 0 } });
		await host.loadLibrary(LIBC_BASIC);
		const crashed = host.expandInline({ name: 'bang_exit3', args: ident('x', 1) });
		const after = wrapBatch(host, 'b', 3);
		const closed = host.close();
		expect((await crashed).diagnostics[0].code).toBe('host-crash');
		await expectBatch(after, 'b');
		await closed;
		await whenRestarted(host, 1);
		expect(host.pid).toBeUndefined();
	});
});

describe('a host that cannot start', () => {
	it('names the command, the exit code and the stderr when the host script is missing', async () => {
		const hostScript = fileURLToPath(new URL('./fixtures/no-such-host.js', import.meta.url));
		const error = await MacroHost.start({ hostScript }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(HostStartError);
		const message = (error as Error).message;
		expect(message).toMatch(
			new RegExp(
				`^The macro host could not start: \`${escape(process.execPath)} ${escape(hostScript)} --encoding json\` ` +
					'ended before answering initialize: the host exited with code 1\\.\\nHost stderr:\\n',
			),
		);
		expect(message).toContain('Cannot find module');
		expect((error as HostStartError).exit).toMatchObject({ exitCode: 1, signal: undefined });
	});

	it('says when the Node executable cannot be spawned', async () => {
		const error = await MacroHost.start({ nodePath: '/nonexistent/node' }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(HostStartError);
		expect((error as Error).message).toMatch(
			/^The macro host could not start: `\/nonexistent\/node .* --encoding json` could not be spawned: spawn \/nonexistent\/node ENOENT\.\nThe host wrote nothing to stderr\.$/,
		);
	});

	it('kills a host that does not answer initialize within startTimeoutMs', async () => {
		const hostScript = fileURLToPath(new URL('./fixtures/silent-host.js', import.meta.url));
		const error = await MacroHost.start({ hostScript, startTimeoutMs: 500 }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(HostStartError);
		expect((error as Error).message).toMatch(/` did not answer initialize within 500 ms\.\nThe host wrote nothing to stderr\.$/);
		const pid = (error as HostStartError).exit!.pid!;
		expect((error as HostStartError).exit).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
		expect(processExists(pid)).toBe(false);
	});

	it('refuses bad options before spawning anything', async () => {
		await expect(MacroHost.start({ requestTimeoutMs: 0 })).rejects.toThrow(
			new TypeError('The `requestTimeoutMs` option must be an integer between 1 and 2147483647 (milliseconds), but received 0 (number).'),
		);
	});
});

function escape(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
