/**
 * `macro-host expand <project-dir> --file F --line N [--column C]`: one call at a place in a project,
 * expanded alone in a real host, with real macro packages (built into the shared driver cache).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { buildAllPackages, CACHE_DIR, removeTempDirs, writeProject } from './support.js';

let project: string;
const SOURCE = [
	'fn f() -> u8 {',
	'    let a = add!(add!(1, 2), 3);',
	'    complain!(x, y)',
	'}',
	'#[rename(s)]',
	'#[gone]',
	'fn g() {',
	'    unbalanced!(z)',
	'}',
	'#[derive(Drop, Hello)]',
	'struct P {}',
	'',
].join('\n');

beforeAll(async () => {
	await buildAllPackages();
	project = writeProject(['nest_macros', 'add_macro', 'bad_output_macros'], { 'src/lib.cairo': SOURCE });
}, 300_000);
afterAll(removeTempDirs);

const expandAt = (...args: string[]) => runCli(['expand', project, '--file', 'src/lib.cairo', '--cache-dir', CACHE_DIR, ...args], { env: { NO_COLOR: '1' } });

describe('macro-host expand <project-dir> --file --line', () => {
	it('expands the innermost call on the line, showing its args, outcome and output, exit 0', async () => {
		const run = await expandAt('--line', '2');
		expect(run.stdout).toBe(`\`add!\` (package \`add_macro\`) at ${run.stdout.split(' at ')[1]!.split('\n')[0]}\nargs:\n    1, 2\noutcome: replace\noutput:\n    (1) + (2)\n`);
		expect(run.stdout).toMatch(/ at \S*src\/lib\.cairo:2:18\n/);
		expect(run).toMatchObject({ exitCode: 0, stderr: '' });
	});

	it('--column picks the outer call when it points at its name', async () => {
		const run = await expandAt('--line', '2', '--column', '13');
		expect(run.stdout).toMatch(/^`add!` \(package `add_macro`\) at \S*src\/lib\.cairo:2:13\nargs:\n    add!\(1, 2\), 3\noutcome: replace\noutput:\n    \(add!\(1, 2\)\) \+ \(3\)\n$/);
	});

	it('on an attribute line, sends that attribute its args and the item below it (the attributes after it included)', async () => {
		const run = await expandAt('--line', '5');
		expect(run.stdout).toMatch(/^`#\[rename\]` \(package `nest_macros`\) at \S*:5:1\nargs:\n    s\nitem:\n    #\[gone\]\n    fn g\(\) \{\n        unbalanced!\(z\)\n    \}\noutcome: replace\noutput:\n    #\[gone\]\n    fn g_s\(\) \{/);
		expect(run.exitCode).toBe(0);
	});

	it('sends a derive the item, and only the derives a package provides', async () => {
		const run = await expandAt('--line', '10');
		expect(run.stdout).toMatch(/^derive `Hello` \(package `nest_macros`\) at \S*:10:16\nitem:\n    struct P \{\}\noutcome: replace\noutput:\n    fn hello_P\(\) -> Array<felt252> \{\n        inner!\(1\)\n    \}\n$/);
	});

	it('renders the diagnostics of a call as expand-project does, with the source line and carets, exit 1', async () => {
		const run = await expandAt('--line', '3');
		expect(run.exitCode).toBe(1);
		expect(run.stdout).toMatch(/^`complain!` .*\nargs:\n    x, y\noutcome: bail\n$/);
		expect(run.stderr).toMatch(/^error: complain: I object to this argument\n --> \S*src\/lib\.cairo:3:15\n  \|\n3 \|     complain!\(x, y\)\n  \|               \^\n\nwarning: complain: and to this whole call\n --> \S*:3:5\n/);
	});

	it('checks the output: one that does not parse is printed, with an invalid-output error at the call', async () => {
		const run = await expandAt('--line', '8');
		expect(run.exitCode).toBe(1);
		expect(run.stdout).toMatch(/outcome: replace\noutput:\n    \( z\+\n$/);
		expect(run.stderr).toContain('error[invalid-output]: `unbalanced!` (package `bad_output_macros`) returned code that does not parse: `(` at output byte 0 is never closed\n');
	});

	it('--message-format json: the call, its diagnostics and a summary as JSON lines on stdout', async () => {
		const run = await expandAt('--line', '3', '--message-format', 'json');
		const lines = run.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
		expect(lines.map((l) => l.type)).toEqual(['call', 'diagnostic', 'diagnostic', 'summary']);
		expect(lines[0]).toMatchObject({ macro: { kind: 'inline', name: 'complain', package: 'nest_macros' }, line: 3, column: 5, input: { args: 'x, y' }, outcome: 'bail', output: null });
		expect(lines[1]).toMatchObject({ severity: 'error', message: 'complain: I object to this argument', line: 3, column: 15 });
		expect(lines[3]).toEqual({ type: 'summary', calls: 1, errors: 1 });
		expect(run.stderr).toBe('');
	});

	it('says when no call is at the place, listing the loaded macros, exit 1', async () => {
		const run = await expandAt('--line', '4');
		expect(run.exitCode).toBe(1);
		expect(run.stderr).toMatch(/^error: \S*src\/lib\.cairo:4: no macro call that a loaded package provides is there\nhelp: the loaded macros are .*`add!`/);
		const past = await expandAt('--line', '99');
		expect(past.stderr).toMatch(/line 99 is past the end of the file \(it has 12 lines\)\n$/);
	});

	it('usage errors name the flag, exit 2', async () => {
		expect(await runCli(['expand', project, '--line', '2'])).toMatchObject({ exitCode: 2 });
		expect((await runCli(['expand', project, '--line', '2'])).stderr).toContain('a project needs the place of the call: --file F --line N [--column C]');
		expect((await runCli(['expand', project, '--file', 'src/lib.cairo', '--line', '2', '--inline', 'add'])).stderr).toContain('--inline is for a library');
		expect((await runCli(['expand', project, '--file', 'src/lib.cairo', '--line', 'two'])).stderr).toContain("--line must be a whole number from 1 to 10000000, not 'two'");
	});
});
