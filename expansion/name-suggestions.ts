/**
 * "Did you mean": the loaded macro name closest to a name no package provides, as rustc suggests
 * a similar name. `#[rnage]` with `range` loaded, or `#[derive(Descrbe)]` with `Describe`, is most
 * likely a typo; left alone it would stay in the code without a word.
 *
 * The distance is the optimal string alignment distance (insertions, deletions, substitutions and
 * swaps of two neighbours, each 1), so `rnage` → `range` is 1. A name is close when the distance is
 * at most a third of its length (at least 1), or when it differs only in case. Used for macro names
 * (client/driver) and manifest keys (client/packages).
 */

/**
 * The candidate closest to `name` when one is close enough (see the module comment), else
 * undefined. Ties go to the first candidate in `candidates`' order.
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
	const limit = Math.max(1, Math.floor(name.length / 3));
	const lower = name.toLowerCase();
	let best: string | undefined;
	let bestDistance = Infinity;
	for (const candidate of candidates) {
		if (candidate === name) return undefined;
		if (candidate.toLowerCase() === lower) return candidate;
		if (Math.abs(candidate.length - name.length) > limit) continue;
		const distance = alignmentDistance(name, candidate);
		if (distance <= limit && distance < bestDistance) {
			best = candidate;
			bestDistance = distance;
		}
	}
	return best;
}

/** Optimal string alignment distance between `a` and `b` (UTF-16 units; macro names are ASCII). */
export function alignmentDistance(a: string, b: string): number {
	// Three rows of the dynamic-programming table: two back (for swaps), one back, current.
	let twoBack = new Array<number>(b.length + 1).fill(0);
	let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
	let current = new Array<number>(b.length + 1).fill(0);
	for (let i = 1; i <= a.length; i++) {
		current[0] = i;
		for (let j = 1; j <= b.length; j++) {
			const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
			let d = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
			if (i > 1 && j > 1 && a.charCodeAt(i - 1) === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === b.charCodeAt(j - 1)) {
				d = Math.min(d, twoBack[j - 2] + 1);
			}
			current[j] = d;
		}
		[twoBack, previous, current] = [previous, current, twoBack];
	}
	return previous[b.length];
}
