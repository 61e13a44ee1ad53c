/**
 * The Scarb row: a 20,000-token identity through a Scarb stable-ABI v2 library (the adapter builds
 * Scarb's token list, the macro copies it into its arena, the host copies the output back and splits
 * it with the tokenizer) beside the same identity through our own ABI (`echo` of the bench library),
 * in one host. The target: the adapter costs at most 1.5× ours. The two are timed in turn,
 * call after call, after the warm-up the round-trip rows give 20,000-token calls (BenchSizes.warmupTokens).
 */
import { MacroHost, tokenize, type TokenStream } from '../../client/index.js';
import { buildScarbV2Library } from '../build-fixtures.js';
import { warmupRounds, type BenchContext } from '../context.js';
import type { Row } from '../report.js';
import { measureInterleaved } from '../stats.js';

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
		const { json, floor } = await measureInterleaved(ctx.sizes.roundTripRuns, warmupRounds(ctx.sizes, TOKENS), {
			json: call(scarb, 'identity'),
			floor: call(ours, 'echo'),
		});
		const ratio = json.median / floor.median;
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
		];
	} finally {
		await host.close();
	}
}

/** `a0, a1, …`: n tokens of arguments, as the tokenizer makes them from source. */
function identityArguments(n: number): TokenStream {
	return tokenize(Array.from({ length: Math.ceil(n / 2) }, (_, i) => `a${i}`).join(', ')).stream;
}
