/**
 * Row 3, pipelined throughput: N small expansions (a 20-token noop) all sent at once through one
 * MacroHost, against the same N identity! calls written back to back to rust-analyzer's server
 * (which also reads requests in order, so it pipelines through its stdin just the same). MacroHost
 * sends calls made in the same tick as expandBatch requests (its default); the second row is the
 * same with `batch: false`, one request per call, as before batches.
 */
import { MacroHost } from '../../client/index.js';
import { raSkipNote, raTarget, type BenchContext } from '../context.js';
import { expandMacroRequest, parseExpandReply, RaServer } from '../ra-server.js';
import type { Row } from '../report.js';
import { summarize } from '../stats.js';
import { makeWorkload } from '../workload.js';

/** The target, expansions per second through one host, with batches. */
const TARGET_PER_SECOND = 50_000;
const SMALL_TOKENS = 20;

export async function throughputRows(ctx: BenchContext): Promise<Row[]> {
	const n = ctx.sizes.pipelined;
	const work = makeWorkload(SMALL_TOKENS);
	const ra = raTarget(ctx);
	const repeats = ctx.sizes.throughputRepeats;
	ctx.progress(`pipelined: ${n.toLocaleString('en-US')} expansions of ${SMALL_TOKENS} tokens, ${repeats} repeats`);
	const rates = { json: [] as number[], msgpack: [] as number[], jsonAlone: [] as number[], msgpackAlone: [] as number[], ra: [] as number[] };
	const json = await MacroHost.start({ encoding: 'json' });
	const msgpack = await MacroHost.start({ encoding: 'msgpack' });
	const jsonAlone = await MacroHost.start({ encoding: 'json', batch: false, warmStandby: false });
	const msgpackAlone = await MacroHost.start({ encoding: 'msgpack', batch: false, warmStandby: false });
	const raServer = ra ? RaServer.spawn(ra.path) : undefined;
	try {
		for (const host of [json, msgpack, jsonAlone, msgpackAlone]) await host.loadLibrary(ctx.fixtures.library);
		if (raServer && ra) await raServer.listMacros(ra.dylib);
		// One untimed round warms every JIT and buffer.
		for (let r = -1; r < repeats; r++) {
			const j = await pipelined(n, () => json.expandInline({ name: 'noop', args: work.stream }));
			const m = await pipelined(n, () => msgpack.expandInline({ name: 'noop', args: work.typed }));
			const ja = await pipelined(n, () => jsonAlone.expandInline({ name: 'noop', args: work.stream }));
			const ma = await pipelined(n, () => msgpackAlone.expandInline({ name: 'noop', args: work.typed }));
			const t = raServer && ra ? await pipelined(n, async () => parseExpandReply(await raServer.request(expandMacroRequest(ra.dylib, 'identity', work.flatTree)))) : undefined;
			if (r < 0) continue;
			rates.json.push(j);
			rates.msgpack.push(m);
			rates.jsonAlone.push(ja);
			rates.msgpackAlone.push(ma);
			if (t !== undefined) rates.ra.push(t);
		}
	} finally {
		await Promise.all([json.close(), msgpack.close(), jsonAlone.close(), msgpackAlone.close(), raServer?.close()]);
	}
	const best = Math.max(summarize(rates.json).median, summarize(rates.msgpack).median);
	const theirs = rates.ra.length ? summarize(rates.ra) : undefined;
	return [
		{
			id: 'pipelined/one-host',
			title: `pipelined ${SMALL_TOKENS}-token expansions, one host (batches)`,
			unit: '/s',
			json: summarize(rates.json),
			msgpack: summarize(rates.msgpack),
			theirs,
			theirsNote: ra ? undefined : raSkipNote(ctx),
			target: { text: `≥ ${TARGET_PER_SECOND.toLocaleString('en-US')}/s`, met: best >= TARGET_PER_SECOND },
			note: `${n.toLocaleString('en-US')} calls in flight at once, sent as expandBatch requests; ratios for /s rows are RA/ours, so below 1 is better here too`,
		},
		{
			id: 'pipelined/one-host-alone',
			title: `pipelined ${SMALL_TOKENS}-token expansions, one host, one request per call (batch: false)`,
			unit: '/s',
			json: summarize(rates.jsonAlone),
			msgpack: summarize(rates.msgpackAlone),
			theirs,
			theirsNote: ra ? undefined : raSkipNote(ctx),
		},
	];
}

/** Sends n calls at once and returns completed calls per second. */
async function pipelined(n: number, call: () => Promise<unknown>): Promise<number> {
	const started = performance.now();
	const calls: Promise<unknown>[] = new Array(n);
	for (let i = 0; i < n; i++) calls[i] = call();
	await Promise.all(calls);
	return n / ((performance.now() - started) / 1000);
}
