/**
 * Row 4, pool scaling: the same N expansions through the driver's HostPool of one host, then of two;
 * each call takes a lease (the least-loaded host) for its own duration, as a build does per file.
 * Two workloads: the small noop of the throughput row (where the client's own encoding competes for
 * the same two cores) and a macro that burns 1 ms of CPU per call (where the hosts' work dominates,
 * as with real macros).
 */
import { availableParallelism } from 'node:os';
import { HostPool } from '../../client/index.js';
import { ExpandInlineRequest } from '../../protocol/methods.js';
import type { BenchContext } from '../context.js';
import { EchoPoolFloor } from '../pool-floor.js';
import type { Row } from '../report.js';
import { summarize } from '../stats.js';
import { makeWorkload } from '../workload.js';

/** The issue's target: two hosts against one, on a 2-core machine. */
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
			const floor = c.macro === 'noop' ? await floorRow(ctx, c.calls, small.stream) : undefined;
			if (floor !== undefined) rows.push(floor.row);
			rows.push({
				id: `pool/${c.macro}`,
				title: `pool: 2 hosts vs 1, ${c.title}`,
				unit: '/s',
				json: summarize(two),
				floor: summarize(one),
				floorLabel: '1 host',
				theirsNote: 'no pool in the server',
				target: { text: `≥ ${TARGET_SCALING}× (now ${scaling.toFixed(2)}×${floor === undefined ? '' : `; bare Node floor ${floor.scaling.toFixed(2)}×`})`, met: scaling >= TARGET_SCALING },
				note: c.macro === 'noop' ? 'HostPool of 1 and of 2 hosts (msgpack), a lease per call; the column "macro-host json" holds the 2-host rate' : undefined,
			});
		}
	} finally {
		await Promise.all(pools.map((p) => p.close()));
	}
	return rows;
}

/**
 * The pool's noop row for the least work there is: one bare Node echo host against two, driven by a
 * client that only encodes requests and parses replies (bench/pool-floor.ts), in the same rounds.
 */
async function floorRow(ctx: BenchContext, calls: number, args: { text: string; records: number[] }): Promise<{ row: Row; scaling: number }> {
	ctx.progress(`pool: ${calls.toLocaleString('en-US')} × noop lines over 1 bare Node echo host, then 2`);
	const floors = [EchoPoolFloor.start(1), EchoPoolFloor.start(2)];
	const one: number[] = [];
	const two: number[] = [];
	const params = { name: 'noop', args };
	try {
		for (let r = -1; r < ctx.sizes.throughputRepeats; r++) {
			const a = await floors[0]!.run(calls, ExpandInlineRequest.method, params);
			const b = await floors[1]!.run(calls, ExpandInlineRequest.method, params);
			if (r < 0) continue;
			one.push(a);
			two.push(b);
		}
	} finally {
		await Promise.all(floors.map((f) => f.close()));
	}
	const scaling = summarize(two).median / summarize(one).median;
	const row: Row = {
		id: 'pool/floor/noop',
		title: 'pool floor: 2 bare Node echo hosts vs 1, noop request lines, 20 tokens',
		unit: '/s',
		json: summarize(two),
		floor: summarize(one),
		floorLabel: '1 bare Node echo host',
		theirsNote: `${scaling.toFixed(2)}×: what two hosts can add when the client and the hosts share ${availableParallelism()} CPUs`,
		note: 'bench/pool-floor.ts: a client that encodes each request and parses each reply, and bare Node echo hosts; the column "macro-host json" holds the 2-host rate',
	};
	return { row, scaling };
}

/** Sends `calls` expansions through `pool`, all at once, each with a lease of its own; returns calls per second. */
async function spread(pool: HostPool, calls: number, macro: string, args: { text: string; records: Uint32Array }): Promise<number> {
	const started = performance.now();
	const pending: Promise<unknown>[] = new Array(calls);
	for (let i = 0; i < calls; i++) pending[i] = pool.withLease((lease) => lease.expandInline({ name: macro, args }));
	await Promise.all(pending);
	return calls / ((performance.now() - started) / 1000);
}
