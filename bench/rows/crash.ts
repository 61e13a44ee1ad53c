/**
 * Row 5, crash recovery: from a macro that segfaults the host to the next successful expansion,
 * through MacroHost (which restarts the host, reloads the library and re-sends the call that was
 * queued behind the crash). rust-analyzer's server has no equivalent: a crash ends it.
 */
import { MacroHost } from '../../client/index.js';
import type { BenchContext } from '../context.js';
import type { Row } from '../report.js';
import { summarize } from '../stats.js';
import { makeWorkload } from '../workload.js';

/** The target for crash → next expansion. */
const TARGET_MS = 50;

export async function crashRows(ctx: BenchContext): Promise<Row[]> {
	const runs = ctx.sizes.crashRuns;
	ctx.progress(`crash recovery: ${runs} crashes`);
	const args = makeWorkload(20).stream;
	const host = await MacroHost.start({
		encoding: 'json',
		// Every crash here is deliberate: never quarantine the macro, never back off, never give up.
		quarantineAfter: 1_000_000,
		restart: { maxRestarts: 1_000_000, backoffInitialMs: 0, healthyAfterMs: 0 },
	});
	const recovery: number[] = [];
	const detection: number[] = [];
	try {
		await host.loadLibrary(ctx.fixtures.library);
		for (let i = 0; i < runs; i++) {
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
	const summary = summarize(recovery);
	return [
		{
			id: 'crash/recovery',
			title: 'crash → next successful expansion',
			unit: 'ms',
			json: summary,
			floor: summarize(detection),
			floorLabel: 'crash reported',
			theirsNote: 'does not restart: a crash ends the server',
			target: { text: `≤ ${TARGET_MS} ms (needs a warm standby host in the client)`, met: summary.median <= TARGET_MS },
			note: 'segfault in the macro; MacroHost restarts the host, reloads the library and re-sends the queued call',
		},
	];
}
