/**
 * The published package, as another project gets it: `npm pack`, install the tarball into a temporary
 * project, type-check a strict driver against its declarations, and run the CLI and the driver from there.
 *
 * The install runs offline: the package's dependencies (and typescript, @types/node for the consumer)
 * are given as folders of this repository's node_modules, which npm links, so only the tarball itself
 * is unpacked and nothing is fetched.
 */
import { execa } from 'execa';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIBC_BASIC, ROOT } from '../cli/run-cli.js';

const CONSUMER_SOURCES = join(ROOT, 'test', 'publish', 'consumer');
let work: string;
let project: string;
let files: string[];

/** Runs a command in the consumer project; rejects with its output when it fails. */
function inProject(command: string, args: string[]) {
	return execa(command, args, { cwd: project, env: { npm_config_cache: join(work, 'npm-cache') }, timeout: 120_000, stripFinalNewline: false });
}

beforeAll(async () => {
	work = mkdtempSync(join(tmpdir(), 'macro-host-publish-'));
	const packed = await execa('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, env: { npm_config_cache: join(work, 'npm-cache') } });
	const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
	files = info.files.map((f) => f.path);

	project = join(work, 'consumer');
	cpSync(CONSUMER_SOURCES, project, { recursive: true });
	writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
	const { dependencies } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
	const linked = [...Object.keys(dependencies), 'typescript', '@types/node'].map((name) => join(ROOT, 'node_modules', name));
	await inProject('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock', join(work, info.filename), ...linked]);
}, 300_000);
afterAll(() => {
	if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
	it('ships the compiled library, the host bundle, the SDK, the docs and the license; no tests, bench, sources or source maps', () => {
		for (const path of ['package.json', 'README.md', 'LICENSE', 'dist/client/index.js', 'dist/client/index.d.ts', 'dist/client/cli/main.js', 'dist/client/cli/macro-host.cjs', 'dist/server/host.cjs', 'dist/server/host-bundle.cjs', 'sdk/c/macro_host.h', 'sdk/rust/Cargo.toml', 'sdk/rust/src/lib.rs', 'docs/protocol.md']) {
			expect(files).toContain(path);
		}
		const unwanted = files.filter((f) => /^(test|bench|dist\/test|dist\/bench|client|server|protocol|tokens|scripts|\.ci)\//.test(f) || f.endsWith('.map') || (f.endsWith('.ts') && !f.endsWith('.d.ts')));
		expect(unwanted).toEqual([]);
	});

	it('type-checks a driver written against it with strict settings (skipLibCheck off), and the driver runs', async () => {
		await inProject(join(project, 'node_modules', '.bin', 'tsc'), ['-p', '.']);
		const run = await inProject(process.execPath, [join(project, 'out', 'driver.js'), LIBC_BASIC]);
		expect(run.stdout).toBe('fn f() { (a, b) }\n');
	});

	it('runs `npx macro-host --help` and one expansion from the consumer project', async () => {
		const help = await inProject('npx', ['macro-host', '--help']);
		expect(help.stdout).toMatch(/^macro-host: run procedural macros out of process/);
		const expand = await inProject('npx', ['macro-host', 'expand', LIBC_BASIC, '--inline', 'wrap', '--args', 'a, b']);
		expect(expand.stdout).toBe('(a, b )\n');
	});
});
