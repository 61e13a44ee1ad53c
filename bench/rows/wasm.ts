/**
 * The wasm rows. Restore rows: the cost of giving each call a clean module, for hand-written
 * modules (test/fixtures/wasm/module-builder.ts) whose whole memory of 256 or 4,096 pages was
 * written once at instantiation, against a one-page module; a call writes a few bytes, so a
 * restore in proportion to what the call wrote costs the same at every size.
 *
 * The add! rows: one macro source, `add!` from examples/add-macro, built twice
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
import { buildModule, Op, RESULT_AT, sleb, words } from '../../test/fixtures/wasm/module-builder.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));
const WARMUP = 3;

/** Memory sizes of the restore rows, in 64 KiB pages. */
const RESTORE_PAGES = [256, 4096];

export async function wasmRows(ctx: BenchContext): Promise<Row[]> {
	return [...(await restoreRows(ctx)), ...(await addRows(ctx))];
}

async function restoreRows(ctx: BenchContext): Promise<Row[]> {
	const dir = mkdtempSync(join(tmpdir(), 'macro-host-bench-restore-'));
	const host = await MacroHost.start();
	const rows: Row[] = [];
	try {
		const load = async (pages: number): Promise<string> => {
			const path = join(dir, `pages-${pages}.wasm`);
			writeFileSync(path, touchingModule(pages));
			return (await host.loadLibrary(path)).library;
		};
		const call = (library: string) => async () => {
			const result = await host.expandInline({ name: 'm', args: { text: '', records: [] }, library });
			if (result.outcome !== 'leave') throw new Error(`the restore module answered ${JSON.stringify(result)}`);
		};
		const onePage = await load(1);
		for (const pages of RESTORE_PAGES) {
			ctx.progress(`wasm: restore of a module that touched ${pages} pages, ${ctx.sizes.roundTripRuns} runs`);
			const library = await load(pages);
			rows.push({
				id: `wasm/restore/${pages}`,
				title: `wasm call, module that touched ${pages.toLocaleString('en-US')} pages (${pages / 16} MiB)`,
				unit: 'ms',
				json: await measure(ctx.sizes.roundTripRuns, WARMUP, call(library)),
				floor: await measure(ctx.sizes.roundTripRuns, WARMUP, call(onePage)),
				floorLabel: 'same call, one-page module',
				theirsNote: 'no equivalent: rust-analyzer has no sandbox',
			});
		}
	} finally {
		await host.close();
		rmSync(dir, { recursive: true, force: true });
	}
	return rows;
}

/** A module of `pages` pages that writes all of them at instantiation and a few bytes per call. */
function touchingModule(pages: number): Uint8Array {
	const bytes = pages * 65536;
	return buildModule({
		memory: { initial: pages, max: pages },
		// The start function fills memory from 64 KiB on (the manifest and result live below).
		start: [Op.i32Const, ...sleb(65536), Op.i32Const, 1, Op.i32Const, ...sleb(bytes - 65536), Op.misc, 11, 0],
		expand: [Op.i32Const, ...sleb(bytes - 64), Op.i32Const, 7, Op.i32Store, 2, 0, Op.i32Const, ...sleb(RESULT_AT)],
		data: [{ offset: RESULT_AT, bytes: words(0, 0, 0, 0, 0, 0, 0, 0, 0) }],
	});
}

async function addRows(ctx: BenchContext): Promise<Row[]> {
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
