/**
 * Row 4, pool scaling: the same N expansions spread over one host, then round-robin over two. The
 * driver's pool does not exist yet, so this uses two MacroHost instances side by side (which is
 * what a pool would hold). Two workloads: the small noop of the throughput row (where the client's
 * own encoding competes for the same two cores) and a macro that burns 1 ms of CPU per call (where
 * the hosts' work dominates, as with real macros).
 */
import { MacroHost } from '../../client/index.js';
import type { BenchContext } from '../context.js';
import type { Row } from '../report.js';
import { summarize } from '../stats.js';
import { makeWorkload } from '../workload.js';

/** The target: two hosts against one, on a 2-core machine. */
const TARGET_SCALING = 1.7;

export async function poolRows(ctx: BenchContext): Promise<Row[]> {
	const hosts = [await MacroHost.start({ encoding: 'msgpack' }), await MacroHost.start({ encoding: 'msgpack' })];
	const rows: Row[] = [];
	try {
		for (const host of hosts) await host.loadLibrary(ctx.fixtures.library);
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
				const a = await spread(hosts.slice(0, 1), c.calls, c.macro, small.typed);
				const b = await spread(hosts, c.calls, c.macro, small.typed);
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
				note: c.macro === 'noop' ? 'two MacroHost instances (msgpack), round-robin; the column "macro-host json" holds the 2-host rate' : undefined,
			});
		}
	} finally {
		await Promise.all(hosts.map((h) => h.close()));
	}
	return rows;
}

/** Sends `calls` expansions round-robin over `hosts`, all at once; returns calls per second. */
async function spread(hosts: MacroHost[], calls: number, macro: string, args: { text: string; records: Uint32Array }): Promise<number> {
	const started = performance.now();
	const pending: Promise<unknown>[] = new Array(calls);
	for (let i = 0; i < calls; i++) pending[i] = hosts[i % hosts.length].expandInline({ name: macro, args });
	await Promise.all(pending);
	return calls / ((performance.now() - started) / 1000);
}
