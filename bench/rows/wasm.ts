/**
 * The wasm row of the sandbox issue: one macro source, `add!` from examples/add-macro, built twice
 * through the real package pipeline (native with cargo, wasm with Debian's rustc 1.63 as
 * examples/wasm-add-macro), both loaded into one host, and the same call timed against each. The
 * native build is the baseline column, so the ratio reads "what the sandbox costs".
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MacroHost, tokenize, type TokenStream } from '../../client/index.js';
import { buildProject } from '../../client/packages/index.js';
import type { BenchContext } from '../context.js';
import type { Row } from '../report.js';
import { measure } from '../stats.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));
const WARMUP = 3;

export async function wasmRows(ctx: BenchContext): Promise<Row[]> {
	ctx.progress('wasm: building add-macro native and wasm (cached after the first run)');
	const { native, wasm } = await buildBothAddMacros();
	const host = await MacroHost.start();
	const rows: Row[] = [];
	try {
		const nativeId = (await host.loadLibrary(native)).library;
		const wasmId = (await host.loadLibrary(wasm)).library;
		// Wasm linear memory caps the input far below the native path's: stop at 20,000 tokens.
		for (const n of ctx.sizes.tokenCounts.filter((count) => count <= 20_000)) {
			const args = addArguments(n);
			ctx.progress(`wasm: add! with ${n.toLocaleString('en-US')} tokens, ${ctx.sizes.roundTripRuns} runs`);
			const call = (library: string) => async () => {
				const result = await host.expandInline({ name: 'add', args, library });
				if (result.outcome !== 'replace') throw new Error(`add! did not expand: ${JSON.stringify(result.diagnostics)}`);
			};
			rows.push({
				id: `wasm/add/${n}`,
				title: `wasm vs native add!, ${n.toLocaleString('en-US')} tokens`,
				unit: 'ms',
				json: await measure(ctx.sizes.roundTripRuns, WARMUP, call(wasmId)),
				floor: await measure(ctx.sizes.roundTripRuns, WARMUP, call(nativeId)),
				floorLabel: 'native build, same host',
				theirsNote: 'no equivalent: rust-analyzer has no sandbox',
			});
		}
	} finally {
		await host.close();
	}
	return rows;
}

/** `x0 + x1 + … , y`: n tokens of arguments for add!. */
function addArguments(n: number): TokenStream {
	const terms = Math.max(1, Math.floor((n - 2 + 1) / 2));
	const left = Array.from({ length: terms }, (_, i) => `x${i}`).join(' + ');
	return tokenize(`${left}, y`).stream;
}

/** Builds examples/add-macro and examples/wasm-add-macro through a throwaway project that depends on both. */
async function buildBothAddMacros(): Promise<{ native: string; wasm: string }> {
	const project = mkdtempSync(join(tmpdir(), 'macro-host-bench-wasm-'));
	try {
		writeFileSync(
			join(project, 'Scarb.toml'),
			[
				'[package]',
				'name = "bench_wasm"',
				'version = "0.1.0"',
				'',
				'[dependencies]',
				`add_macro = { path = ${JSON.stringify(join(EXAMPLES, 'add-macro'))}, version = "0.1.0" }`,
				`wasm_add_macro = { path = ${JSON.stringify(join(EXAMPLES, 'wasm-add-macro'))}, version = "0.1.0" }`,
				'',
			].join('\n'),
		);
		const built = await buildProject(project);
		const path = (target: string) => {
			const found = built.packages.find((p) => p.target === target);
			if (!found) throw new Error(`the ${target} build of add! is missing from ${JSON.stringify(built.packages.map((p) => p.name))}`);
			return found.libraryPath;
		};
		return { native: path('native'), wasm: path('wasm') };
	} finally {
		rmSync(project, { recursive: true, force: true });
	}
}
