/**
 * Whole files from the expansion cache, through real hosts: a file read whole gives the same text, diagnostics and
 * aux data as its calls did (aux data names the library of the session that reads it, which may be another
 * process's); the recursion limit is part of the key; a corrupted file entry is a warning, and the file's calls are
 * then looked up one by one. `expand <project-dir> --file` answers from the cache too.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandSource } from '../../dist/expansion/expansion-engine.js';
import { MacroRegistry } from '../../dist/expansion/macro-registry.js';
import { ExpansionCache, ExpansionSession } from '../../dist/client/expansion-cache/index.js';
import { loadProject } from '../../dist/client/packages/load-project.js';
import { runCli } from '../cli/run-cli.js';
import { CACHE_DIR, CACHE_MACROS, diagnosticLines, expand, output, removeTempDirs, tempDir, writeCacheProject } from './support.js';

afterAll(removeTempDirs);

const SOURCE = '#[tagged]\nfn one() -> felt252 {\n    double!(loud)\n}\n';

/** One build's session over `project` with the cache in `cacheDir`; the caller passes each file through it. */
async function session(project: string, cacheDir: string, warnings: string[] = []) {
	const cache = ExpansionCache.open({ dir: cacheDir }, { buildCacheDir: CACHE_DIR, onWarning: (m) => warnings.push(m) })!;
	const pool = new ExpansionSession({ size: 1, cache });
	const loaded = await loadProject(pool, project, { cacheDir: CACHE_DIR });
	const registry = new MacroRegistry(loaded.packages);
	const files = pool.fileExpansions(loaded.packages, { recursionLimit: 64 })!;
	const expandText = (text: string) => files.expand(text, pool.caller(), (caller) => expandSource(text, { registry, caller, recursionLimit: 64 }));
	return { pool, cache, loaded, expandText };
}

describe('whole-file entries', () => {
	it('give the text, diagnostics and aux data the calls gave; aux data names the reading session’s library', async () => {
		const project = writeCacheProject({ cache_macros: CACHE_MACROS }, { 'src/lib.cairo': SOURCE });
		const cacheDir = tempDir('expansions');
		const first = await session(project, cacheDir);
		let computed;
		try {
			computed = await first.expandText(SOURCE);
			expect(first.cache.stats).toEqual({ hits: 0, remoteHits: 0, misses: 2, stored: 2, fileHits: 0 });
			expect(computed.aux).toEqual([{ library: first.loaded.packages[0]!.library, value: { tokens: expect.any(Number) } }]);
		} finally {
			await first.pool.close();
		}

		const second = await session(project, cacheDir);
		try {
			const read = await second.expandText(SOURCE);
			expect(second.cache.stats).toEqual({ hits: 2, remoteHits: 0, misses: 0, stored: 0, fileHits: 1 });
			expect(second.pool.hostsStarted).toBe(0);
			expect(read.text).toBe(computed.text);
			expect(read.expansions).toBe(2);
			expect(read.diagnostics).toEqual(computed.diagnostics);
			expect(read.diagnostics.map((d) => d.message)).toEqual(['double: loud argument']);
			expect(read.aux).toEqual([{ library: second.loaded.packages[0]!.library, value: computed.aux[0]!.value }]);
		} finally {
			await second.pool.close();
		}
	});

	it('are kept apart by the recursion limit', async () => {
		const project = writeCacheProject({ cache_macros: CACHE_MACROS }, { 'src/lib.cairo': SOURCE });
		const cacheDir = tempDir('expansions');
		await expand(project, cacheDir);
		const other = await expand(project, cacheDir, { recursionLimit: 5 });
		// Another limit: the file is not read whole, but its calls still hit one by one.
		expect(other.cache).toEqual({ hits: 2, remoteHits: 0, misses: 0, stored: 0, fileHits: 0 });
		const same = await expand(project, cacheDir, { recursionLimit: 5 });
		expect(same.cache).toEqual({ hits: 2, remoteHits: 0, misses: 0, stored: 0, fileHits: 1 });
	});

	it('a corrupted one is a warning and removed; the file’s calls are then looked up one by one', async () => {
		const project = writeCacheProject({ cache_macros: CACHE_MACROS }, { 'src/lib.cairo': SOURCE });
		const cacheDir = tempDir('expansions');
		const first = await expand(project, cacheDir);
		const entries = readdirSync(join(cacheDir, 'entries')).flatMap((shard) => readdirSync(join(cacheDir, 'entries', shard)).map((k) => join(cacheDir, 'entries', shard, k)));
		const fileEntry = entries.find((path) => readFileSync(path, 'utf8').includes('"kind":"file"'))!;
		writeFileSync(fileEntry, '{"v":1,"kind":"file","text":');

		const run = await expand(project, cacheDir);
		expect(run.cache).toEqual({ hits: 2, remoteHits: 0, misses: 0, stored: 0, fileHits: 0 });
		expect(output(run, 'src/lib.cairo')).toBe(output(first, 'src/lib.cairo'));
		expect(diagnosticLines(run)).toEqual([
			...diagnosticLines(first),
			expect.stringMatching(/^expansion-cache warning {2}the expansion cache file entry \S+ is corrupted \(the entry is not JSON \(.+\)\); it is removed and computed again$/),
		]);
		// Computed again, and stored whole again: the next build reads it in one piece.
		const next = await expand(project, cacheDir);
		expect(next.cache).toEqual({ hits: 2, remoteHits: 0, misses: 0, stored: 0, fileHits: 1 });
	});
});

describe('expand <project-dir> --file', () => {
	it('answers from the expansion cache, as expand-project does; --no-expansion-cache reaches a host', { timeout: 120_000 }, async () => {
		// Arguments of this run only, so that earlier runs' entries in the shared cache directory are never hit.
		const nonce = `n${process.pid}x${Date.now()}`;
		const project = writeCacheProject({ cache_macros: CACHE_MACROS }, { 'src/lib.cairo': `fn f() -> felt252 {\n    host_pid!(${nonce})\n}\n` });
		const run = (...flags: string[]) => runCli(['expand', project, '--file', 'src/lib.cairo', '--line', '2', '--cache-dir', CACHE_DIR, '--message-format', 'json', ...flags]);
		const outputOf = (stdout: string): string => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((r) => r.type === 'call').output;
		const first = await run();
		expect(first.exitCode, first.stderr).toBe(0);
		const pid = outputOf(first.stdout);
		expect(pid).toMatch(/^\d+$/);
		// Another process, another host: only the cache can give the same pid.
		expect(outputOf((await run()).stdout)).toBe(pid);
		expect(outputOf((await run('--no-expansion-cache')).stdout)).not.toBe(pid);
	});
});
