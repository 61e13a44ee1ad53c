/**
 * `macro-host expand-project`, run as a real process over real hosts: the example project against
 * golden files (expanded sources and human diagnostics), a crash in one file while the others expand,
 * `--jobs 1` and `--jobs 2` giving the same bytes, JSON messages, NO_COLOR on a real terminal,
 * post-processing, the default output directory, and usage errors.
 */
import { execa } from 'execa';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../cli/run-cli.js';
import { buildAllPackages, CACHE_DIR, expectGolden, HELLO, normalize, removeTempDirs, tempDir, writeProject } from './support.js';

beforeAll(buildAllPackages);
afterAll(removeTempDirs);

const HELLO_REL = 'examples/hello-macros';

/** expand-project on the example, into a fresh output directory. */
async function expandHello(...flags: string[]): Promise<{ out: string; exitCode: number | undefined; stdout: string; stderr: string }> {
	const out = join(tempDir('out'), 'expanded');
	const run = await runCli(['expand-project', HELLO_REL, '--out', out, '--cache-dir', CACHE_DIR, ...flags]);
	return { out, ...run, stdout: normalize(run.stdout, { [out]: '<out>' }), stderr: normalize(run.stderr, { [out]: '<out>' }) };
}

function read(dir: string, file: string): string {
	return readFileSync(join(dir, file), 'utf8');
}

describe('expand-project on examples/hello-macros', () => {
	it('writes the expanded sources and reports the crash as rustc would (golden files), exit 1', async () => {
		const run = await expandHello('--jobs', '2');
		expect(run.exitCode, run.stderr).toBe(1);
		expect(run.stdout).toBe('');
		expectGolden('hello-macros/src/lib.cairo', read(run.out, 'src/lib.cairo'));
		expectGolden('hello-macros/src/crashy.cairo', read(run.out, 'src/crashy.cairo'));
		expectGolden('hello-macros.stderr', run.stderr);
		expect(run.stderr).toMatch(/^error\[host-crash\]: Attribute macro `crash` from package crash_macro 0\.1\.0 \(call site bytes \d+\.\.\d+\) crashed the macro host: the host was killed by SIGSEGV \(Segmentation fault\)\.$/m);
		expect(run.stderr).toMatch(/^2 files, 7 expansions, 1 error, 0 warnings$/m);
	});

	it('--jobs 1 and --jobs 2 give identical files, diagnostics and JSON', async () => {
		const [one, two] = await Promise.all([expandHello('--jobs', '1'), expandHello('--jobs', '2')]);
		expect(one.exitCode).toBe(1);
		expect(two.exitCode).toBe(1);
		for (const file of ['src/lib.cairo', 'src/crashy.cairo']) expect(read(one.out, file)).toBe(read(two.out, file));
		expect(one.stderr).toBe(two.stderr);
		const [jsonOne, jsonTwo] = await Promise.all([expandHello('--jobs', '1', '--message-format', 'json'), expandHello('--jobs', '2', '--message-format', 'json')]);
		expect(jsonOne.stdout).not.toBe('');
		expect(jsonOne.stdout).toBe(jsonTwo.stdout);
	});

	it('--message-format json prints one JSON object per line on stdout: diagnostics, files, summary', async () => {
		const run = await expandHello('--jobs', '2', '--message-format', 'json');
		expect(run.exitCode).toBe(1);
		expect(run.stderr).toBe('');
		const messages = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
		expect(messages.map((m) => m.type)).toEqual(['diagnostic', 'file', 'file', 'summary']);
		expect(messages[0]).toMatchObject({
			severity: 'error',
			code: 'host-crash',
			file: `${HELLO_REL}/src/crashy.cairo`,
			line: 5,
			column: 1,
			endLine: 5,
			endColumn: 9,
			macro: { kind: 'attribute', name: 'crash', package: 'crash_macro' },
			package: 'crash_macro',
		});
		expect(messages[0].rendered).toMatch(/^error\[host-crash\]: .*\n --> examples\/hello-macros\/src\/crashy\.cairo:5:1\n  \|\n5 \| #\[crash\]\n  \| \^{8}\n/);
		expect(messages[1]).toEqual({ type: 'file', source: `${HELLO_REL}/src/crashy.cairo`, output: '<out>/src/crashy.cairo', expansions: 2 });
		expect(messages[2]).toEqual({ type: 'file', source: `${HELLO_REL}/src/lib.cairo`, output: '<out>/src/lib.cairo', expansions: 5 });
		expect(messages[3]).toEqual({ type: 'summary', files: 2, expansions: 7, errors: 1, warnings: 0, notes: 0, outDir: '<out>' });
	});
});

describe('crash isolation', () => {
	const sources = {
		'src/lib.cairo': 'mod a;\nmod b;\nmod c;\n',
		'src/a.cairo': 'fn a() -> felt252 { add!(1, 2) }\n',
		'src/b.cairo': '#[crash]\nfn b() -> felt252 { add!(3, 4) }\n\nfn b2() -> felt252 { add!(5, 6) }\n',
		'src/c.cairo': '#[derive(Drop, ToValue)]\nstruct C { x: felt252 }\nfn c() -> felt252 { add!(7, 8) }\n',
	};

	for (const jobs of ['1', '3']) {
		it(`a crash in one file (--jobs ${jobs}) costs that one call: every other call expands and the build finishes, exit 1`, async () => {
			const project = writeProject(['add_macro', 'crash_macro', 'to_value_macro'], sources);
			const run = await runCli(['expand-project', '.', '--jobs', jobs, '--cache-dir', CACHE_DIR], { cwd: project });
			expect(run.exitCode, run.stderr).toBe(1);
			const out = join(project, 'target', 'expanded', 'src');
			expect(read(out, 'a.cairo')).toBe('fn a() -> felt252 { (1) + (2) }\n');
			expect(read(out, 'b.cairo')).toBe('#[crash]\nfn b() -> felt252 { (3) + (4) }\n\nfn b2() -> felt252 { (5) + (6) }\n');
			expect(read(out, 'c.cairo')).toBe(
				'#[derive(Drop)]\nstruct C { x: felt252 }\nimpl CToValue of ToValue<C> {\n    fn to_value(self: @C) -> felt252 {\n        0 + (*self.x).into()\n    }\n}\nfn c() -> felt252 { (7) + (8) }\n',
			);
			const stderr = normalize(run.stderr);
			expect(stderr.match(/^error/gm)).toHaveLength(1);
			expect(stderr).toContain(' --> src/b.cairo:1:1\n  |\n1 | #[crash]\n  | ^^^^^^^^\n');
			expect(stderr).toMatch(/Wrote 4 expanded files to target\/expanded\n4 files, 6 expansions, 1 error, 0 warnings\n$/);
		});
	}
});

describe('expand-project', () => {
	it('runs each post-process step once over the aux data of every file, in file order; notes do not fail the build', async () => {
		const project = writeProject(['nest_macros'], {
			'src/lib.cairo': 'fn f() { tally!(a b c) }\n',
			'src/z/last.cairo': 'fn g() { tally!(x) }\n',
			'src/m.cairo': 'fn h() { tally!(p q) }\n',
		});
		const run = await runCli(['expand-project', project, '--jobs', '2', '--cache-dir', CACHE_DIR], { cwd: project });
		expect(run.exitCode, run.stderr).toBe(0);
		expect(normalize(run.stderr)).toBe(
			'note: tally saw 3 calls: {"tokens":3} {"tokens":2} {"tokens":1}\n --> post-process step of package `nest_macros`\n\n' +
				'Wrote 3 expanded files to target/expanded\n3 files, 3 expansions, 0 errors, 0 warnings\n',
		);
	});

	it('empties the default output directory first, so no stale file stays; writes files with no macros as they are', async () => {
		const project = writeProject(['add_macro'], { 'src/lib.cairo': '// nothing to expand\n' });
		mkdirSync(join(project, 'target', 'expanded', 'src'), { recursive: true });
		writeFileSync(join(project, 'target', 'expanded', 'src', 'stale.cairo'), 'old');
		const run = await runCli(['expand-project', project, '--cache-dir', CACHE_DIR], { cwd: project });
		expect(run.exitCode, run.stderr).toBe(0);
		expect(existsSync(join(project, 'target', 'expanded', 'src', 'stale.cairo'))).toBe(false);
		expect(read(join(project, 'target', 'expanded'), 'src/lib.cairo')).toBe('// nothing to expand\n');
		expect(normalize(run.stderr)).toBe('Wrote 1 expanded file to target/expanded\n1 file, 0 expansions, 0 errors, 0 warnings\n');
	});

	it('colors diagnostics on a terminal, and not with NO_COLOR set', async () => {
		const project = writeProject(['nest_macros'], { 'src/lib.cairo': 'fn f() { complain!(x) }\n' });
		const command = `${process.execPath} ${CLI} expand-project . --jobs 1 --cache-dir ${CACHE_DIR}`;
		// `script` runs the command on a pseudo-terminal, so stderr is a TTY as in a person's shell.
		const onTerminal = (env: Record<string, string | undefined>) =>
			execa('script', ['-qec', command, '/dev/null'], { cwd: project, env, reject: false, stdin: 'ignore', timeout: 50_000 });
		const colored = await onTerminal({ NO_COLOR: undefined });
		expect(colored.exitCode).toBe(1);
		expect(colored.stdout).toContain('\x1b[1;31merror\x1b[0m\x1b[1m: complain: I object to this argument\x1b[0m');
		const plain = await onTerminal({ NO_COLOR: '1' });
		expect(plain.exitCode).toBe(1);
		expect(plain.stdout).toContain('error: complain: I object to this argument');
		expect(plain.stdout).not.toContain('\x1b[');
	});

	it('exits 1 with the manifest error when the directory has no Scarb.toml', async () => {
		const dir = tempDir('empty');
		const run = await runCli(['expand-project', dir, '--cache-dir', CACHE_DIR]);
		expect(run.exitCode).toBe(1);
		expect(run.stderr).toMatch(/^error: .*Scarb\.toml/);
	});

	it('exits 2 on usage errors, naming the flag', async () => {
		const cases: [string[], string][] = [
			[[], "error: missing <project-dir>: give the directory of the project's Scarb.toml"],
			[[HELLO_REL, '--jobs', '0'], "error: --jobs must be a whole number from 1 to 256, not '0'"],
			[[HELLO_REL, '--message-format', 'xml'], "error: --message-format must be human or json, not 'xml'"],
			[[HELLO_REL, '--recursion-limit', 'ten'], "error: --recursion-limit must be a whole number from 1 to 100000, not 'ten'"],
			[[HELLO_REL, '--out', `${HELLO_REL}/src/gen`], `error: --out: the output directory ${join(HELLO, 'src', 'gen')} would overwrite the project's sources (or be read as sources): choose one outside ${join(HELLO, 'src')}`],
			[[HELLO_REL, 'extra'], "error: unexpected argument 'extra'"],
		];
		for (const [args, message] of cases) {
			const run = await runCli(['expand-project', ...args]);
			expect(run.exitCode, args.join(' ')).toBe(2);
			expect(run.stderr).toBe(`${message}\nhint: run 'macro-host expand-project --help' for usage\n`);
		}
		const help = await runCli(['expand-project', '--help']);
		expect(help.exitCode).toBe(0);
		expect(help.stdout).toMatch(/^Usage: macro-host expand-project <project-dir>/);
	});
});
