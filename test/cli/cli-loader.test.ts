/**
 * The `macro-host` command's start-up loader, dist/client/cli/macro-host.cjs (client/cli/cli-loader.cts):
 * it runs the bundled command from a V8 code cache, writes one as it exits when it found none it could
 * use, and every problem with that cache (missing, stale, corrupt, turned off) leaves a command that works
 * as before. Real runs of the command; the loader's decisions are read from its startup log.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from './run-cli.js';

const require = createRequire(import.meta.url);
const CLI_DIR = fileURLToPath(new URL('../../dist/client/cli/', import.meta.url));
const loader = require(join(CLI_DIR, 'cli-loader.cjs')) as typeof import('../../dist/client/cli/cli-loader.cjs');
const codeCache = require(join(CLI_DIR, '..', '..', 'protocol', 'node', 'code-cache-loader.cjs')) as typeof import('../../dist/protocol/node/code-cache-loader.cjs');
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const workDir = mkdtempSync(join(tmpdir(), 'macro-host-cli-loader-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** `macro-host --version` with the startup log on and the cache where `cacheFile` says (undefined: the default). */
async function version(cacheFile: string | undefined): Promise<{ log: string[] }> {
	const env: NodeJS.ProcessEnv = { ...process.env, [loader.STARTUP_LOG_ENV]: '1' };
	if (cacheFile === undefined) delete env[loader.CACHE_ENV];
	else env[loader.CACHE_ENV] = cacheFile;
	const run = await runCli(['--version'], { env });
	expect(run.exitCode, run.stderr).toBe(0);
	expect(run.stdout).toBe(`macro-host ${VERSION}\n`);
	return { log: run.stderr.split('\n').filter((line) => line.startsWith('macro-host: code cache')) };
}

/** The header a cache of this bundle, on this Node, starts with. */
function header(): string {
	const firstLine = readFileSync(loader.BUNDLE_FILE, 'utf8').split('\n')[0]!;
	expect(firstLine.startsWith(codeCache.BUNDLE_ID_PREFIX)).toBe(true);
	return codeCache.cacheHeader(firstLine.slice(codeCache.BUNDLE_ID_PREFIX.length));
}

describe('the macro-host command from a code cache', () => {
	it('the build leaves one beside the bundle, for this bundle and this Node, and the command uses it', async () => {
		expect(readFileSync(loader.DEFAULT_CACHE_FILE).toString('latin1', 0, header().length)).toBe(header());
		expect((await version(undefined)).log).toEqual([`macro-host: code cache: accepted ${loader.DEFAULT_CACHE_FILE}`]);
	});

	it('is the command package.json names, a #! script that runs as it is', () => {
		const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string> };
		expect(join(CLI_DIR, '..', '..', '..', pkg.bin['macro-host']!)).toBe(CLI);
		expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
		expect(statSync(CLI).mode & 0o111).not.toBe(0);
	});

	it('missing: the command works and writes one as it exits, which the next run accepts', async () => {
		const cacheFile = join(workDir, 'fresh.v8cache');
		expect((await version(cacheFile)).log).toEqual([`macro-host: code cache: missing ${cacheFile}`, `macro-host: code cache: written ${cacheFile}`]);
		expect(readFileSync(cacheFile).toString('latin1', 0, header().length)).toBe(header());
		expect((await version(cacheFile)).log).toEqual([`macro-host: code cache: accepted ${cacheFile}`]);
	});

	it('stale or corrupt: the command works and replaces it', async () => {
		for (const [name, bytes] of [
			['stale.v8cache', `${codeCache.CACHE_MAGIC} 0123456789abcdef0123 v0.0.0 ${process.arch}\nnot v8 data`],
			['garbage.v8cache', 'garbage'],
		] as const) {
			const cacheFile = join(workDir, name);
			writeFileSync(cacheFile, bytes);
			expect((await version(cacheFile)).log).toEqual([`macro-host: code cache: stale ${cacheFile}`, `macro-host: code cache: written ${cacheFile}`]);
			expect((await version(cacheFile)).log).toEqual([`macro-host: code cache: accepted ${cacheFile}`]);
		}
	});

	it('with V8 data that does not fit: rejected, the command works and replaces it', async () => {
		const cacheFile = join(workDir, 'rejected.v8cache');
		writeFileSync(cacheFile, Buffer.concat([Buffer.from(header(), 'latin1'), Buffer.alloc(4096, 0x5a)]));
		expect((await version(cacheFile)).log).toEqual([`macro-host: code cache: rejected ${cacheFile}`, `macro-host: code cache: written ${cacheFile}`]);
		expect((await version(cacheFile)).log).toEqual([`macro-host: code cache: accepted ${cacheFile}`]);
	});

	it('in a directory that does not exist: the command works, and the failed write is only reported', async () => {
		const cacheFile = join(workDir, 'no', 'such', 'directory', 'cache.v8cache');
		const { log } = await version(cacheFile);
		expect(log[0]).toBe(`macro-host: code cache: missing ${cacheFile}`);
		expect(log[1]).toMatch(/^macro-host: code cache: not written \(ENOENT: .+\)$/);
	});

	it('off: no cache is read or written', async () => {
		expect((await version('off')).log).toEqual(['macro-host: code cache: off']);
	});
});
