/**
 * Row 3, pipelined throughput: N small expansions (a 20-token noop) all sent at once through one
 * MacroHost, against the same N identity! calls written back to back to rust-analyzer's server
 * (which also reads requests in order, so it pipelines through its stdin just the same).
 */
import { MacroHost } from '../../client/index.js';
import { raSkipNote, raTarget, type BenchContext } from '../context.js';
import { expandMacroRequest, parseExpandReply, RaServer } from '../ra-server.js';
import type { Row } from '../report.js';
import { summarize } from '../stats.js';
import { makeWorkload } from '../workload.js';

/** The target, expansions per second through one host. */
const TARGET_PER_SECOND = 10_000;
const SMALL_TOKENS = 20;

export async function throughputRows(ctx: BenchContext): Promise<Row[]> {
	const n = ctx.sizes.pipelined;
	const work = makeWorkload(SMALL_TOKENS);
	const ra = raTarget(ctx);
	const repeats = ctx.sizes.throughputRepeats;
	ctx.progress(`pipelined: ${n.toLocaleString('en-US')} expansions of ${SMALL_TOKENS} tokens, ${repeats} repeats`);
	const rates = { json: [] as number[], msgpack: [] as number[], ra: [] as number[] };
	const json = await MacroHost.start({ encoding: 'json' });
	const msgpack = await MacroHost.start({ encoding: 'msgpack' });
	const raServer = ra ? RaServer.spawn(ra.path) : undefined;
	try {
		await json.loadLibrary(ctx.fixtures.library);
		await msgpack.loadLibrary(ctx.fixtures.library);
		if (raServer && ra) await raServer.listMacros(ra.dylib);
		// One untimed round warms every JIT and buffer.
		for (let r = -1; r < repeats; r++) {
			const j = await pipelined(n, () => json.expandInline({ name: 'noop', args: work.stream }));
			const m = await pipelined(n, () => msgpack.expandInline({ name: 'noop', args: work.typed }));
			const t = raServer && ra ? await pipelined(n, async () => parseExpandReply(await raServer.request(expandMacroRequest(ra.dylib, 'identity', work.flatTree)))) : undefined;
			if (r < 0) continue;
			rates.json.push(j);
			rates.msgpack.push(m);
			if (t !== undefined) rates.ra.push(t);
		}
	} finally {
		await Promise.all([json.close(), msgpack.close(), raServer?.close()]);
	}
	const best = Math.max(summarize(rates.json).median, summarize(rates.msgpack).median);
	return [
		{
			id: 'pipelined/one-host',
			title: `pipelined ${SMALL_TOKENS}-token expansions, one host`,
			unit: '/s',
			json: summarize(rates.json),
			msgpack: summarize(rates.msgpack),
			theirs: rates.ra.length ? summarize(rates.ra) : undefined,
			theirsNote: ra ? undefined : raSkipNote(ctx),
			target: { text: `≥ ${TARGET_PER_SECOND.toLocaleString('en-US')}/s`, met: best >= TARGET_PER_SECOND },
			note: `${n.toLocaleString('en-US')} calls in flight at once; ratios for /s rows are RA/ours, so below 1 is better here too`,
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
