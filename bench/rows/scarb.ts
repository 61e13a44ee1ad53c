/**
 * The Scarb row: a 20,000-token identity through a Scarb stable-ABI v2 library (the adapter builds
 * Scarb's token list, the macro copies it into its arena, the host copies the output back and splits
 * it with the tokenizer) beside the same identity through our own ABI (`echo` of the bench library),
 * in one host. The target: the adapter costs at most 1.5× ours. The two are timed in turn,
 * call after call, after the warm-up the round-trip rows give 20,000-token calls (BenchSizes.warmupTokens).
 *
 * Beside them, in the same rounds, the macro's own `expand_v2` in this process, fed an input built beforehand and
 * freed after (the adapter's work left out): echo plus that is what a Scarb adapter that took no time would
 * cost through the host. And the least work any adapter written in the host's language does: write the
 * input's token trees (32 bytes each) and read as many back, comparing span and length, with no records and
 * no text. Echo plus both is the floor the 1.5× target is judged against.
 */
import koffi from 'koffi';
import { MacroHost, tokenize, type TokenStream } from '../../client/index.js';
import { frameOf, ScarbInputBuilder } from '../../server/scarb/input-streams.js';
import { keepFreedMemory } from '../../server/process-hygiene.js';
import { bindV2, TokenTreeWord } from '../../server/scarb/stable-abi.js';
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
		const trees = leastAdapterWork(macroAlone.input);
		const { json, floor } = await measureInterleaved(ctx.sizes.roundTripRuns, warmupRounds(ctx.sizes, TOKENS), {
			json: call(scarb, 'identity'),
			floor: call(ours, 'echo'),
			macro: macroAlone.run,
			trees: trees.run,
		});
		const ratio = json.median / floor.median;
		const alone = summarize(macroAlone.samples.slice(-ctx.sizes.roundTripRuns));
		const treeWork = summarize(trees.samples.slice(-ctx.sizes.roundTripRuns));
		const free = floor.median + alone.median;
		const least = free + treeWork.median;
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
				theirsNote: `a free adapter: echo + expand_v2 = ${free.toFixed(3)} ms, ${(free / floor.median).toFixed(2)}× echo`,
				note: 'what the Scarb row would cost with an adapter that took no time: the macro must still copy the 30,000-piece input into its arena and hand it back',
			},
			{
				id: `scarb/least-adapter/${TOKENS}`,
				title: `Scarb v2 identity: the least adapter work, ${trees.pieces.toLocaleString('en-US')} token trees written and read back (same rounds)`,
				unit: 'ms',
				json: treeWork,
				floor,
				floorLabel: 'our ABI (echo) through the host, as above',
				theirsNote: `the floor: echo + expand_v2 + this = ${least.toFixed(3)} ms, ${leastRatio.toFixed(2)}× echo`,
				target: { text: `floor ≤ ${TARGET_VS_OURS}× echo? (${leastRatio.toFixed(2)}×)`, met: leastRatio <= TARGET_VS_OURS },
				note: 'one loop writes every piece of the input as a token tree (tag, span, address, length), one reads as many back and compares span and length: no records, no text, no checks',
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
function expandV2Alone(library: string, args: TokenStream): { run: () => void; samples: number[]; input: ScarbInputBuilder } {
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
	// Built once now, so that the input's pieces are there to size the least adapter's loops by.
	item.build(args, frame, true);
	return { run, samples, input: item };
}

/**
 * The least an adapter in JavaScript does per call for `input`'s pieces: every piece written as a token tree
 * (the four fields that vary), and as many trees read back with their span and length compared. The trees it
 * writes come from the built input's, so the sizes, spans and addresses are the real ones. `run` is one round.
 */
function leastAdapterWork(input: ScarbInputBuilder): { run: () => void; samples: number[]; pieces: number } {
	const { count: width, spanStart, spanEnd, addressLow, lengthLow } = TokenTreeWord;
	const source = input.pieceWords;
	const pieces = input.pieceCount;
	const written = new Uint32Array(Buffer.allocUnsafeSlow(pieces * width * 4).buffer).fill(0);
	const samples: number[] = [];
	let matched = 0;
	const run = (): void => {
		const started = performance.now();
		for (let k = 0, w = 0; k < pieces; k++, w += width) {
			written[w + spanStart] = source[w + spanStart]!;
			written[w + spanEnd] = source[w + spanEnd]!;
			written[w + addressLow] = source[w + addressLow]!;
			written[w + addressLow + 1] = source[w + addressLow + 1]!;
			written[w + lengthLow] = source[w + lengthLow]!;
		}
		let same = 0;
		for (let k = 0, w = 0; k < pieces; k++, w += width) {
			if (written[w + spanStart] === source[w + spanStart] && written[w + spanEnd] === source[w + spanEnd] && written[w + lengthLow] === source[w + lengthLow]) same++;
		}
		samples.push(performance.now() - started);
		matched = same;
		if (matched !== pieces) throw new Error(`the least-adapter loop read back ${matched} of ${pieces} trees`);
	};
	return { run, samples, pieces };
}

/** `a0, a1, …`: n tokens of arguments, as the tokenizer makes them from source. */
function identityArguments(n: number): TokenStream {
	return tokenize(Array.from({ length: Math.ceil(n / 2) }, (_, i) => `a${i}`).join(', ')).stream;
}
