/** Summaries of repeated timings: median with min and max, in milliseconds. */

/** A summary of n samples. */
export interface Summary {
	/** Median of the samples (ms, or the row's unit). */
	median: number;
	min: number;
	max: number;
	/** Number of samples. */
	n: number;
}

/** Summarises samples (at least one). */
export function summarize(samples: readonly number[]): Summary {
	if (samples.length === 0) throw new Error('summarize: no samples');
	const sorted = [...samples].sort((a, b) => a - b);
	const mid = sorted.length >> 1;
	const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
	return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

/** Runs `once` `warmup` times untimed, then `runs` times timed; returns the summary in ms. */
export async function measure(runs: number, warmup: number, once: () => Promise<unknown> | unknown): Promise<Summary> {
	for (let i = 0; i < warmup; i++) await once();
	const samples: number[] = [];
	for (let i = 0; i < runs; i++) {
		const started = performance.now();
		await once();
		samples.push(performance.now() - started);
	}
	return summarize(samples);
}

/**
 * Times several contenders in turn, round after round (`warmup` untimed rounds, then `runs` timed):
 * a slow phase of the machine then lands on every contender alike, not on whichever ran during it.
 * Returns each contender's summary in ms, by name.
 */
export async function measureInterleaved<K extends string>(
	runs: number,
	warmup: number,
	contenders: Record<K, () => Promise<unknown> | unknown>,
): Promise<Record<K, Summary>> {
	const names = Object.keys(contenders) as K[];
	const samples = new Map<K, number[]>(names.map((name) => [name, []]));
	for (let round = -warmup; round < runs; round++) {
		for (const name of names) {
			const started = performance.now();
			await contenders[name]();
			if (round >= 0) samples.get(name)!.push(performance.now() - started);
		}
	}
	return Object.fromEntries(names.map((name) => [name, summarize(samples.get(name)!)])) as Record<K, Summary>;
}
