import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LIBC_BASIC, runCli } from './run-cli.js';

const tempDirs: string[] = [];
afterAll(() => {
	for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** Writes `text` to a fresh temporary file (removed after the tests) and returns its path. */
function tempFile(name: string, text: string): string {
	const path = join(mkdtempSync(join(tmpdir(), 'macro-host-cli-')), name);
	tempDirs.push(dirname(path));
	writeFileSync(path, text);
	return path;
}

const BASIC_ID = realpathSync(LIBC_BASIC);
const expand = (args: string[], input?: string) => runCli(['expand', LIBC_BASIC, ...args], { input });

describe.concurrent('macro-host expand: inline macros', () => {
	it('replaces: wrap prints the arguments in generated parentheses (the `(` is joint, the `)` is not), exit 0', async () => {
		const run = await expand(['--inline', 'wrap', '--args', 'a, b + 1']);
		expect(run).toMatchObject({ exitCode: 0, stdout: '(a, b + 1 )\n', stderr: '' });
	});

	it('reads the arguments from a file or from stdin with --input', async () => {
		const file = tempFile('args.cairo', 'x::y(1)\n');
		expect(await expand(['--inline', 'wrap', '--input', file])).toMatchObject({ exitCode: 0, stdout: '(x::y(1) )\n', stderr: '' });
		expect(await expand(['--inline', 'wrap', '--input', '-'], "'abc', 2")).toMatchObject({ exitCode: 0, stdout: "('abc', 2 )\n" });
	});

	it('works the same over msgpack', async () => {
		const run = await expand(['--inline', 'wrap', '--args', 'a', '--encoding', 'msgpack']);
		expect(run).toMatchObject({ exitCode: 0, stdout: '(a )\n', stderr: '' });
	});

	it('leaves: noop prints the input unchanged, comments and all', async () => {
		const run = await expand(['--inline', 'noop', '--input', '-'], 'a /* kept */ b');
		expect(run).toMatchObject({ exitCode: 0, stdout: 'a /* kept */ b\n', stderr: '' });
	});

	it('removes: remove prints nothing', async () => {
		expect(await expand(['--inline', 'remove', '--args', 'x'])).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
	});

	it('bails: prints the input and both diagnostics with line:col, exit 1', async () => {
		const file = tempFile('bail.cairo', '// first line: ünïcödé\n   first, second\n');
		const run = await expand(['--inline', 'bail', '--input', file]);
		expect(run.exitCode).toBe(1);
		expect(run.stdout).toBe('// first line: ünïcödé\n   first, second\n');
		// Rendered as expand-project renders diagnostics: the source line and carets under the span.
		expect(run.stderr).toBe(
			`error: bail: refused to expand\n --> ${file}:2:4\n  |\n2 |    first, second\n  |    ^^^^^\n\n` +
				`warning: bail: second thought\n --> ${file}:1:1\n  |\n1 | // first line: ünïcödé\n  | ^^^^^^^^^^^^^^^^^^^^^^\n\n`,
		);
	});

	it('points diagnostics into <args> and <stdin>', async () => {
		const args = await expand(['--inline', 'bail', '--args', '  x']);
		expect(args.stderr).toBe('error: bail: refused to expand\n --> <args>:1:3\n  |\n1 |   x\n  |   ^\n\nwarning: bail: second thought\n --> <args>:1:1\n  |\n1 |   x\n  | ^^^\n\n');
		const stdin = await expand(['--inline', 'bail', '--input', '-'], '\n\n  é y');
		expect(stdin.stderr).toContain('error: bail: refused to expand\n --> <stdin>:3:3\n');
		const empty = await expand(['--inline', 'bail']);
		expect(empty).toMatchObject({ exitCode: 1, stdout: '' });
		expect(empty.stderr).toContain('error: bail: refused to expand\n --> <args>:1:1\n');
	});

	it('reports aux data and the post-processing diagnostics as notes, exit 0', async () => {
		const run = await expand(['--inline', 'aux', '--args', 'a b c']);
		expect(run).toMatchObject({ exitCode: 0, stdout: 'a b c\n' });
		expect(run.stderr).toBe('note: aux data: {"tokens":3}\nnote: post-process saw 1 aux values\n\n');
	});
});

describe.concurrent('macro-host expand: attribute and derive macros', () => {
	it('expands an attribute on the item from --input', async () => {
		const item = tempFile('item.cairo', 'fn main() -> u32 { let x = 1; x }\n');
		const run = await expand(['--attribute', 'tag', '--input', item]);
		expect(run).toMatchObject({ exitCode: 0, stderr: '' });
		expect(run.stdout).toBe('#[tagged]\nfn main() -> u32 {\n    let x = 1;\n    x\n}\n');
	});

	it('expands two derives in order and concatenates their output', async () => {
		const run = await expand(['--derive', 'Named,Hello', '--input', '-'], '#[derive(Named, Hello)]\nstruct Point { x: u32 }');
		expect(run).toMatchObject({ exitCode: 0, stdout: 'impl Named for Point {}\nfn hello_Point() {}\n', stderr: '' });
	});

	it('reports a derive on something that is not a struct at the call site, exit 1', async () => {
		const run = await expand(['--derive', 'Named', '--input', '-'], 'fn f() {}');
		expect(run).toMatchObject({ exitCode: 1, stdout: 'fn f() {}\n' });
		expect(run.stderr).toBe('error: Named: expected a struct or enum\n --> <stdin>:1:1\n  |\n1 | fn f() {}\n  | ^^^^^^^^^\n\n');
	});
});

describe.concurrent('macro-host expand: --message-format json', () => {
	it('prints the call, each diagnostic with its place, and a summary as JSON lines on stdout', async () => {
		const run = await expand(['--inline', 'bail', '--args', '  x', '--message-format', 'json']);
		expect(run).toMatchObject({ exitCode: 1, stderr: '' });
		const lines = run.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
		expect(lines.map((l) => l.type)).toEqual(['call', 'diagnostic', 'diagnostic', 'summary']);
		expect(lines[0]).toMatchObject({ macro: { kind: 'inline', name: 'bail' }, outcome: 'bail', output: null });
		expect(lines[1]).toMatchObject({ severity: 'error', message: 'bail: refused to expand', file: '<args>', line: 1, column: 3 });
		expect(lines[3]).toEqual({ type: 'summary', calls: 1, errors: 1 });
		const replaced = await expand(['--inline', 'wrap', '--args', 'a', '--json']);
		expect(JSON.parse(replaced.stdout.split('\n')[0]!)).toMatchObject({ outcome: 'replace', output: '(a )' });
	});
});

describe.concurrent('macro-host expand: colour', () => {
	it('colours diagnostics with --color always, even through a pipe; never with --color never', async () => {
		const always = await expand(['--inline', 'bail', '--args', 'x', '--color', 'always']);
		expect(always.stderr).toContain('\x1b[1;31merror\x1b[0m');
		const never = await expand(['--inline', 'bail', '--args', 'x', '--color', 'never']);
		expect(never.stderr).not.toContain('\x1b[');
	});
});

describe.concurrent('macro-host expand: failures', () => {
	it('survives a segfaulting macro: crash diagnostic on stderr, exit 1, the input unchanged', async () => {
		const run = await expand(['--inline', 'bang_segv', '--args', 'x']);
		expect(run.signal).toBeUndefined();
		expect(run.exitCode).toBe(1);
		expect(run.stdout).toBe('x\n');
		expect(run.stderr).toMatch(/^error: Inline macro `bang_segv` .* crashed the macro host: the host was killed by SIGSEGV \(Segmentation fault\)\.\n --> <args>:1:1\n/);
	});

	it('survives aborting and exiting macros, with the exit in the message', async () => {
		const abort = await expand(['--inline', 'bang_abort', '--args', 'x']);
		expect(abort).toMatchObject({ exitCode: 1, stdout: 'x\n' });
		expect(abort.stderr).toMatch(/^error: Inline macro `bang_abort` .* crashed the macro host: the host was killed by SIGABRT \(Aborted\)\.\n --> <args>:1:1\n/);
		const exit3 = await expand(['--inline', 'bang_exit3', '--args', 'x']);
		expect(exit3).toMatchObject({ exitCode: 1, stdout: 'x\n' });
		expect(exit3.stderr).toMatch(/^error: Inline macro `bang_exit3` .* crashed the macro host: the host exited with code 3\.\n --> <args>:1:1\n/);
	});

	it('survives a macro that hangs, with --timeout-ms', async () => {
		const run = await expand(['--inline', 'bang_hang', '--args', 'x', '--timeout-ms', '500']);
		expect(run.exitCode).toBe(1);
		expect(run.stderr).toMatch(/^error: Inline macro `bang_hang` .* timed out after 500 ms; the host was killed with SIGKILL\.\n --> <args>:1:1\n/);
	});

	it('keeps stdout clean when a macro prints: its output goes to stderr', async () => {
		const run = await expand(['--inline', 'bang_prints_stdout', '--args', 'q']);
		expect(run).toMatchObject({ exitCode: 0, stdout: '(q )\n' });
		expect(run.stderr).toContain('Content-Length: 52\r\n\r\n{"jsonrpc":"2.0","id":1,"result":"corrupted"}');
		expect(run.stderr).toContain('bang_prints_stdout: a normal line on stdout\n');
	});

	it('reports tokenize errors with line:col and starts no host, exit 1', async () => {
		const run = await expand(['--inline', 'wrap', '--input', '-'], 'ok\n  "never closed');
		expect(run).toMatchObject({ exitCode: 1, stdout: '' });
		expect(run.stderr).toBe('error: unterminated string literal: missing closing `"`\n --> <stdin>:2:3\n  |\n2 |   "never closed\n  |   ^^^^^^^^^^^^^\n\n');
		const args = await expand(['--attribute', 'tag', '--args', 'a € b', '--input', '-'], 'fn f() {}');
		expect(args.stderr).toBe("error: unexpected character '€' (U+20AC)\n --> <args>:1:3\n  |\n1 | a € b\n  |   ^\n\n");
	});

	it('reports an unknown macro with the macros that exist, exit 1', async () => {
		const run = await expand(['--inline', 'nope', '--args', 'x']);
		expect(run).toMatchObject({ exitCode: 1, stdout: '' });
		expect(run.stderr).toBe(
			`error: the library ${BASIC_ID} does not provide an inline macro named nope\n` +
				'hint: libc_basic.so provides these inline macros: noop, wrap, remove, bail, aux, bang_segv, bang_abort, ' +
				'bang_exit0, bang_exit3, bang_hang, bang_prints_stdout\n',
		);
	});

	it('names the right flag when the macro is of another kind', async () => {
		const run = await expand(['--inline', 'tag', '--args', 'x']);
		expect(run.exitCode).toBe(1);
		expect(run.stderr).toContain("hint: 'tag' is an attribute macro: use --attribute tag\n");
	});

	it('exits 1 naming the path and the reason when the library does not load', async () => {
		const run = await runCli(['expand', 'nowhere/lib.so', '--inline', 'wrap', '--args', 'x']);
		expect(run).toMatchObject({ exitCode: 1, stdout: '' });
		expect(run.stderr).toBe('error: cannot load macro library nowhere/lib.so: the file does not exist\n');
	});
});
