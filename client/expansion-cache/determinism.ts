/**
 * `--check-determinism`: two results of one call, from two different hosts, compared. A difference
 * becomes a short description for a warning at the call site (and the call is never cached).
 */
import type { ExpandResult } from '../../protocol/expand.js';
import { printTokens } from '../../tokens/token-printer.js';

// How much of each differing output a warning shows.
const CONTEXT_CHARS = 40;

/** A short description of how two results of one call differ; undefined when they are the same. */
export function describeDifference(first: ExpandResult, second: ExpandResult): string | undefined {
	if (first.outcome !== second.outcome) return `the first host answered ${first.outcome}, the second ${second.outcome}`;
	const a = first.tokens === undefined ? '' : printTokens(first.tokens);
	const b = second.tokens === undefined ? '' : printTokens(second.tokens);
	if (a !== b) return `the outputs differ: ${excerpt(a, b)}`;
	if (first.tokens !== undefined && second.tokens !== undefined && !sameNumbers(first.tokens.records, second.tokens.records)) {
		return 'the outputs have the same text but different spans or spacing';
	}
	const da = JSON.stringify(first.diagnostics);
	const db = JSON.stringify(second.diagnostics);
	if (da !== db) return `the diagnostics differ: ${excerpt(da, db)}`;
	const xa = JSON.stringify(first.auxData ?? null);
	const xb = JSON.stringify(second.auxData ?? null);
	if (xa !== xb) return `the aux data differs: ${excerpt(xa, xb)}`;
	return undefined;
}

/** Both texts around their first difference: `…same part|first… vs …same part|second…`. */
function excerpt(a: string, b: string): string {
	let at = 0;
	while (at < a.length && at < b.length && a[at] === b[at]) at++;
	const from = Math.max(0, at - 10);
	const show = (s: string): string => `\`${from > 0 ? '…' : ''}${s.slice(from, at + CONTEXT_CHARS)}${s.length > at + CONTEXT_CHARS ? '…' : ''}\``;
	return `${show(a)} vs ${show(b)}`;
}

function sameNumbers(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
	if (a.length !== b.length) return false;
	for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
	return true;
}
