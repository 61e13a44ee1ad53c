/**
 * What Scarb's proc-macro server does not survive, survived by `macro-host proc-macro-server` run for real: a macro
 * that segfaults, aborts, exits, panics or hangs answers a normal result with an error diagnostic naming the macro and
 * what happened (the language server restarts everything on an error response); blank and garbage lines, unknown
 * methods and params of the wrong shape; a client that stops reading for a while (flow control without unbounded
 * memory); macros printing to stdout; logs on stderr only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_EXPANSION_CACHE, PmsClient, type TestWorkspace, v2Stream, writeWorkspace } from './pms-client.js';

let ws: TestWorkspace;
const started: PmsClient[] = [];

beforeAll(() => {
	ws = writeWorkspace();
});

afterAll(() => {
	for (const server of started) server.kill();
	ws.remove();
});

/** A server over the test workspace, with its macros defined. */
async function startServer(...flags: string[]): Promise<PmsClient> {
	const server = new PmsClient(['--quiet', 'proc-macro-server', NO_EXPANSION_CACHE, ...flags]);
	started.push(server);
	const defined = await server.request('definedMacros', { workspace: ws.workspace });
	expect(defined.error).toBeUndefined();
	return server;
}

function inline(server: PmsClient, name: string, code = 'x'): Promise<any> {
	return server.request('expandInline', { context: ws.context(), name, args: v2Stream(code, 4), call_site: { start: 0, end: code.length + 6 } });
}

/** The one diagnostic of a result that must be an answer, not an error response. */
function onlyDiagnostic(response: any): { message: string; severity: string; span: unknown } {
	expect(response.error).toBeUndefined();
	expect(response.result.token_stream.value).toBe('');
	expect(response.result.diagnostics).toHaveLength(1);
	return response.result.diagnostics[0];
}

describe('a macro that crashes, exits, panics or hangs', () => {
	let server: PmsClient;
	beforeAll(async () => {
		server = await startServer('--jobs', '2', '--timeout-ms', '1500');
	});

	it.each([
		['bang_segv', /^Inline macro `bang_segv` from package c_macros 0\.1\.0 \(call site bytes 0\.\.7\) crashed the macro host: the host was killed by SIGSEGV \(Segmentation fault\)\./],
		['bang_abort', /^Inline macro `bang_abort` from package c_macros 0\.1\.0 .* crashed the macro host: the host was killed by SIGABRT/],
		['bang_exit0', /^Inline macro `bang_exit0` from package c_macros 0\.1\.0 .* crashed the macro host: the host exited with code 0\./],
		['bang_exit3', /^Inline macro `bang_exit3` from package c_macros 0\.1\.0 .* crashed the macro host: the host exited with code 3\./],
		['bang_hang', /^Inline macro `bang_hang` from package c_macros 0\.1\.0 .* timed out after 1500 ms; the host was killed with SIGKILL\./],
	])('%s answers a result with an error diagnostic, and the next call is served', async (name, message) => {
		const diagnostic = onlyDiagnostic(await inline(server, name));
		expect(diagnostic.severity).toBe('Error');
		expect(diagnostic.message).toMatch(message);
		const after = await inline(server, 'wrap', 'after');
		expect(after.result.token_stream.value).toBe('(after )');
	});

	it('a Rust panic is caught in the library and named with its message', async () => {
		const diagnostic = onlyDiagnostic(await inline(server, 'bang_panic'));
		expect(diagnostic).toEqual({ message: 'macro `bang_panic` panicked: boom at the macro', severity: 'Error', span: null });
	});

	it('calls sent together with a crash are all answered, the crash on its own call only', async () => {
		const ids = ['wrap', 'bang_segv', 'wrap', 'bang_abort', 'wrap'].map((name, i) =>
			server.post('expandInline', { context: ws.context(), name, args: v2Stream(`v${i}`), call_site: { start: 0, end: 9 } }),
		);
		const answers = await Promise.all(ids.map((id) => server.response(id)));
		expect(answers.map((a) => a.error)).toEqual([undefined, undefined, undefined, undefined, undefined]);
		expect(answers[0].result.token_stream.value).toBe('(v0 )');
		expect(answers[2].result.token_stream.value).toBe('(v2 )');
		expect(answers[4].result.token_stream.value).toBe('(v4 )');
		expect(onlyDiagnostic(answers[1]).message).toMatch(/`bang_segv`.*SIGSEGV/);
		expect(onlyDiagnostic(answers[3]).message).toMatch(/`bang_abort`.*SIGABRT/);
	});

	it('what a macro prints to stdout reaches stderr, never the protocol', async () => {
		const printed = await inline(server, 'bang_prints_stdout', 'p');
		expect(printed.result.token_stream.value).toBe('(p )');
		const rust = await inline(server, 'rust_prints_stdout', 'q');
		expect(rust.result.token_stream.value).toBe('q');
		await server.until('the printed lines on stderr', () => server.stderr.includes('bang_prints_stdout: a normal line on stdout') && server.stderr.includes('rust_prints_stdout was here'));
		expect(server.strayLines).toEqual([]);
	});
});

describe('lines that are not requests', () => {
	let server: PmsClient;
	beforeAll(async () => {
		server = await startServer('--jobs', '1');
	});

	it('skips blank lines and logs lines without an id on stderr, then goes on', async () => {
		for (const line of ['', '   ', '\t', 'not json at all', '[1, 2]', '{"method":"expandInline","value":{}}', '{"id":-1,"method":"x","value":1}', '{"id":']) {
			server.writeLine(line);
		}
		const after = await inline(server, 'wrap', 'ok');
		expect(after.result.token_stream.value).toBe('(ok )');
		expect(server.stderr).toMatch(/ignored a line that is not a request: the line is not JSON \(.*\): "not json at all"/);
		expect(server.stderr).toMatch(/ignored a line that is not a request: a request must be a JSON object, got an array of 2: "\[1, 2\]"/);
		expect(server.stderr).toMatch(/ignored a line that is not a request: id: expected a request id \(a whole number from 0\), got nothing \(the field is missing\)/);
		expect(server.stderr).toMatch(/id: expected a request id \(a whole number from 0\), got number -1/);
		// Only the one request got an answer.
		expect(server.arrivals).toHaveLength(2);
		expect(server.strayLines).toEqual([]);
	});

	it('answers an error for an unknown method, a bad envelope or params of the wrong shape, naming what is wrong', async () => {
		server.writeLine('{"id":900,"method":"frobnicate","value":{}}');
		server.writeLine('{"id":901,"method":7,"value":{}}');
		server.writeLine('{"id":902,"method":"expandInline"}');
		server.writeLine(JSON.stringify({ id: 903, method: 'expandInline', value: { context: ws.context(), name: 'wrap', args: v2Stream('x'), call_site: { start: -1, end: 2 } } }));
		server.writeLine(JSON.stringify({ id: 904, method: 'expandDerive', value: { context: ws.context(), derives: 'named', item: v2Stream('x'), call_site: { start: 0, end: 2 } } }));
		server.writeLine(JSON.stringify({ id: 905, method: 'expandAttribute', value: { context: ws.context(), attr: 'tag', args: v2Stream(''), item: { tokens: [{ Ident: { content: 1 } }], metadata: {} }, adapted_call_site: { start: 0, end: 1 } } }));
		server.writeLine(JSON.stringify({ id: 906, method: 'definedMacros', value: { workspace: {} } }));
		const error = async (id: number) => (await server.response(id)).error?.message;
		expect(await error(900)).toBe('method not found: "frobnicate" (the methods are definedMacros, expandAttribute, expandDerive, expandInline)');
		expect(await error(901)).toBe('invalid request: method: expected a string, got number 7');
		expect(await error(902)).toBe('invalid request: value: missing (the params of a request are its "value" field)');
		expect(await error(903)).toBe('invalid params of expandInline: value.call_site.start: expected a u32 (a whole number from 0 to 4294967295), got number -1');
		expect(await error(904)).toBe('invalid params of expandDerive: value.derives: expected an array of strings, got string "named"');
		expect(await error(905)).toBe('invalid params of expandAttribute: value.item.tokens[0].Ident.content: expected a string, got number 1');
		expect(await error(906)).toBe('invalid params of definedMacros: value.workspace.manifest_path: expected a string, got nothing (the field is missing)');
		// The server goes on.
		expect((await inline(server, 'wrap', 'still')).result.token_stream.value).toBe('(still )');
		expect(server.stderr).toMatch(/request 900: method not found/);
	});

	it('input the tokenizer cannot read runs the macro on what it could read, with a warning', async () => {
		const response = await server.request('expandInline', { context: ws.context(), name: 'wrap', args: v2Stream('a "open', 4), call_site: { start: 0, end: 14 } });
		expect(response.result.token_stream.value).toBe('(a )');
		expect(response.result.diagnostics).toEqual([
			{
				message: 'the arguments of inline macro `wrap` of package c_macros could not all be read as tokens (unterminated string literal: missing closing `"`); the macro ran on the tokens around it',
				severity: 'Warning',
				span: { start: 6, end: 11 },
			},
		]);
	});
});

describe('flow control', () => {
	/** Requests whose answers are large: an identifier of 2000 bytes, wrapped. */
	const bigCall = (server: PmsClient, i: number) =>
		server.post('expandInline', { context: ws.context(), name: 'wrap', args: v2Stream(`v${i}_${'x'.repeat(2000)}`), call_site: { start: 0, end: 9 } });

	it('keeps reading stdin while the client does not read stdout, then delivers every answer', async () => {
		const server = await startServer('--jobs', '2');
		const answeredBefore = server.arrivals.length;
		server.pauseReading();
		// About 700 KB of requests and of answers: far more than the two pipes hold, so the client's writes only
		// finish if the server reads stdin while its own answers wait.
		const ids = Array.from({ length: 300 }, (_, i) => bigCall(server, i));
		await server.until('every request to be taken from the pipe', () => server.child.stdin.writableLength === 0);
		expect(server.arrivals.length).toBe(answeredBefore);
		server.resumeReading();
		const answers = await Promise.all(ids.map((id) => server.response(id)));
		answers.forEach((a, i) => expect(a.result.token_stream.value).toBe(`(v${i}_${'x'.repeat(2000)} )`));
		expect(server.strayLines).toEqual([]);
		expect((await server.close()).code).toBe(0);
	});

	it('stops reading stdin past the unread-answers limit, and reads again once the client catches up', async () => {
		const server = await startServer('--jobs', '1', '--max-unread-kib', '16');
		server.pauseReading();
		// 250 KB of answers: more than the pipe and this side's read buffer hold, so the server's backlog passes 16 KiB.
		const first = Array.from({ length: 120 }, (_, i) => bigCall(server, i));
		await server.until('the server to stop reading', () => /not reading stdin for now: \d+ bytes of answers are waiting for the client to read them \(the limit is 16384\)/.test(server.stderr));
		// The server holds its limit: of 660 KB more requests, the pipe takes 64 KB and the rest stays on this side.
		const more = Array.from({ length: 300 }, (_, i) => bigCall(server, 120 + i));
		await server.until('the pipe to fill', () => server.child.stdin.writableLength > 0);
		expect(server.stderr).not.toMatch(/reading stdin again/);
		const ids = [...first, ...more];
		server.resumeReading();
		const answers = await Promise.all(ids.map((id) => server.response(id)));
		expect(answers.every((a) => a.result.token_stream.value.startsWith('(v'))).toBe(true);
		expect(server.stderr).toMatch(/reading stdin again/);
		expect((await server.close()).code).toBe(0);
	});

	it('stops reading stdin while the pending-requests limit is reached', async () => {
		const server = await startServer('--jobs', '1', '--max-pending-requests', '2', '--timeout-ms', '500');
		const ids = Array.from({ length: 4 }, () => server.post('expandInline', { context: ws.context(), name: 'bang_hang', args: v2Stream(''), call_site: { start: 0, end: 5 } }));
		await server.until('the server to stop reading', () => server.stderr.includes('not reading stdin for now: 2 requests are waiting for an answer (the limit is 2)'));
		const answers = await Promise.all(ids.map((id) => server.response(id)));
		for (const answer of answers.slice(0, 3)) expect(onlyDiagnostic(answer).message).toMatch(/`bang_hang`.*timed out after 500 ms/);
		// After three hangs the client library quarantines the macro: the fourth call is answered at once.
		expect(onlyDiagnostic(answers[3]).message).toMatch(/`bang_hang`.* is quarantined: it crashed or hung the macro host 3 times/);
		expect((await server.close()).code).toBe(0);
	});
});

describe('process hygiene', () => {
	it('ends, saying why, when the client closes its end of stdout', async () => {
		const server = await startServer('--jobs', '1');
		server.child.stdout.destroy();
		server.post('expandInline', { context: ws.context(), name: 'wrap', args: v2Stream('x'), call_site: { start: 0, end: 5 } });
		const { code } = await server.exited;
		expect(code).toBe(0);
		expect(server.stderr).toMatch(/writing stdout failed \(.*EPIPE.*\); the client is gone, shutting down/);
	});

	it('logs on stderr only, and exits 0 at the end of stdin with nothing on stdout', async () => {
		const server = new PmsClient(['--quiet', 'proc-macro-server', NO_EXPANSION_CACHE, '--jobs', '1']);
		started.push(server);
		const { code } = await server.close();
		expect(code).toBe(0);
		expect(server.arrivals).toEqual([]);
		expect(server.strayLines).toEqual([]);
		expect(server.stderr).toMatch(/^macro-host proc-macro-server: serving with 1 host$/m);
	});
});
