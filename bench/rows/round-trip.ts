/**
 * Rows 2, 6, 7 and 8 for one call: the round trip of an inline expansion of N tokens through
 * MacroHost (json and msgpack side by side), the in-process floor (the same library called through
 * koffi in this process, with the host's own expander: no RPC), and rust-analyzer's server expanding
 * the same tokens with a proc macro that returns its input.
 *
 * Two macros on our side: `noop` (LEAVE: the reply carries no tokens, what the issue names) and
 * `echo` (REPLACE with the input: the reply carries every token back, the same work as
 * rust-analyzer's identity!). Each repetition times every contender once, in turn, after untimed
 * warm-up rounds of the same kind: an editor's or a build's server answers thousands of calls, so the
 * steady state is what counts, and a JIT needs a few thousand calls to reach it (with 3 warm-up calls
 * the 20-token row mostly timed interpreted JavaScript on both of our sides; after 300 a host still
 * answered 35-40% slower than after 3,000).
 */
import { MacroHost } from '../../client/index.js';
import { macroKey, type Expansion, type LibraryBackend, type MacroEntry } from '../../server/library-model.js';
import { loadFailure } from '../../server/load-errors.js';
import { macroHostAbi } from '../../server/native/library.js';
import { openSharedObject } from '../../server/native/open-library.js';
import { raSkipNote, raTarget, warmupRounds, type BenchContext } from '../context.js';
import { expandIdentity, identityRequestLine, RaServer } from '../ra-server.js';
import type { Row } from '../report.js';
import { summarize, type Summary } from '../stats.js';
import { makeWorkload, type Workload } from '../workload.js';

/** The targets, as ratios to rust-analyzer, by token count. */
const TARGETS: Record<number, number> = { 20: 0.6, 20_000: 0.3, 200_000: 0.2 };
/** At 200,000 tokens we must also stay within this multiple of the in-process floor. */
const FLOOR_TARGET = 2;

type Macro = 'noop' | 'echo';

export async function roundTripRows(ctx: BenchContext): Promise<Row[]> {
	const { library } = ctx.fixtures;
	const ra = raTarget(ctx);
	const json = await MacroHost.start({ encoding: 'json' });
	const msgpack = await MacroHost.start({ encoding: 'msgpack' });
	// The same hosts with every stream inside the message (no bulk streams), at the largest size only:
	// what the shared slot files save.
	const jsonInline = await MacroHost.start({ encoding: 'json', bulk: false, warmStandby: false });
	const msgpackInline = await MacroHost.start({ encoding: 'msgpack', bulk: false, warmStandby: false });
	const raServer = ra ? RaServer.spawn(ra.path) : undefined;
	// The machine's floor for one request and one reply over pipes, timed in the same interleaving.
	const pipe = RaServer.spawnEcho();
	const rows: Row[] = [];
	try {
		for (const host of [json, msgpack, jsonInline, msgpackInline]) await host.loadLibrary(library);
		if (raServer && ra) await raServer.listMacros(ra.dylib);
		const floor = inProcessFloor(library);
		const smallest = Math.min(...ctx.sizes.tokenCounts);
		const largest = Math.max(...ctx.sizes.tokenCounts);
		for (const n of ctx.sizes.tokenCounts) {
			const work = makeWorkload(n);
			const runs = ctx.sizes.roundTripRuns;
			const warmup = warmupRounds(ctx.sizes, n);
			ctx.progress(`round trip: ${n.toLocaleString('en-US')} tokens, ${warmup} warm-up rounds, ${runs} runs`);
			// The bytes rust-analyzer gets for this call, echoed by `cat` (smallest size only).
			const echoLine = n === smallest ? identityRequestLine(ra?.dylib, work.flatTree) : undefined;
			const samples = new Map<string, number[]>();
			const time = async (key: string, once: () => Promise<unknown> | unknown, timed: boolean): Promise<void> => {
				const started = performance.now();
				await once();
				const elapsed = performance.now() - started;
				if (!timed) return;
				const list = samples.get(key) ?? [];
				list.push(elapsed);
				samples.set(key, list);
			};
			for (let i = -warmup; i < runs; i++) {
				const timed = i >= 0;
				for (const macro of ['noop', 'echo'] as const) {
					await time(`json/${macro}`, () => expandThroughHost(json, macro, work.stream, n), timed);
					await time(`msgpack/${macro}`, () => expandThroughHost(msgpack, macro, work.typed, n), timed);
					await time(`floor/${macro}`, () => floor(macro, work), timed);
				}
				if (n === largest) {
					await time('json-inline/echo', () => expandThroughHost(jsonInline, 'echo', work.stream, n), timed);
					await time('msgpack-inline/echo', () => expandThroughHost(msgpackInline, 'echo', work.typed, n), timed);
				}
				if (raServer && ra) await time('ra', () => expandIdentity(raServer, ra.dylib, work.flatTree, n), timed);
				if (echoLine !== undefined) await time('pipe', () => pipe.requestLine(echoLine), timed);
			}
			const get = (key: string): Summary | undefined => {
				const list = samples.get(key);
				return list ? summarize(list) : undefined;
			};
			for (const macro of ['noop', 'echo'] as const) {
				rows.push(makeRow(ctx, macro, n, get(`json/${macro}`)!, get(`msgpack/${macro}`)!, get(`floor/${macro}`)!, get('ra'), ra !== undefined));
			}
			const jsonInlineEcho = get('json-inline/echo');
			const msgpackInlineEcho = get('msgpack-inline/echo');
			if (jsonInlineEcho && msgpackInlineEcho) {
				rows.push({
					id: `round-trip/echo-inline/${n}`,
					title: `round trip, echo, ${n.toLocaleString('en-US')} tokens, inline (bulk: false)`,
					unit: 'ms',
					json: jsonInlineEcho,
					msgpack: msgpackInlineEcho,
					floor: get('floor/echo'),
					floorLabel: 'in-process',
					theirs: get('ra'),
					theirsNote: ra ? undefined : raSkipNote(ctx),
					note: 'the echo row above with bulk streams off: every stream inside the message, as before them',
				});
			}
			const pipeFloor = get('pipe');
			if (pipeFloor) {
				rows.push({
					id: `round-trip/pipe-floor/${n}`,
					title: `round trip through \`cat\`, ${n.toLocaleString('en-US')}-token request line`,
					unit: 'ms',
					floor: pipeFloor,
					floorLabel: 'cat: no server work',
					theirsNote: 'the floor of any server here, rust-analyzer included',
					note: "rust-analyzer's request line for this call, echoed by `cat` in the same interleaving: one write and one wake-up each way, no server work",
				});
			}
		}
	} finally {
		await Promise.all([json.close(), msgpack.close(), jsonInline.close(), msgpackInline.close(), raServer?.close(), pipe.close()]);
	}
	return rows;
}

function makeRow(
	ctx: BenchContext,
	macro: Macro,
	n: number,
	json: Summary,
	msgpack: Summary,
	floor: Summary,
	theirs: Summary | undefined,
	hasRa: boolean,
): Row {
	const row: Row = {
		id: `round-trip/${macro}/${n}`,
		title: `round trip, ${macro}, ${n.toLocaleString('en-US')} tokens`,
		unit: 'ms',
		json,
		msgpack,
		floor,
		floorLabel: 'in-process',
		theirs,
		theirsNote: hasRa ? undefined : raSkipNote(ctx),
	};
	const target = TARGETS[n];
	if (target !== undefined) {
		const best = Math.min(json.median, msgpack.median);
		const which = json.median <= msgpack.median ? 'json' : 'msgpack';
		const vsRa = theirs ? best / theirs.median : undefined;
		let text = `≤ ${target}× RA`;
		let met = vsRa === undefined ? undefined : vsRa <= target;
		if (n === 200_000) {
			const vsFloor = best / floor.median;
			text += `, ≤ ${FLOOR_TARGET}× floor (${which}: ${vsFloor.toFixed(1)}× floor)`;
			met = met === undefined ? undefined : met && vsFloor <= FLOOR_TARGET;
		} else {
			text += ` (best: ${which})`;
		}
		row.target = { text, met };
	}
	return row;
}

/** One expandInline through a MacroHost, checked so that a broken reply cannot pass for a fast one. */
export async function expandThroughHost(host: MacroHost, macro: Macro, args: Workload['stream'] | Workload['typed'], n: number): Promise<void> {
	const result = await host.expandInline({ name: macro, args });
	const expected = macro === 'noop' ? 'leave' : 'replace';
	if (result.outcome !== expected) throw new Error(`${macro} answered ${result.outcome}: ${JSON.stringify(result.diagnostics)}`);
	if (macro === 'echo' && result.tokens!.records.length !== n * 6) throw new Error(`echo returned ${result.tokens!.records.length / 6} tokens, not ${n}`);
}


/** The floor: the host's own loader and native backend in this process, fed typed records (the cheapest input). */
function inProcessFloor(library: string): (macro: Macro, work: Workload) => void {
	const fail = loadFailure(library);
	const loaded = macroHostAbi.probe(openSharedObject(library, fail), { id: library, fingerprint: '', fail });
	if (typeof loaded === 'string') throw new Error(`${library} is not a macro-host library (${loaded})`);
	const backend: LibraryBackend = loaded.backend;
	const macros = new Map<Macro, MacroEntry>();
	for (const macro of ['noop', 'echo'] as const) macros.set(macro, loaded.macros.get(macroKey('inline', macro))!);
	return (macro, work) => {
		const result = backend.expand(macros.get(macro)!, { args: work.typed }) as Expansion;
		if (macro === 'echo' && result.tokens!.records.length !== work.tokens * 6) throw new Error('the in-process echo lost tokens');
	};
}
