/**
 * Row 4, pool scaling: the same N expansions through the driver's HostPool of one host, then of two;
 * each call takes a lease (the least-loaded host) for its own duration, as a build does per file.
 * Two workloads: the small noop of the throughput row (where the client's own encoding competes for
 * the same two cores) and a macro that burns 1 ms of CPU per call (where the hosts' work dominates,
 * as with real macros).
 */
import { HostPool } from '../../client/index.js';
import type { BenchContext } from '../context.js';
import type { Row } from '../report.js';
import { summarize } from '../stats.js';
import { makeWorkload } from '../workload.js';

/** The target: two hosts against one, on a 2-core machine. */
const TARGET_SCALING = 1.7;

export async function poolRows(ctx: BenchContext): Promise<Row[]> {
	const pools = [await HostPool.start({ size: 1, host: { encoding: 'msgpack' } }), await HostPool.start({ size: 2, host: { encoding: 'msgpack' } })];
	const rows: Row[] = [];
	try {
		for (const pool of pools) await pool.loadLibrary(ctx.fixtures.library);
		const small = makeWorkload(20);
		const cases = [
			{ macro: 'noop', calls: ctx.sizes.pipelined, title: 'noop, 20 tokens' },
			{ macro: 'spin', calls: ctx.sizes.spinCalls, title: 'spin (1 ms of CPU per call)' },
		];
		for (const c of cases) {
			ctx.progress(`pool: ${c.calls.toLocaleString('en-US')} × ${c.macro} over 1 host, then 2`);
			const one: number[] = [];
			const two: number[] = [];
			for (let r = -1; r < ctx.sizes.throughputRepeats; r++) {
				const a = await spread(pools[0], c.calls, c.macro, small.typed);
				const b = await spread(pools[1], c.calls, c.macro, small.typed);
				if (r < 0) continue;
				one.push(a);
				two.push(b);
			}
			const scaling = summarize(two).median / summarize(one).median;
			rows.push({
				id: `pool/${c.macro}`,
				title: `pool: 2 hosts vs 1, ${c.title}`,
				unit: '/s',
				json: summarize(two),
				floor: summarize(one),
				floorLabel: '1 host',
				theirsNote: 'no pool in the server',
				target: { text: `≥ ${TARGET_SCALING}× (now ${scaling.toFixed(2)}×)`, met: scaling >= TARGET_SCALING },
				note: c.macro === 'noop' ? 'HostPool of 1 and of 2 hosts (msgpack), a lease per call; the column "macro-host json" holds the 2-host rate' : undefined,
			});
		}
	} finally {
		await Promise.all(pools.map((p) => p.close()));
	}
	return rows;
}

/** Sends `calls` expansions through `pool`, all at once, each with a lease of its own; returns calls per second. */
async function spread(pool: HostPool, calls: number, macro: string, args: { text: string; records: Uint32Array }): Promise<number> {
	const started = performance.now();
	const pending: Promise<unknown>[] = new Array(calls);
	for (let i = 0; i < calls; i++) pending[i] = pool.withLease((lease) => lease.expandInline({ name: macro, args }));
	await Promise.all(pending);
	return calls / ((performance.now() - started) / 1000);
}
