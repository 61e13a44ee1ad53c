/**
 * The small-call rows: a 20-token echo round trip, timed over thousands of interleaved rounds, from
 * the machine's floor up to the client a driver uses, so that every ratio of the small-call goals
 * comes from one run:
 *
 * - `cat`: one write and one wake-up each way, no server work;
 * - the bare Node echo host (bench/node-echo-host.ts): `cat` plus what any Node server pays per
 *   message (readSync, JSON.parse, JSON.stringify, writeSync);
 * - the floor host (bench/floor-host.ts): the bare echo plus what any host that calls a native macro
 *   pays (the frame, the library call through koffi, the answer's encoding), with nothing of ours around it;
 *   driven once with frames encoded beforehand, and once by the least client (each request encoded from its
 *   params, each reply parsed), the floor of MacroHost;
 * - our host (dist/server/host.cjs) driven with raw Content-Length frames, JSON bodies: the host's
 *   own per-call path (framing, dispatch, checks, the library call, the reply), with a driver that
 *   does no more per call than `cat`'s;
 * - MacroHost (json and msgpack): the host plus the client;
 * - rust-analyzer's proc-macro server expanding `identity!` on the same tokens.
 *
 * The cat and Node echo hosts get the raw host's request body as one line, so all of them move the
 * same bytes. The round-trip group's 20-token rows take 25 rounds; a median of so few swings by
 * 20-30% between runs, which is why these rows take 3,000.
 *
 * Every round visits the servers in a new order (a seeded shuffle, so runs repeat it): a server measured
 * right after another pays for what that one left behind (its CPU still busy, caches cold), and a fixed
 * order, or a fixed order rotated, always billed that to the same row. The rows are measured twice: as
 * the scheduler places the processes, and with every process pinned to one CPU (bench/cpu-affinity.ts),
 * where the round trip is the work both sides do and runs agree within a few percent.
 */
import { MacroHost } from '../../client/index.js';
import { ExpandInlineRequest } from '../../protocol/methods.js';
import { raSkipNote, raTarget, type BenchContext } from '../context.js';
import { pinToOneCpu } from '../cpu-affinity.js';
import { expandIdentity, RaServer } from '../ra-server.js';
import { FLOOR_HOST, RawHost } from '../raw-host.js';
import type { Row } from '../report.js';
import { mulberry32, shuffle } from '../seeded-random.js';
import { summarize, type Summary } from '../stats.js';
import { makeWorkload, type Workload } from '../workload.js';
import { expandThroughHost } from './round-trip.js';

/** Token count of a small call (an `add!(a, b)` is about a dozen). */
const SMALL_TOKENS = 20;
/** The issue's goals: the raw host against the bare Node echo, MacroHost against rust-analyzer. */
const RAW_HOST_TARGET = 1.5;
const MACRO_HOST_TARGET = 0.6;
/** The id the raw host's request frame carries (the driver matches replies by order). */
const RAW_REQUEST_ID = 1;

/** How the processes of a pass may be placed. */
type Placement = 'spread' | 'one-cpu';

export async function smallCallRows(ctx: BenchContext): Promise<Row[]> {
	const work = makeWorkload(SMALL_TOKENS);
	const { smallCallRuns: runs, smallCallWarmup: warmup } = ctx.sizes;
	ctx.progress(`small calls: ${SMALL_TOKENS}-token echo, ${warmup} warm-up rounds, ${runs} timed rounds, on all CPUs`);
	const rows = toRows(ctx, 'spread', await measure(ctx, work));
	const unpin = pinToOneCpu();
	if (typeof unpin === 'string') {
		ctx.progress(`small calls: no one-CPU pass (${unpin})`);
		return rows;
	}
	ctx.progress('small calls: the same rounds with every process on one CPU');
	try {
		rows.push(...toRows(ctx, 'one-cpu', await measure(ctx, work)));
	} finally {
		unpin();
	}
	return rows;
}

/** One pass: every server spawned (by this thread, so with its CPU affinity), warmed, and timed in shuffled order. */
async function measure(ctx: BenchContext, work: Workload): Promise<Map<string, Summary>> {
	const ra = raTarget(ctx);
	const { smallCallRuns: runs, smallCallWarmup: warmup } = ctx.sizes;
	const params = { name: 'echo', args: work.stream };
	const frame = RawHost.frame(RAW_REQUEST_ID, ExpandInlineRequest.method, params);
	const line = JSON.stringify({ jsonrpc: '2.0', id: RAW_REQUEST_ID, method: ExpandInlineRequest.method, params });
	const cat = RaServer.spawnEcho();
	const nodeEcho = RaServer.spawnNodeEcho();
	const floorHost = new RawHost([], FLOOR_HOST, [ctx.fixtures.library]);
	// A process of its own: run right after the floor host's own turn, the same process would find its caches warm.
	const floorForClient = new RawHost([], FLOOR_HOST, [ctx.fixtures.library]);
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
		const expectedFloorReply = checkRawReply(await floorHost.requestFrame(frame), 'floor host');
		checkRawReply(await floorForClient.requestFrame(frame), 'floor host');
		const servers: [string, () => Promise<unknown>][] = [
			['cat', () => cat.requestLine(line)],
			['node-echo', () => nodeEcho.requestLine(line)],
			['floor', async () => {
				const reply = await floorHost.requestFrame(frame);
				if (reply.length !== expectedFloorReply) checkRawReply(reply, 'floor host');
			}],
			// The least client on top: the request encoded from its params and the reply parsed, per call.
			['floor-client', async () => {
				const reply = JSON.parse(await floorForClient.requestFrame(RawHost.frame(RAW_REQUEST_ID, ExpandInlineRequest.method, params))) as { result?: unknown };
				if (reply.result === undefined) throw new Error('the floor host answered without a result');
			}],
			['raw', async () => {
				const reply = await raw.requestFrame(frame);
				// The same call gets the same bytes back: a cheap check that no reply is broken or empty.
				if (reply.length !== expectedReply) checkRawReply(reply);
			}],
			['json', () => expandThroughHost(json, 'echo', work.stream, SMALL_TOKENS)],
			['msgpack', () => expandThroughHost(msgpack, 'echo', work.typed, SMALL_TOKENS)],
		];
		if (raServer && ra) servers.push(['ra', () => expandIdentity(raServer, ra.dylib, work.flatTree, SMALL_TOKENS)]);
		const order = servers.map((_, k) => k);
		const random = mulberry32(0x5eed);
		for (let round = -warmup; round < runs; round++) {
			const timed = round >= 0;
			shuffle(order, random);
			for (const k of order) {
				const [key, once] = servers[k]!;
				const started = performance.now();
				await once();
				const elapsed = performance.now() - started;
				if (!timed) continue;
				let list = samples.get(key);
				if (list === undefined) samples.set(key, (list = []));
				list.push(elapsed);
			}
		}
	} finally {
		await Promise.all([json.close(), msgpack.close(), raServer?.close(), cat.close(), nodeEcho.close(), raw.kill(), floorHost.kill(), floorForClient.kill()]);
	}
	return new Map([...samples].map(([key, list]) => [key, summarize(list)]));
}

/** The rows of one pass; the pass on all CPUs keeps the ids the rows had before there were two. */
function toRows(ctx: BenchContext, placement: Placement, got: Map<string, Summary>): Row[] {
	const ra = raTarget(ctx);
	const catFloor = got.get('cat')!;
	const nodeFloor = got.get('node-echo')!;
	const floorHost = got.get('floor')!;
	const floorClient = got.get('floor-client')!;
	const rawHost = got.get('raw')!;
	const theirs = got.get('ra');
	const theirsNote = ra ? undefined : raSkipNote(ctx);
	const vsNode = rawHost.median / nodeFloor.median;
	const best = Math.min(got.get('json')!.median, got.get('msgpack')!.median);
	const vsRa = theirs ? best / theirs.median : undefined;
	const runs = ctx.sizes.smallCallRuns;
	const where = placement === 'one-cpu' ? ', every process on one CPU' : '';
	const count = `${runs.toLocaleString('en-US')} rounds${where}`;
	const id = (name: string): string => (placement === 'one-cpu' ? `small-calls/one-cpu/${name}/${SMALL_TOKENS}` : `small-calls/${name}/${SMALL_TOKENS}`);
	return [
		{
			id: id('cat'),
			title: `small call through \`cat\`, ${SMALL_TOKENS}-token request line (${count})`,
			unit: 'ms',
			floor: catFloor,
			floorLabel: 'cat: no server work',
			theirsNote: 'the floor of any server',
		},
		{
			id: id('node-echo'),
			title: `small call through a bare Node echo host, ${SMALL_TOKENS}-token request line (${count})`,
			unit: 'ms',
			floor: nodeFloor,
			floorLabel: 'bare Node: readSync, JSON.parse, JSON.stringify, writeSync',
			theirsNote: `${(nodeFloor.median / catFloor.median).toFixed(2)}× cat`,
		},
		{
			id: id('floor-host'),
			title: `small call, echo, ${SMALL_TOKENS} tokens: the floor host with raw frames (${count})`,
			unit: 'ms',
			json: floorHost,
			floor: nodeFloor,
			floorLabel: 'bare Node echo host',
			theirsNote: `${(floorHost.median / nodeFloor.median).toFixed(2)}× bare Node echo: the least a Node host that calls the library pays`,
			note: 'bench/floor-host.ts: readSync, the frame, JSON.parse, the macro through the native backend, the encoder, writeSync; nothing else',
		},
		{
			id: id('floor-client'),
			title: `small call, echo, ${SMALL_TOKENS} tokens: the floor host and the least client (${count})`,
			unit: 'ms',
			json: floorClient,
			floor: nodeFloor,
			floorLabel: 'bare Node echo host',
			theirs,
			theirsNote,
			note: 'the floor host, with each request encoded from its params (JSON.stringify) and each reply parsed (JSON.parse): the least any client and host that call the library can pay, against MacroHost',
		},
		{
			id: id('raw-host'),
			title: `small call, echo, ${SMALL_TOKENS} tokens: the host with raw frames (${count})`,
			unit: 'ms',
			json: rawHost,
			floor: nodeFloor,
			floorLabel: 'bare Node echo host',
			theirs,
			theirsNote,
			target: { text: `≤ ${RAW_HOST_TARGET}× bare Node echo (now ${vsNode.toFixed(2)}×; floor host ${(floorHost.median / nodeFloor.median).toFixed(2)}×)`, met: vsNode <= RAW_HOST_TARGET },
			note: 'dist/server/host.cjs with JSON frames written and read by a driver that neither encodes nor parses per call',
		},
		{
			id: id('macro-host'),
			title: `small call, echo, ${SMALL_TOKENS} tokens: MacroHost (${count})`,
			unit: 'ms',
			json: got.get('json'),
			msgpack: got.get('msgpack'),
			floor: nodeFloor,
			floorLabel: 'bare Node echo host',
			theirs,
			theirsNote,
			target: {
				text: `≤ ${MACRO_HOST_TARGET}× RA${vsRa === undefined ? '' : ` (now ${vsRa.toFixed(2)}×; floor host and least client ${(floorClient.median / theirs!.median).toFixed(2)}×)`}`,
				met: vsRa === undefined ? undefined : vsRa <= MACRO_HOST_TARGET,
			},
		},
	];
}

/** Checks a raw echo reply (an expansion that replaced the call with its 20 tokens); returns its length. */
function checkRawReply(body: string, who = "the host's echo"): number {
	const reply = JSON.parse(body) as { result?: { outcome?: string; tokens?: { records?: unknown[] } }; error?: { message: string } };
	const records = reply.result?.tokens?.records;
	if (reply.result?.outcome !== 'replace' || records?.length !== SMALL_TOKENS * 6) throw new Error(`${who} answered ${body.slice(0, 300)}`);
	return body.length;
}
