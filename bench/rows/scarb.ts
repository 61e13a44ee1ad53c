/**
 * The Scarb row: a 20,000-token identity through a Scarb stable-ABI v2 library (the adapter builds
 * Scarb's token list, the macro copies it into its arena, the host copies the output back and splits
 * it with the tokenizer) beside the same identity through our own ABI (`echo` of the bench library),
 * in one host. The target: the adapter costs at most 1.5× ours. The two are timed in turn,
 * call after call, after the warm-up the round-trip rows give 20,000-token calls (BenchSizes.warmupTokens).
 *
 * Beside them, in the same rounds, the macro's own `expand_v2` in this process, fed an input built beforehand and
 * freed after (the adapter's work left out): echo plus that is the least any Scarb adapter could cost through
 * the host, the floor the 1.5× target is judged against.
 */
import koffi from 'koffi';
import { MacroHost, tokenize, type TokenStream } from '../../client/index.js';
import { frameOf, ScarbInputBuilder } from '../../server/scarb/input-streams.js';
import { keepFreedMemory } from '../../server/process-hygiene.js';
import { bindV2 } from '../../server/scarb/stable-abi.js';
import { buildScarbV2Library } from '../build-fixtures.js';
import { warmupRounds, type BenchContext } from '../context.js';
import type { Row } from '../report.js';
import { measureInterleaved, summarize } from '../stats.js';

const TOKENS = 20_000;
const TARGET_VS_OURS = 1.5;

export async function scarbRows(ctx: BenchContext): Promise<Row[]> {
	ctx.progress('scarb: building the Scarb v2 fixture package (cached after the first run)');
	const scarbLibrary = await buildScarbV2Library();
	const host = await MacroHost.start();
	try {
		const scarb = (await host.loadLibrary(scarbLibrary)).library;
		const ours = (await host.loadLibrary(ctx.fixtures.library)).library;
		const args = identityArguments(TOKENS);
		const call = (library: string, name: string) => async () => {
			const result = await host.expandInline({ name, args, library, callSite: { start: 0, end: 1_000_000 } });
			if (result.outcome !== 'replace') throw new Error(`${name}! did not expand: ${JSON.stringify(result.diagnostics)}`);
		};
		ctx.progress(`scarb: identity with ${TOKENS.toLocaleString('en-US')} tokens, ${ctx.sizes.roundTripRuns} runs each, interleaved with echo`);
		const macroAlone = expandV2Alone(scarbLibrary, args);
		const { json, floor } = await measureInterleaved(ctx.sizes.roundTripRuns, warmupRounds(ctx.sizes, TOKENS), {
			json: call(scarb, 'identity'),
			floor: call(ours, 'echo'),
			macro: macroAlone.run,
		});
		const ratio = json.median / floor.median;
		const alone = summarize(macroAlone.samples.slice(-ctx.sizes.roundTripRuns));
		const least = floor.median + alone.median;
		const leastRatio = least / floor.median;
		return [
			{
				id: `scarb/identity/${TOKENS}`,
				title: `Scarb v2 identity vs our ABI's echo, ${TOKENS.toLocaleString('en-US')} tokens`,
				unit: 'ms',
				json,
				floor,
				floorLabel: 'our ABI (echo), same host',
				theirsNote: 'no equivalent: rust-analyzer does not load Scarb macros',
				target: { text: `≤ ${TARGET_VS_OURS}× our ABI (now ${ratio.toFixed(2)}×)`, met: ratio <= TARGET_VS_OURS },
			},
			{
				id: `scarb/expand-v2-alone/${TOKENS}`,
				title: `Scarb v2 identity: the macro's own expand_v2, in process, input built beforehand (same rounds)`,
				unit: 'ms',
				json: alone,
				floor,
				floorLabel: 'our ABI (echo) through the host, as above',
				theirsNote: `a free adapter: echo + expand_v2 = ${least.toFixed(3)} ms, ${leastRatio.toFixed(2)}× echo`,
				target: { text: `least possible ≤ ${TARGET_VS_OURS}× echo? (${leastRatio.toFixed(2)}×)`, met: leastRatio <= TARGET_VS_OURS },
				note: 'what the Scarb row would cost with an adapter that took no time: the macro must still copy the 30,000-piece input into its arena and hand it back',
			},
		];
	} finally {
		await host.close();
	}
}

/**
 * The library's `expand_v2` called in this process, as the host's adapter calls it, timed alone: the input is
 * built before the clock starts and the result freed after it stops. `run` is one round; `samples` its times.
 */
function expandV2Alone(library: string, args: TokenStream): { run: () => void; samples: number[] } {
	// As the host does at its start: without it glibc hands the macro's megabyte vectors back to the kernel
	// after each call, and expand_v2 swings from 0.4 ms to 5-7 ms.
	keepFreedMemory();
	const fns = bindV2(koffi.load(library));
	const item = new ScarbInputBuilder();
	const attr = new ScarbInputBuilder();
	const name = Buffer.from('identity\0', 'latin1');
	const frame = frameOf(args, { start: 0, end: 1_000_000 }, true);
	const samples: number[] = [];
	const run = (): void => {
		const input = item.build(args, frame, true).v2();
		const noArgs = attr.build(undefined, frameOf(undefined, undefined, true), false).v2();
		const started = performance.now();
		const wrapper = fns.expand(name, frame.adaptedCallSite, noArgs, input);
		samples.push(performance.now() - started);
		fns.freeResult(wrapper.output);
	};
	return { run, samples };
}

/** `a0, a1, …`: n tokens of arguments, as the tokenizer makes them from source. */
function identityArguments(n: number): TokenStream {
	return tokenize(Array.from({ length: Math.ceil(n / 2) }, (_, i) => `a${i}`).join(', ')).stream;
}
