/**
 * The cold `expand-project` row: the CLI as a user runs it, a fresh process each time, on the 10,000-call
 * project of the expansion-cache rows with the expansion cache off, so every call goes to a host.
 * Issue 18's target: at least 10,000 calls/s end to end. Its floor is bench/expand-project-floor.ts (a bare
 * Node driver and as many bare Node echo hosts, same project, same files written). A second row runs the
 * command on a project of one call: what a run costs before its first expansion (node, the CLI's modules,
 * the build check, the hosts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from '../context.js';
import type { Row } from '../report.js';
import { summarize } from '../stats.js';
import { writeProject } from './expansion-cache.js';

const CLI = fileURLToPath(new URL('../../client/cli/macro-host.cjs', import.meta.url));
const FLOOR = fileURLToPath(new URL('../expand-project-floor.js', import.meta.url));
const TARGET_CALLS_PER_SECOND = 10_000;
/** Two hosts, as `--jobs` defaults to on the 2-core machines the targets are set for; the floor gets as many. */
const JOBS = 2;

export async function expandProjectRows(ctx: BenchContext): Promise<Row[]> {
	const work = mkdtempSync(join(tmpdir(), 'macro-host-bench-expand-'));
	try {
		const big = join(work, 'big');
		mkdirSync(big);
		const { calls } = writeProject(big, ctx);
		const small = join(work, 'small');
		mkdirSync(small);
		writeProject(small, { ...ctx, sizes: { ...ctx.sizes, cacheFiles: 1, cacheCallsPerFile: 1 } });
		const cacheDir = join(work, 'build-cache');
		const timed = (args: string[]): number => {
			const started = performance.now();
			execFileSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
			return performance.now() - started;
		};
		const run = (dir: string): number => timed([CLI, 'expand-project', dir, '--out', join(work, 'out'), '--no-expansion-cache', '--cache-dir', cacheDir, '--jobs', String(JOBS), '-q']);
		const floor = (dir: string): number => timed([FLOOR, dir, join(work, 'floor-out'), String(JOBS)]);
		// The first runs build the macro package into the cache; neither is timed.
		run(small);
		run(big);
		const bigMs: number[] = [];
		const floorMs: number[] = [];
		const smallMs: number[] = [];
		const repeats = Math.max(3, ctx.sizes.cacheRepeats * 2);
		for (let r = 0; r < repeats; r++) {
			ctx.progress(`expand-project: ${calls.toLocaleString('en-US')} calls, cold, run ${r + 1} of ${repeats}`);
			bigMs.push(run(big));
			floorMs.push(floor(big));
			smallMs.push(run(small));
		}
		const big50 = summarize(bigMs);
		const rate = calls / (big50.median / 1000);
		return [
			{
				id: 'expand-project/cold',
				title: `expand-project, ${calls.toLocaleString('en-US')} calls, no expansion cache (a new process each run)`,
				unit: 'ms',
				json: big50,
				floor: summarize(floorMs),
				floorLabel: `bare Node driver and ${JOBS} bare Node echo hosts (bench/expand-project-floor.ts)`,
				theirsNote: 'no equivalent',
				target: { text: `≥ ${TARGET_CALLS_PER_SECOND.toLocaleString('en-US')} calls/s (now ${Math.round(rate).toLocaleString('en-US')}/s)`, met: rate >= TARGET_CALLS_PER_SECOND },
			},
			{
				id: 'expand-project/one-call',
				title: 'expand-project, a 1-call project: what a run costs before its first expansion',
				unit: 'ms',
				json: summarize(smallMs),
				theirsNote: 'no equivalent',
			},
		];
	} finally {
		rmSync(work, { recursive: true, force: true });
	}
}
