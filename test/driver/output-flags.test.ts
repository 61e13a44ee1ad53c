/**
 * `-q`, `-v` and `--color` on build, expand-project and expand (project mode), before or after the
 * command, with a real project and real packages (the shared driver cache).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { buildAllPackages, CACHE_DIR, removeTempDirs, writeProject } from './support.js';

let project: string;
beforeAll(async () => {
	await buildAllPackages();
	// `#[renmae]` draws a warning (did you mean `#[rename]`), so there is a diagnostic to color.
	project = writeProject(['nest_macros', 'add_macro'], { 'src/lib.cairo': '#[renmae(s)]\nfn f() -> u8 { add!(1, 2) }\n' });
}, 300_000);
afterAll(removeTempDirs);

const ESC = '\x1b[';
const run = (...args: string[]) => runCli(args, { env: { NO_COLOR: '' } });

describe('output flags', () => {
	it('expand-project -q prints only the diagnostics; -v adds the libraries and the calls per file', async () => {
		const quiet = await run('expand-project', project, '-q', '--cache-dir', CACHE_DIR, '--no-expansion-cache');
		expect(quiet.exitCode).toBe(0);
		expect(quiet.stderr).toMatch(/^warning\[unknown-macro\]: no macro package provides `#\[renmae\]`/);
		expect(quiet.stderr).not.toMatch(/Wrote|expansions?,|Compiling|Built/);
		const verbose = await run('-v', 'expand-project', project, '--cache-dir', CACHE_DIR, '--no-expansion-cache');
		expect(verbose.stderr).toMatch(/^nest_macros v0\.1\.0: cached library \S+\nadd_macro v0\.1\.0: cached library \S+\n/);
		expect(verbose.stderr).toMatch(/\nsrc\/lib\.cairo: 1 expansion\n|lib\.cairo: 1 expansion\n/);
		expect(verbose.stderr).toContain('1 file, 1 expansion, 0 errors, 1 warning');
	});

	it('--color always colors even through a pipe, never and the default (piped) do not; a bad value is a usage error', async () => {
		const always = await run('expand-project', project, '--color', 'always', '--cache-dir', CACHE_DIR);
		expect(always.stderr).toContain(`${ESC}1;33mwarning[unknown-macro]`);
		const never = await run('--color=never', 'expand-project', project, '--cache-dir', CACHE_DIR);
		expect(never.stderr).not.toContain(ESC);
		expect((await run('expand-project', project, '--cache-dir', CACHE_DIR)).stderr).not.toContain(ESC);
		expect(await run('expand-project', project, '--color', 'sometimes')).toMatchObject({
			exitCode: 2,
			stderr: "error: --color must be auto, always or never, not 'sometimes'\nhint: run 'macro-host expand-project --help' for usage\n",
		});
		expect((await run('expand-project', project, '-q', '-v')).stderr).toContain('--quiet and --verbose cannot be used together');
	});

	it('build -q prints no progress; build -v names each library; expand -q on a project prints no progress', async () => {
		const quiet = await run('-q', 'build', project, '--cache-dir', CACHE_DIR);
		expect(quiet).toMatchObject({ exitCode: 0, stderr: '' });
		const verbose = await run('build', project, '--verbose', '--cache-dir', CACHE_DIR);
		expect(verbose.stderr).toMatch(/^nest_macros v0\.1\.0: cached library /);
		const at = await run('expand', project, '-q', '--file', 'src/lib.cairo', '--line', '2', '--cache-dir', CACHE_DIR);
		expect(at).toMatchObject({ exitCode: 0, stderr: '' });
		expect(at.stdout).toContain('output:\n    (1) + (2)\n');
	});
});
