/**
 * `npm run bench`: macro-host against rust-analyzer's proc-macro server and the in-process floor.
 * Builds its fixtures, runs every row, prints the table on stdout (progress on stderr) and writes
 * the results as JSON.
 *
 *   node dist/bench/run.js [--quick] [--out FILE] [--rows cold,round-trip,small-calls,idle-gap,pipelined,pool,crash,wire,wasm,scarb,expansion-cache,expand-project] [--markdown]
 *
 * --quick is the smoke run CI does: small sizes, few repetitions, numbers not meant to be read.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_SOURCE_DIR, buildBenchFixtures } from './build-fixtures.js';
import { FULL_SIZES, QUICK_SIZES, type BenchContext } from './context.js';
import { findRaServer, RaServer } from './ra-server.js';
import { formatMarkdown, formatTable, writeReport, type BenchReport, type Row } from './report.js';
import { coldStartRows } from './rows/cold-start.js';
import { crashRows } from './rows/crash.js';
import { expansionCacheRows } from './rows/expansion-cache.js';
import { expandProjectRows } from './rows/expand-project.js';
import { idleGapRows } from './rows/idle-gap.js';
import { poolRows } from './rows/pool.js';
import { roundTripRows } from './rows/round-trip.js';
import { scarbRows } from './rows/scarb.js';
import { smallCallRows } from './rows/small-calls.js';
import { throughputRows } from './rows/throughput.js';
import { wasmRows } from './rows/wasm.js';
import { wireFormRows } from './rows/wire-form.js';

/** Every row group, in table order. */
const GROUPS: Record<string, (ctx: BenchContext) => Promise<Row[]>> = {
	cold: coldStartRows,
	'round-trip': roundTripRows,
	'small-calls': smallCallRows,
	'idle-gap': idleGapRows,
	pipelined: throughputRows,
	pool: poolRows,
	crash: crashRows,
	wire: wireFormRows,
	wasm: wasmRows,
	scarb: scarbRows,
	'expansion-cache': expansionCacheRows,
	'expand-project': expandProjectRows,
};

const USAGE = `Usage: node dist/bench/run.js [--quick] [--out FILE] [--rows ${Object.keys(GROUPS).join(',')}] [--markdown]`;

/** Runs the bench with command-line arguments; returns the report. */
export async function runBench(argv: string[]): Promise<BenchReport> {
	const { values } = parseArgs({
		args: argv,
		options: {
			quick: { type: 'boolean', default: false },
			out: { type: 'string' },
			rows: { type: 'string' },
			markdown: { type: 'boolean', default: false },
			help: { type: 'boolean', default: false },
		},
	});
	if (values.help) {
		console.log(USAGE);
		process.exit(0);
	}
	const groups = values.rows ? values.rows.split(',') : Object.keys(GROUPS);
	for (const g of groups) if (!(g in GROUPS)) throw new Error(`--rows: unknown row group "${g}"\n${USAGE}`);
	const out = values.out ?? join(BENCH_SOURCE_DIR, 'results', values.quick ? 'quick.json' : 'latest.json');
	const progress = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

	progress('building fixtures');
	const fixtures = await buildBenchFixtures();
	const ra = await probeRa(progress);
	const ctx: BenchContext = { fixtures, ra, sizes: values.quick ? QUICK_SIZES : FULL_SIZES, progress };
	const report: BenchReport = {
		startedAt: new Date().toISOString(),
		quick: values.quick,
		machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform}-${process.arch}` },
		raServer: 'path' in ra ? { path: ra.path, apiVersion: ra.apiVersion } : { skipped: ra.missing },
		rows: [],
	};
	const failed: string[] = [];
	for (const g of groups) {
		try {
			report.rows.push(...(await GROUPS[g](ctx)));
		} catch (error) {
			// One broken row group must not throw away the others' numbers: report it and go on.
			failed.push(g);
			progress(`row group "${g}" failed: ${(error as Error).stack ?? String(error)}`);
		}
	}

	console.log(values.markdown ? formatMarkdown(report.rows) : formatTable(report.rows));
	writeReport(out, report);
	progress(`wrote ${out}`);
	if (failed.length) throw new Error(`row groups failed: ${failed.join(', ')} (see above)`);
	return report;
}

/** Finds rust-analyzer's server and asks its API version; a missing or unusable server skips its rows. */
async function probeRa(progress: (line: string) => void): Promise<BenchContext['ra']> {
	const found = findRaServer();
	if ('missing' in found) {
		progress(`rust-analyzer rows skipped: ${found.missing}`);
		return found;
	}
	const server = RaServer.spawn(found.path);
	try {
		const apiVersion = await server.apiVersion();
		if (apiVersion < 5) return { missing: `${found.path} speaks API version ${apiVersion}; the bench writes version 5+ FlatTrees` };
		progress(`rust-analyzer proc-macro server: ${found.path} (API version ${apiVersion})`);
		return { path: found.path, apiVersion };
	} catch (error) {
		return { missing: `${found.path} did not answer ApiVersionCheck: ${(error as Error).message}` };
	} finally {
		await server.close();
	}
}

runBench(process.argv.slice(2)).then(
	() => process.exit(0),
	(error: unknown) => {
		console.error(`bench: ${(error as Error).stack ?? String(error)}`);
		process.exit(1);
	},
);
