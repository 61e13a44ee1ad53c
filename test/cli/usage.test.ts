import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LIBC_BASIC, ROOT, runCli } from './run-cli.js';

const VERSION = (JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string }).version;

describe('macro-host --help and --version', () => {
	it('prints the global help on stdout with exit 0', async () => {
		for (const flag of ['--help', '-h', 'help']) {
			const run = await runCli([flag]);
			expect(run.exitCode).toBe(0);
			expect(run.stderr).toBe('');
			expect(run.stdout).toContain('Usage:\n  macro-host serve [--encoding json|msgpack]\n  macro-host list <library> [--message-format json]\n');
			expect(run.stdout).toContain('macro-host expand <library> (--inline NAME | --attribute NAME | --derive NAME[,NAME])');
			expect(run.stdout).toContain('Exit codes: 0 success (warnings allowed), 1 error diagnostics or a crash, 2 usage error.');
		}
	});

	it('prints each subcommand help', async () => {
		const serve = await runCli(['serve', '--help']);
		expect(serve.exitCode).toBe(0);
		expect(serve.stdout).toMatch(/^Usage: macro-host serve \[--encoding json\|msgpack\] \[options\]\n/);
		const list = await runCli(['list', '-h']);
		expect(list.exitCode).toBe(0);
		expect(list.stdout).toMatch(/^Usage: macro-host list <library> \[--message-format human\|json\]\n/);
		const expand = await runCli(['help', 'expand']);
		expect(expand.exitCode).toBe(0);
		expect(expand.stdout).toMatch(/^Usage: macro-host expand <library> \(--inline NAME/);
		expect(expand.stdout).toContain('--input FILE|-');
		// The proc-macro server's help, also behind --quiet as the Cairo language server writes it.
		for (const args of [['proc-macro-server', '--help'], ['--quiet', 'proc-macro-server', '-h'], ['help', 'proc-macro-server']]) {
			const pms = await runCli(args);
			expect(pms.exitCode).toBe(0);
			expect(pms.stdout).toMatch(/^Usage: macro-host proc-macro-server \[--jobs N\] \[--timeout-ms N\] \[--cache-dir DIR\]\n/);
		}
	});

	it('prints the version from package.json', async () => {
		for (const flag of ['--version', '-V']) {
			const run = await runCli([flag]);
			expect(run).toMatchObject({ exitCode: 0, stdout: `macro-host ${VERSION}\n`, stderr: '' });
		}
	});
});

// Each case is its own short-lived process, so they run side by side.
describe.concurrent('usage errors exit with 2 and name what is wrong', () => {
	const cases: Array<[string, string[], string, string]> = [
		['no command', [], "error: missing command: give 'serve', 'list', 'expand', 'build', 'expand-project', 'proc-macro-server' or 'cache'", 'macro-host --help'],
		['an unknown command', ['frobnicate'], "error: unknown command 'frobnicate': the commands are serve, list, expand, build, expand-project, proc-macro-server and cache", 'macro-host --help'],
		['an unknown global flag', ['--frob'], "error: unknown flag '--frob'", 'macro-host --help'],
		['--quiet before a command that has no --quiet', ['--quiet', 'list', LIBC_BASIC], "error: unknown flag '--quiet'", 'macro-host list --help'],
		['proc-macro-server with a bad --jobs', ['--quiet', 'proc-macro-server', '--jobs', '0'], "error: --jobs must be a whole number from 1 to 256, not '0'", 'macro-host proc-macro-server --help'],
		['proc-macro-server with an argument', ['proc-macro-server', 'extra'], "error: unexpected argument 'extra'", 'macro-host proc-macro-server --help'],
		['an unknown list flag', ['list', LIBC_BASIC, '--yaml'], "error: unknown flag '--yaml'", 'macro-host list --help'],
		['list without a library', ['list'], 'error: missing <library>: give the path of the macro library (.so) to load', 'macro-host list --help'],
		['list with two libraries', ['list', LIBC_BASIC, 'other.so'], "error: unexpected argument 'other.so'", 'macro-host list --help'],
		['a bad encoding', ['list', LIBC_BASIC, '--encoding', 'xml'], "error: --encoding must be json or msgpack, not 'xml'", 'macro-host list --help'],
		['serve with a bad encoding', ['serve', '--encoding', 'cbor'], "error: --encoding must be json or msgpack, not 'cbor'", 'macro-host serve --help'],
		['expand without a library', ['expand', '--inline', 'wrap'], 'error: missing <library>: give the path of the macro library (.so) to load', 'macro-host expand --help'],
		['expand with no macro', ['expand', LIBC_BASIC, '--args', 'x'], 'error: no macro to expand: give one of --inline NAME, --attribute NAME or --derive NAME[,NAME]', 'macro-host expand --help'],
		['expand with two macros', ['expand', LIBC_BASIC, '--inline', 'wrap', '--derive', 'Named'], 'error: --inline and --derive cannot be used together: give exactly one', 'macro-host expand --help'],
		['a flag without its value', ['expand', LIBC_BASIC, '--inline'], 'error: --inline needs a value', 'macro-host expand --help'],
		['a boolean flag with a value', ['list', LIBC_BASIC, '--json=yes'], 'error: --json takes no value', 'macro-host list --help'],
		['an empty derive name', ['expand', LIBC_BASIC, '--derive', 'Named,', '--input', '-'], "error: --derive needs comma-separated names, got 'Named,'", 'macro-host expand --help'],
		['inline with both --args and --input', ['expand', LIBC_BASIC, '--inline', 'wrap', '--args', 'x', '--input', '-'], 'error: --inline takes its arguments from --args or from --input, not both', 'macro-host expand --help'],
		['derive with --args', ['expand', LIBC_BASIC, '--derive', 'Named', '--args', 'x', '--input', '-'], 'error: --args has no meaning with --derive: a derive takes only the item (--input)', 'macro-host expand --help'],
		['attribute without an item', ['expand', LIBC_BASIC, '--attribute', 'tag'], 'error: --attribute needs the item to expand: give --input FILE, or --input - to read stdin', 'macro-host expand --help'],
		['a bad timeout', ['expand', LIBC_BASIC, '--inline', 'wrap', '--timeout-ms', '10s'], "error: --timeout-ms must be a whole number of milliseconds from 1 to 2147483647, not '10s'", 'macro-host expand --help'],
	];
	for (const [what, args, message, help] of cases) {
		it(`reports ${what}`, async () => {
			const run = await runCli(args, { input: '' });
			expect(run.exitCode).toBe(2);
			expect(run.stdout).toBe('');
			expect(run.stderr).toBe(`${message}\nhint: run '${help}' for usage\n`);
		});
	}
});

describe.concurrent('an input that cannot be read exits 1, like a library that does not load (not a usage error)', () => {
	const cases: [string, string[], string][] = [
		['a missing input file', ['expand', LIBC_BASIC, '--inline', 'wrap', '--input', 'no/such/file.cairo'], "error: cannot read --input 'no/such/file.cairo': no such file\n"],
		['an input that is a directory', ['expand', LIBC_BASIC, '--inline', 'wrap', '--input', 'test'], "error: cannot read --input 'test': it is a directory\n"],
	];
	for (const [what, args, stderr] of cases) {
		it(`reports ${what}`, async () => {
			expect(await runCli(args, { input: '' })).toMatchObject({ exitCode: 1, stdout: '', stderr });
		});
	}
	it('says so in expand --help', async () => {
		expect((await runCli(['expand', '--help'])).stdout).toContain('an --input or --file that is missing), 2 usage error');
	});
});

describe.concurrent('one JSON flag across commands: --message-format json, with --json as its short form', () => {
	it('list gives the same JSON either way, and refuses a contradiction (exit 2)', async () => {
		const long = await runCli(['list', LIBC_BASIC, '--message-format', 'json']);
		const short = await runCli(['list', LIBC_BASIC, '--json']);
		expect(long.exitCode).toBe(0);
		expect(JSON.parse(long.stdout)).toEqual(JSON.parse(short.stdout));
		const both = await runCli(['list', LIBC_BASIC, '--json', '--message-format', 'human']);
		expect(both).toMatchObject({ exitCode: 2, stderr: "error: --json and --message-format human contradict each other: give one\nhint: run 'macro-host list --help' for usage\n" });
	});

	it('build --message-format json reports a manifest error as a record with its place, then a summary', async () => {
		const run = await runCli(['build', 'no/such/project', '--message-format', 'json']);
		expect(run.exitCode).toBe(1);
		const lines = run.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
		expect(lines).toHaveLength(2);
		expect(lines[0]).toMatchObject({ type: 'diagnostic', severity: 'error', code: 'manifest', file: 'no/such/project/Scarb.toml', line: 1, column: 1, message: 'cannot read the manifest: no such file' });
		expect(lines[1]).toEqual({ type: 'summary', packages: 0, errors: 1, warnings: 0, notes: 0 });
	});
});
