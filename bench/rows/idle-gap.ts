/**
 * The 20-token round trip after an idle gap: before each call this process stays busy for G ms
 * without any I/O, so the server it then calls has slept for G ms (as every server does between an
 * editor's keystrokes, and as each contender of the round-trip rows does while the others run).
 * Three contenders take turns: macro-host (json, noop), rust-analyzer's identity!, and `cat`
 * echoing rust-analyzer's request line, which does no work and so shows what waking a sleeping
 * process costs on this machine. G = 0 is back to back.
 */
import { MacroHost } from '../../client/index.js';
import { raSkipNote, raTarget, type BenchContext } from '../context.js';
import { identityRequestLine, parseExpandReply, RaServer } from '../ra-server.js';
import type { Row } from '../report.js';
import { summarize } from '../stats.js';
import { makeWorkload } from '../workload.js';

const TOKENS = 20;
const GAPS_MS = [0, 1, 3];
/** Untimed rounds first: about as many calls as the round-trip rows' host has had when it is timed. */
const WARMUP_ROUNDS = 4000;

export async function idleGapRows(ctx: BenchContext): Promise<Row[]> {
	const ra = raTarget(ctx);
	const work = makeWorkload(TOKENS);
	const line = identityRequestLine(ra?.dylib, work.flatTree);
	const host = await MacroHost.start({ encoding: 'json' });
	const raServer = ra ? RaServer.spawn(ra.path) : undefined;
	const pipe = RaServer.spawnEcho();
	const runs = ctx.sizes.roundTripRuns * 4;
	const warmup = ctx.sizes.warmupTokens > 0 ? WARMUP_ROUNDS : 3;
	const rows: Row[] = [];
	try {
		await host.loadLibrary(ctx.fixtures.library);
		if (raServer && ra) await raServer.listMacros(ra.dylib);
		const ours = async (): Promise<void> => {
			const result = await host.expandInline({ name: 'noop', args: work.stream });
			if (result.outcome !== 'leave') throw new Error(`noop answered ${result.outcome}`);
		};
		const theirs = async (): Promise<void> => {
			parseExpandReply(await raServer!.requestLine(line));
		};
		const echo = async (): Promise<void> => {
			await pipe.requestLine(line);
		};
		for (let i = 0; i < warmup; i++) {
			await ours();
			if (raServer) await theirs();
			await echo();
		}
		for (const gap of GAPS_MS) {
			ctx.progress(`idle gap: ${gap} ms before each call, ${runs} runs`);
			const samples = { ours: [] as number[], theirs: [] as number[], echo: [] as number[] };
			const time = async (list: number[], once: () => Promise<void>): Promise<void> => {
				const idleFrom = performance.now();
				while (performance.now() - idleFrom < gap) {
					// Busy, not sleeping: only the server is idle.
				}
				const started = performance.now();
				await once();
				list.push(performance.now() - started);
			};
			for (let i = 0; i < runs; i++) {
				await time(samples.ours, ours);
				if (raServer) await time(samples.theirs, theirs);
				await time(samples.echo, echo);
			}
			rows.push({
				id: `idle-gap/${gap}`,
				title: `round trip after ${gap} ms idle, noop, ${TOKENS} tokens`,
				unit: 'ms',
				json: summarize(samples.ours),
				floor: summarize(samples.echo),
				floorLabel: 'cat: no server work',
				theirs: samples.theirs.length ? summarize(samples.theirs) : undefined,
				theirsNote: ra ? undefined : raSkipNote(ctx),
				note: gap === 0 ? 'each contender called back to back with the others, after warm-up' : `this process busy (no I/O) for ${gap} ms before each call, so the server slept that long`,
			});
		}
	} finally {
		await Promise.all([host.close(), raServer?.close(), pipe.close()]);
	}
	return rows;
}
