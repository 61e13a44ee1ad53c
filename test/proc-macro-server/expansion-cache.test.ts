/**
 * The expansion cache behind `macro-host proc-macro-server`, run for real: a call a server expanded is answered from
 * the cache by the next server on the same cache directory (a restarted editor), so its result is the first server's
 * even for a macro whose every host answers differently (`host_pid!`); a crash is never kept; `--no-expansion-cache`
 * reaches a host every time; the server logs what the cache did when it ends.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../cli/run-cli.js';
import { PmsClient, SHARED_CACHE, v2Stream } from './pms-client.js';

const CACHE_MACROS = join(ROOT, 'test', 'expansion-cache', 'fixtures', 'cache-macros');

let dir: string;
const started: PmsClient[] = [];
const workspace = () => ({ manifest_path: join(dir, 'app', 'Scarb.toml') });
const context = () => ({
	workspace: workspace(),
	component: { name: 'app', discriminator: `app 0.1.0 (path+${pathToFileURL(join(dir, 'app', 'Scarb.toml')).href})` },
});
// Arguments of this run only, so that entries of earlier runs in the shared cache directory are never hit.
const nonce = `n${process.pid}x${Date.now()}`;

beforeAll(() => {
	dir = mkdtempSync(join(tmpdir(), 'macro-host-pms-cache-'));
	mkdirSync(join(dir, 'app', 'src'), { recursive: true });
	const dependency = `cache_macros = { path = ${JSON.stringify(relative(join(dir, 'app'), CACHE_MACROS))} }`;
	writeFileSync(join(dir, 'app', 'Scarb.toml'), `[package]\nname = "app"\nversion = "0.1.0"\n\n[dependencies]\n${dependency}\n`);
	writeFileSync(join(dir, 'app', 'src', 'lib.cairo'), 'fn f() {}\n');
});

afterAll(() => {
	for (const server of started) server.kill();
	rmSync(dir, { recursive: true, force: true });
});

/** A server on the shared build cache (and so its expansions/), with the workspace loaded. */
async function startServer(...flags: string[]): Promise<PmsClient> {
	const server = new PmsClient(['--quiet', 'proc-macro-server', '--jobs', '1', '--cache-dir', SHARED_CACHE, ...flags]);
	started.push(server);
	const defined = await server.request('definedMacros', { workspace: workspace() });
	expect(defined.error, server.stderr).toBeUndefined();
	return server;
}

async function inline(server: PmsClient, name: string): Promise<any> {
	const response = await server.request('expandInline', { context: context(), name, args: v2Stream(`(${nonce})`, 10), call_site: { start: 0, end: 40 } });
	expect(response.error).toBeUndefined();
	return response.result;
}

describe('the proc-macro server with the expansion cache', () => {
	it('answers a call the last server expanded from the cache, and never keeps a crash', { timeout: 120_000 }, async () => {
		const first = await startServer();
		const pid = (await inline(first, 'host_pid')).token_stream.value;
		expect(pid).toMatch(/^\d+$/);
		expect((await inline(first, 'crash')).diagnostics[0].message).toMatch(/crashed the macro host/);
		expect(await first.close()).toEqual({ code: 0, signal: null });
		expect(first.stderr).toContain('expansion cache: 0 hits, 0 remote hits, 2 misses, 1 stored');

		// Another server, other hosts: only the cache can give the first server's pid.
		const second = await startServer();
		expect((await inline(second, 'host_pid')).token_stream.value).toBe(pid);
		expect((await inline(second, 'crash')).diagnostics[0].message).toMatch(/crashed the macro host/);
		expect(await second.close()).toEqual({ code: 0, signal: null });
		expect(second.stderr).toContain('expansion cache: 1 hits, 0 remote hits, 1 misses, 0 stored');
	});

	it('--no-expansion-cache sends every call to a host and logs nothing of a cache', { timeout: 120_000 }, async () => {
		const cached = await startServer();
		const pid = (await inline(cached, 'host_pid')).token_stream.value;
		await cached.close();
		const uncached = await startServer('--no-expansion-cache');
		const own = (await inline(uncached, 'host_pid')).token_stream.value;
		expect(own).toMatch(/^\d+$/);
		expect(own).not.toBe(pid);
		await uncached.close();
		expect(uncached.stderr).not.toContain('expansion cache:');
	});

	it('refuses a bad --remote-cache-upload value, naming it (exit 2)', async () => {
		const server = new PmsClient(['proc-macro-server', '--remote-cache-upload', 'maybe']);
		started.push(server);
		expect(await server.exited).toEqual({ code: 2, signal: null });
		expect(server.stderr).toContain("--remote-cache-upload must be true or false, not 'maybe'");
	});
});
