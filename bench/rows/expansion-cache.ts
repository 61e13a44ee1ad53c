/**
 * Expansion cache rows: `expand-project` end to end, as a user runs it, on a generated project of
 * 200 files with 50 `add!` calls each (10,000 calls; examples/add-macro, built before timing):
 * the first build (empty expansion cache), a second build with nothing changed, a build after one
 * file changed, and a build with a fresh cache directory filled from a remote cache (a real nginx on
 * a loopback port, filled by the first build's uploads).
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandProject, type ProjectExpansion } from '../../client/driver/expand-project.js';
import { buildProject } from '../../client/packages/build-project.js';
import type { BenchContext } from '../context.js';
import { startNginx, type Nginx } from '../nginx.js';
import type { Row } from '../report.js';
import { summarize } from '../stats.js';

const ADD_MACRO = fileURLToPath(new URL('../../../examples/add-macro/', import.meta.url));

/** The targets. */
const UNCHANGED_SPEEDUP = 10;
const REMOTE_WITHIN = 2;

export async function expansionCacheRows(ctx: BenchContext): Promise<Row[]> {
	const work = mkdtempSync(join(tmpdir(), 'macro-host-bench-cache-'));
	let nginx: Nginx | undefined;
	try {
		const { files, cacheFiles, calls } = writeProject(work, ctx);
		const buildCache = join(work, 'build-cache');
		await buildProject(work, { cacheDir: buildCache });
		try {
			nginx = await startNginx(join(work, 'nginx'));
		} catch (error) {
			ctx.progress(`expansion-cache: remote row skipped: ${(error as Error).message}`);
		}
		const run = async (dir: string, remote?: string): Promise<number> => {
			const started = performance.now();
			const result: ProjectExpansion = await expandProject(work, {
				outDir: join(work, 'out'),
				build: { cacheDir: buildCache },
				expansionCache: { dir, ...(remote === undefined ? {} : { remote }) },
			});
			if (result.summary.errors > 0 || result.summary.expansions !== calls) throw new Error(`the generated project did not expand cleanly: ${JSON.stringify(result.summary)}`);
			// A remote that turned itself off would make the remote row measure local work.
			const warning = result.diagnostics.find((d) => d.code === 'expansion-cache');
			if (warning !== undefined) throw new Error(`the expansion cache warned: ${warning.message}`);
			return performance.now() - started;
		};

		const first: number[] = [];
		const unchanged: number[] = [];
		const oneFile: number[] = [];
		const remote: number[] = [];
		for (let r = 0; r < ctx.sizes.cacheRepeats; r++) {
			ctx.progress(`expansion-cache: ${calls.toLocaleString('en-US')} calls in ${cacheFiles} files, round ${r + 1}`);
			const dir = join(work, `expansions-${r}`);
			const remoteUrl = nginx === undefined ? undefined : `${nginx.url}/round-${r}`;
			first.push(await run(dir, remoteUrl));
			unchanged.push(await run(dir));
			// A new value in one call of one file: that file's calls are looked up again, one misses.
			writeFileSync(files[r % files.length]!.path, files[r % files.length]!.text.replace('add!(x, 0)', `add!(x, ${1000 + r})`));
			oneFile.push(await run(dir));
			writeFileSync(files[r % files.length]!.path, files[r % files.length]!.text);
			if (remoteUrl !== undefined) remote.push(await run(join(work, `fresh-${r}`), remoteUrl));
		}
		const speedup = summarize(first).median / summarize(unchanged).median;
		const rows: Row[] = [
			{ id: 'expansion-cache/first', title: `expansion cache: first build, ${calls} calls in ${cacheFiles} files`, unit: 'ms', json: summarize(first), theirsNote: 'no cache' },
			{
				id: 'expansion-cache/unchanged',
				title: 'expansion cache: second build, nothing changed',
				unit: 'ms',
				json: summarize(unchanged),
				floor: summarize(first),
				floorLabel: 'first build',
				target: { text: `≥ ${UNCHANGED_SPEEDUP}× faster than the first (now ${speedup.toFixed(1)}×)`, met: speedup >= UNCHANGED_SPEEDUP },
				note: 'every call hits; no host is started',
			},
			{
				id: 'expansion-cache/one-file',
				title: 'expansion cache: one file changed',
				unit: 'ms',
				json: summarize(oneFile),
				floor: summarize(unchanged),
				floorLabel: 'nothing changed',
				note: `one call misses, so the pool starts; the rest is the unchanged build's cost plus ${(summarize(first).median / cacheFiles).toFixed(0)} ms of one file's share of the first build`,
			},
		];
		if (remote.length > 0) {
			const ratio = summarize(remote).median / summarize(unchanged).median;
			rows.push({
				id: 'expansion-cache/remote',
				title: 'expansion cache: fresh cache directory filled from the remote',
				unit: 'ms',
				json: summarize(remote),
				floor: summarize(unchanged),
				floorLabel: 'local warm build',
				target: { text: `within ${REMOTE_WITHIN}× of the local warm build (now ${ratio.toFixed(1)}×)`, met: ratio <= REMOTE_WITHIN },
				note: 'nginx (WebDAV PUT) on loopback; the library record comes from the remote too, so no host starts',
			});
		}
		return rows;
	} finally {
		await nginx?.stop();
		rmSync(work, { recursive: true, force: true });
	}
}

/** Writes the project: `cacheFiles` files of `cacheCallsPerFile` distinct `add!` calls each. */
export function writeProject(dir: string, ctx: BenchContext): { files: { path: string; text: string }[]; cacheFiles: number; calls: number } {
	const { cacheFiles, cacheCallsPerFile } = ctx.sizes;
	writeFileSync(join(dir, 'Scarb.toml'), `[package]\nname = "bench_app"\nversion = "0.1.0"\n\n[dependencies]\nadd_macro = { path = "${relative(dir, ADD_MACRO)}" }\n`);
	mkdirSync(join(dir, 'src'), { recursive: true });
	const files: { path: string; text: string }[] = [];
	for (let f = 0; f < cacheFiles; f++) {
		const lines = [`fn f${f}(x: felt252) -> felt252 {`, '    let mut s = 0;'];
		for (let c = 0; c < cacheCallsPerFile; c++) lines.push(`    s = s + add!(x, ${c === 0 ? 0 : f * cacheCallsPerFile + c});`);
		lines.push('    s', '}', '');
		const path = join(dir, 'src', `file${f}.cairo`);
		const text = lines.join('\n');
		writeFileSync(path, text);
		files.push({ path, text });
	}
	return { files, cacheFiles, calls: cacheFiles * cacheCallsPerFile };
}
