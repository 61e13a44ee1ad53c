/**
 * The small-call rows: a 20-token echo round trip, timed over thousands of interleaved rounds, from
 * the machine's floor up to the client a driver uses, so that every ratio of the small-call goals
 * comes from one run:
 *
 * - `cat`: one write and one wake-up each way, no server work;
 * - the bare Node echo host (bench/node-echo-host.ts): `cat` plus what any Node server pays per
 *   message (readSync, JSON.parse, JSON.stringify, writeSync);
 * - our host (dist/server/host.cjs) driven with raw Content-Length frames, JSON bodies: the host's
 *   own per-call path (framing, dispatch, checks, the library call, the reply), with a driver that
 *   does no more per call than `cat`'s;
 * - MacroHost (json and msgpack): the host plus the client;
 * - rust-analyzer's proc-macro server expanding `identity!` on the same tokens.
 *
 * The cat and Node echo hosts get the raw host's request body as one line, so all three move the
 * same bytes. The round-trip group's 20-token rows take 25 rounds; a median of so few swings by
 * 20-30% between runs, which is why these rows take 3,000.
 */
import { MacroHost } from '../../client/index.js';
import { ExpandInlineRequest } from '../../protocol/methods.js';
import { raSkipNote, raTarget, type BenchContext } from '../context.js';
import { expandIdentity, RaServer } from '../ra-server.js';
import { RawHost } from '../raw-host.js';
import type { Row } from '../report.js';
import { summarize, type Summary } from '../stats.js';
import { makeWorkload } from '../workload.js';
import { expandThroughHost } from './round-trip.js';

/** Token count of a small call (an `add!(a, b)` is about a dozen). */
const SMALL_TOKENS = 20;
/** The issue's goals: the raw host against the bare Node echo, MacroHost against rust-analyzer. */
const RAW_HOST_TARGET = 1.5;
const MACRO_HOST_TARGET = 0.6;
/** The id the raw host's request frame carries (the driver matches replies by order). */
const RAW_REQUEST_ID = 1;

export async function smallCallRows(ctx: BenchContext): Promise<Row[]> {
	const work = makeWorkload(SMALL_TOKENS);
	const ra = raTarget(ctx);
	const { smallCallRuns: runs, smallCallWarmup: warmup } = ctx.sizes;
	ctx.progress(`small calls: ${SMALL_TOKENS}-token echo, ${warmup} warm-up rounds, ${runs} timed rounds`);
	const params = { name: 'echo', args: work.stream };
	const frame = RawHost.frame(RAW_REQUEST_ID, ExpandInlineRequest.method, params);
	const line = JSON.stringify({ jsonrpc: '2.0', id: RAW_REQUEST_ID, method: ExpandInlineRequest.method, params });
	const cat = RaServer.spawnEcho();
	const nodeEcho = RaServer.spawnNodeEcho();
	const raw = new RawHost();
	const json = await MacroHost.start({ encoding: 'json' });
	const msgpack = await MacroHost.start({ encoding: 'msgpack' });
	const raServer = ra ? RaServer.spawn(ra.path) : undefined;
	const samples = new Map<string, number[]>();
	try {
		await raw.initializeAndLoad(ctx.fixtures.library);
		await json.loadLibrary(ctx.fixtures.library);
		await msgpack.loadLibrary(ctx.fixtures.library);
		if (raServer && ra) await raServer.listMacros(ra.dylib);
		const expectedReply = checkRawReply(await raw.requestFrame(frame));
		const time = async (key: string, once: () => Promise<unknown>, timed: boolean): Promise<void> => {
			const started = performance.now();
			await once();
			const elapsed = performance.now() - started;
			if (!timed) return;
			let list = samples.get(key);
			if (list === undefined) samples.set(key, (list = []));
			list.push(elapsed);
		};
		for (let i = -warmup; i < runs; i++) {
			const timed = i >= 0;
			await time('cat', () => cat.requestLine(line), timed);
			await time('node-echo', () => nodeEcho.requestLine(line), timed);
			await time('raw', async () => {
				const reply = await raw.requestFrame(frame);
				// The same call gets the same bytes back: a cheap check that no reply is broken or empty.
				if (reply.length !== expectedReply) checkRawReply(reply);
			}, timed);
			await time('json', () => expandThroughHost(json, 'echo', work.stream, SMALL_TOKENS), timed);
			await time('msgpack', () => expandThroughHost(msgpack, 'echo', work.typed, SMALL_TOKENS), timed);
			if (raServer && ra) await time('ra', () => expandIdentity(raServer, ra.dylib, work.flatTree, SMALL_TOKENS), timed);
		}
	} finally {
		await Promise.all([json.close(), msgpack.close(), raServer?.close(), cat.close(), nodeEcho.close(), raw.kill()]);
	}
	const get = (key: string): Summary | undefined => {
		const list = samples.get(key);
		return list ? summarize(list) : undefined;
	};
	const catFloor = get('cat')!;
	const nodeFloor = get('node-echo')!;
	const rawHost = get('raw')!;
	const theirs = get('ra');
	const theirsNote = ra ? undefined : raSkipNote(ctx);
	const vsNode = rawHost.median / nodeFloor.median;
	const best = Math.min(get('json')!.median, get('msgpack')!.median);
	const vsRa = theirs ? best / theirs.median : undefined;
	const count = `${runs.toLocaleString('en-US')} rounds`;
	return [
		{
			id: `small-calls/cat/${SMALL_TOKENS}`,
			title: `small call through \`cat\`, ${SMALL_TOKENS}-token request line (${count})`,
			unit: 'ms',
			floor: catFloor,
			floorLabel: 'cat: no server work',
			theirsNote: 'the floor of any server',
		},
		{
			id: `small-calls/node-echo/${SMALL_TOKENS}`,
			title: `small call through a bare Node echo host, ${SMALL_TOKENS}-token request line (${count})`,
			unit: 'ms',
			floor: nodeFloor,
			floorLabel: 'bare Node: readSync, JSON.parse, JSON.stringify, writeSync',
			theirsNote: `${(nodeFloor.median / catFloor.median).toFixed(2)}× cat`,
		},
		{
			id: `small-calls/raw-host/${SMALL_TOKENS}`,
			title: `small call, echo, ${SMALL_TOKENS} tokens: the host with raw frames (${count})`,
			unit: 'ms',
			json: rawHost,
			floor: nodeFloor,
			floorLabel: 'bare Node echo host',
			theirs,
			theirsNote,
			target: { text: `≤ ${RAW_HOST_TARGET}× bare Node echo (now ${vsNode.toFixed(2)}×)`, met: vsNode <= RAW_HOST_TARGET },
			note: 'dist/server/host.cjs with JSON frames written and read by a driver that neither encodes nor parses per call',
		},
		{
			id: `small-calls/macro-host/${SMALL_TOKENS}`,
			title: `small call, echo, ${SMALL_TOKENS} tokens: MacroHost (${count})`,
			unit: 'ms',
			json: get('json'),
			msgpack: get('msgpack'),
			floor: nodeFloor,
			floorLabel: 'bare Node echo host',
			theirs,
			theirsNote,
			target: { text: `≤ ${MACRO_HOST_TARGET}× RA${vsRa === undefined ? '' : ` (now ${vsRa.toFixed(2)}×)`}`, met: vsRa === undefined ? undefined : vsRa <= MACRO_HOST_TARGET },
		},
	];
}

/** Checks a raw echo reply (an expansion that replaced the call with its 20 tokens); returns its length. */
function checkRawReply(body: string): number {
	const reply = JSON.parse(body) as { result?: { outcome?: string; tokens?: { records?: unknown[] } }; error?: { message: string } };
	const records = reply.result?.tokens?.records;
	if (reply.result?.outcome !== 'replace' || records?.length !== SMALL_TOKENS * 6) throw new Error(`the host's echo answered ${body.slice(0, 300)}`);
	return body.length;
}
