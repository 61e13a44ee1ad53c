/** What every row of the bench is given: fixtures, the rust-analyzer server (if any) and the run's sizes. */
import type { BenchFixtures } from './build-fixtures.js';

/** Sizes and repetitions of one run. */
export interface BenchSizes {
	/** Token counts of the round-trip rows. */
	tokenCounts: number[];
	/** Timed runs per round-trip measurement (the issue asks for at least 20). */
	roundTripRuns: number;
	/**
	 * Untimed warm-up of each round-trip size: rounds enough to carry this many tokens (at least 3, at
	 * most 2,000), so both servers are measured in the steady state a long-lived server is in (our
	 * host's small-call path keeps getting faster for about 2,000 calls, as V8 optimises it).
	 */
	warmupTokens: number;
	/** Timed runs of each cold start. */
	coldStartRuns: number;
	/** Expansions in the pipelined-throughput and pool rows. */
	pipelined: number;
	/** Expansions of the 1 ms `spin` macro in the pool row. */
	spinCalls: number;
	/** Crash → recovery repetitions. */
	crashRuns: number;
	/** Timed repetitions of each throughput measurement (pipelined and pool rows). */
	throughputRepeats: number;
	/** Timed rounds of the small-call rows (the issue asks for at least 2,000 after the warm-up). */
	smallCallRuns: number;
	/** Untimed warm-up rounds of the small-call rows. */
	smallCallWarmup: number;
	/** Source files of the expansion-cache rows' generated project. */
	cacheFiles: number;
	/** Macro calls per file of that project. */
	cacheCallsPerFile: number;
	/** Timed builds of each expansion-cache row. */
	cacheRepeats: number;
}

/** The full run, and the smoke run CI does (`--quick`). */
export const FULL_SIZES: BenchSizes = {
	tokenCounts: [20, 2_000, 20_000, 200_000],
	roundTripRuns: 25,
	warmupTokens: 4_000_000,
	coldStartRuns: 20,
	pipelined: 20_000,
	spinCalls: 400,
	crashRuns: 10,
	throughputRepeats: 5,
	smallCallRuns: 3_000,
	smallCallWarmup: 2_000,
	cacheFiles: 200,
	cacheCallsPerFile: 50,
	cacheRepeats: 3,
};
export const QUICK_SIZES: BenchSizes = {
	tokenCounts: [20, 2_000],
	roundTripRuns: 3,
	warmupTokens: 0,
	coldStartRuns: 2,
	pipelined: 200,
	spinCalls: 20,
	crashRuns: 2,
	throughputRepeats: 1,
	smallCallRuns: 20,
	smallCallWarmup: 5,
	cacheFiles: 4,
	cacheCallsPerFile: 5,
	cacheRepeats: 1,
};

/** Shared by every row. */
export interface BenchContext {
	fixtures: BenchFixtures;
	/** rust-analyzer's server binary, or why its rows are skipped. */
	ra: { path: string; apiVersion: number } | { missing: string };
	sizes: BenchSizes;
	/** Progress lines (stderr), so stdout carries only the table. */
	progress(line: string): void;
}

/** The server path when rust-analyzer's rows run, with the library built. */
export function raTarget(ctx: BenchContext): { path: string; dylib: string } | undefined {
	if (!('path' in ctx.ra) || !ctx.fixtures.raLibrary) return undefined;
	return { path: ctx.ra.path, dylib: ctx.fixtures.raLibrary };
}

/** Why rust-analyzer's rows are skipped (for the table). */
export function raSkipNote(ctx: BenchContext): string {
	if ('missing' in ctx.ra) return `skipped: ${ctx.ra.missing}`;
	if (!ctx.fixtures.raLibrary) return `skipped: ${ctx.fixtures.raSkipReason ?? 'the proc-macro crate was not built'}`;
	return '';
}

/** Bounds of the untimed warm-up rounds of one size (see BenchSizes.warmupTokens). */
const MIN_WARMUP_ROUNDS = 3;
const MAX_WARMUP_ROUNDS = 2000;

/** Untimed warm-up rounds for calls of `tokens` tokens: enough to carry `sizes.warmupTokens`, within the bounds. */
export function warmupRounds(sizes: BenchSizes, tokens: number): number {
	return Math.min(MAX_WARMUP_ROUNDS, Math.max(MIN_WARMUP_ROUNDS, Math.ceil(sizes.warmupTokens / tokens)));
}
