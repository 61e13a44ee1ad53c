/**
 * Row 5, crash recovery: from a macro that segfaults the host to the next successful expansion,
 * through MacroHost, which swaps in its warm standby (already initialized, the library loaded) and
 * re-sends the call that was queued behind the crash. Each crash waits until the standby spawned
 * after the previous one is ready, as crashes are rare next to a host start; the second row is the
 * same with the standby turned off (a cold restart). Both turn the restart backoff off; the third row
 * keeps the client's default restart policy (backoff on), with crashes one second apart and successful
 * calls between them, as users meet them (only quarantine is off, so that the macro keeps crashing).
 * rust-analyzer's server has no equivalent: a crash ends it.
 */
import { MacroHost, type MacroHostOptions } from '../../client/index.js';
import type { BenchContext } from '../context.js';
import type { Row } from '../report.js';
import { summarize } from '../stats.js';
import { makeWorkload } from '../workload.js';

/** The target for crash → next expansion. */
const TARGET_MS = 50;
/** The time between crashes in the default-policy row. */
const DEFAULTS_GAP_MS = 1000;
/** Every crash here is deliberate: never quarantine the macro, never back off, never give up. */
const NO_BACKOFF: MacroHostOptions = { quarantineAfter: 1_000_000, restart: { maxRestarts: 1_000_000, backoffInitialMs: 0, healthyAfterMs: 0 } };

export async function crashRows(ctx: BenchContext): Promise<Row[]> {
	const runs = ctx.sizes.crashRuns;
	ctx.progress(`crash recovery: ${runs} crashes with a warm standby, ${runs} without, ${runs} with the default restart policy`);
	const warm = await measure(ctx, runs, { ...NO_BACKOFF, warmStandby: true });
	const cold = await measure(ctx, runs, { ...NO_BACKOFF, warmStandby: false });
	// The restart policy's defaults (maxRestarts 10 in 30 s) allow ten crashes one second apart.
	const defaults = await measure(ctx, runs, { quarantineAfter: 1_000_000 }, DEFAULTS_GAP_MS);
	const summary = summarize(warm.recovery);
	const defaultsSummary = summarize(defaults.recovery);
	return [
		{
			id: 'crash/recovery',
			title: 'crash → next successful expansion',
			unit: 'ms',
			json: summary,
			floor: summarize(warm.detection),
			floorLabel: 'crash reported',
			theirsNote: 'does not restart: a crash ends the server',
			target: { text: `≤ ${TARGET_MS} ms`, met: summary.median <= TARGET_MS },
			note: 'segfault in the macro; MacroHost swaps in its warm standby (library loaded) and re-sends the queued call',
		},
		{
			id: 'crash/recovery-cold',
			title: 'crash → next successful expansion, no standby',
			unit: 'ms',
			json: summarize(cold.recovery),
			floor: summarize(cold.detection),
			floorLabel: 'crash reported',
			theirsNote: 'does not restart: a crash ends the server',
			note: 'warmStandby: false: MacroHost spawns a new host, initializes it, reloads the library, re-sends the call',
		},
		{
			id: 'crash/recovery-defaults',
			title: 'crash → next successful expansion, default restart policy, crashes 1 s apart',
			unit: 'ms',
			json: defaultsSummary,
			floor: summarize(defaults.detection),
			floorLabel: 'crash reported',
			theirsNote: 'does not restart: a crash ends the server',
			target: { text: `≤ ${TARGET_MS} ms`, met: defaultsSummary.median <= TARGET_MS },
			note: 'backoff on (the defaults): a host that answered calls since the last crash restarts at once',
		},
	];
}

/**
 * Times `runs` crashes, each followed by a call. Crashes wait for the standby to be ready (when there is
 * one), or `gapMs` after the previous one when given.
 */
async function measure(ctx: BenchContext, runs: number, options: MacroHostOptions, gapMs?: number): Promise<{ recovery: number[]; detection: number[] }> {
	const args = makeWorkload(20).stream;
	const warmStandby = options.warmStandby ?? true;
	const host = await MacroHost.start({ encoding: 'json', ...options });
	const recovery: number[] = [];
	const detection: number[] = [];
	try {
		await host.loadLibrary(ctx.fixtures.library);
		for (let i = 0; i < runs; i++) {
			if (gapMs !== undefined && i > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
			if (warmStandby && !(await host.standbyReady())) throw new Error('the warm standby did not get ready');
			await host.expandInline({ name: 'noop', args });
			const started = performance.now();
			const crashed = host.expandInline({ name: 'bang_segv', args }).then((r) => {
				detection.push(performance.now() - started);
				return r;
			});
			const next = host.expandInline({ name: 'noop', args });
			const [crash, ok] = await Promise.all([crashed, next]);
			recovery.push(performance.now() - started);
			if (crash.outcome !== 'bail' || crash.diagnostics[0]?.code !== 'host-crash') throw new Error(`the crash was not reported: ${JSON.stringify(crash)}`);
			if (ok.outcome !== 'leave') throw new Error(`the call after the crash failed: ${JSON.stringify(ok)}`);
		}
	} finally {
		await host.close();
	}
	return { recovery, detection };
}
