/**
 * Warm-cache cost of a project load: resolution of examples/hello-macros plus the cache check of its three macro
 * packages (manifests, source hashes, the cached `rustc -vV`), with nothing to build. The budget is 100 ms.
 *
 * Run: `npx tsc -p tsconfig.json && node dist/bench/package-cache.js [--cache-dir DIR] [--runs N]`.
 * The first run fills the cache (cargo builds, not timed). Then it measures the first call in a fresh process (cold:
 * what `macro-host build` pays, minus Node's start) and N calls in this process (warm JIT).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildProject } from '../client/packages/build-project.js';

/** The budget from the issue, in ms. */
const BUDGET_MS = 100;
const PROJECT = fileURLToPath(new URL('../../examples/hello-macros/', import.meta.url));

const { values } = parseArgs({ options: { 'cache-dir': { type: 'string' }, runs: { type: 'string' }, once: { type: 'boolean' } } });
const cacheDir = values['cache-dir'] ?? mkdtempSync(join(tmpdir(), 'macro-host-bench-'));

/** One timed resolution + cache check; throws if anything would have been built. */
async function measureOnce(): Promise<number> {
	const started = performance.now();
	// A cargo that does not exist: if the check missed the cache, the run would fail rather than quietly build.
	const result = await buildProject(PROJECT, { cacheDir, cargo: join(cacheDir, 'no-such-cargo') });
	const elapsed = performance.now() - started;
	if (result.cargoRuns !== 0 || result.rustcSpawned) throw new Error('the cache was not warm: cargo or rustc ran');
	return elapsed;
}

if (values.once) {
	// Child mode: one cold call, printed for the parent.
	process.stdout.write(String(await measureOnce()));
} else {
	const fill = await buildProject(PROJECT, { cacheDir });
	// Once more so the cached rustc answer is in place even if the fill built nothing.
	await buildProject(PROJECT, { cacheDir });
	const colds: number[] = [];
	for (let i = 0; i < 5; i++) {
		colds.push(Number(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--once', '--cache-dir', cacheDir], { encoding: 'utf8' })));
	}
	const runs = Number(values.runs ?? 50);
	const warms: number[] = [];
	for (let i = 0; i < runs; i++) warms.push(await measureOnce());
	const fmt = (ms: number[]): string => {
		const sorted = [...ms].sort((a, b) => a - b);
		return `median ${sorted[sorted.length >> 1]!.toFixed(1)} ms, min ${sorted[0]!.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`;
	};
	const coldMedian = [...colds].sort((a, b) => a - b)[colds.length >> 1]!;
	console.log(`project: ${PROJECT} (${fill.packages.length} macro packages), cache: ${cacheDir}`);
	console.log(`resolution + cache check, first call in a fresh process (${colds.length}x): ${fmt(colds)}`);
	console.log(`resolution + cache check, in a warm process (${runs}x): ${fmt(warms)}`);
	console.log(`budget ${BUDGET_MS} ms: ${coldMedian < BUDGET_MS ? 'met' : 'MISSED'}`);
	if (coldMedian >= BUDGET_MS) process.exitCode = 1;
}
