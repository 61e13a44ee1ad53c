/**
 * Spans made relative to a call, and back. A cache entry must not depend on where its call stands in
 * the file, or code that moves would miss: the key hashes the input's spans minus the call's start,
 * and a stored result keeps its spans that way until a hit adds the new call's start back.
 *
 * Arithmetic is modulo 2^32 (a macro's output may point before its call), and MH_SPAN_CALL_SITE stays
 * as it is. A span whose relative value would itself read as MH_SPAN_CALL_SITE cannot round-trip:
 * such a call is not cached (the functions return undefined).
 */
import type { Diagnostic, Span } from '../../protocol/expand.js';
import { RECORD_WIDTH, RecordField, SPAN_CALL_SITE } from '../../protocol/token-stream.js';

/** A copy of `records` with every span shifted by `-base` (`direction` -1) or `+base` (+1); undefined when a span would collide with MH_SPAN_CALL_SITE. */
export function shiftRecords(records: ArrayLike<number>, base: number, direction: 1 | -1): Uint32Array | undefined {
	const out = Uint32Array.from(records as ArrayLike<number>);
	for (let i = 0; i < out.length; i += RECORD_WIDTH) {
		for (const field of SPAN_FIELDS) {
			const value = out[i + field];
			if (value === SPAN_CALL_SITE) continue;
			const shifted = shift(value, base, direction);
			if (shifted === SPAN_CALL_SITE) return undefined;
			out[i + field] = shifted;
		}
	}
	return out;
}

/** Diagnostics with their spans shifted like {@link shiftRecords}; undefined on a collision. */
export function shiftDiagnostics(diagnostics: readonly Diagnostic[], base: number, direction: 1 | -1): Diagnostic[] | undefined {
	const out: Diagnostic[] = [];
	for (const d of diagnostics) {
		if (d.span === undefined) {
			out.push({ ...d });
			continue;
		}
		const span = shiftSpan(d.span, base, direction);
		if (span === undefined) return undefined;
		out.push({ ...d, span });
	}
	return out;
}

/** One span shifted; undefined on a collision. */
export function shiftSpan(span: Span, base: number, direction: 1 | -1): Span | undefined {
	const start = span.start === SPAN_CALL_SITE ? SPAN_CALL_SITE : shift(span.start, base, direction);
	const end = span.end === SPAN_CALL_SITE ? SPAN_CALL_SITE : shift(span.end, base, direction);
	if ((start === SPAN_CALL_SITE) !== (span.start === SPAN_CALL_SITE) || (end === SPAN_CALL_SITE) !== (span.end === SPAN_CALL_SITE)) return undefined;
	return { start, end };
}

const SPAN_FIELDS = [RecordField.spanStart, RecordField.spanEnd] as const;

function shift(value: number, base: number, direction: 1 | -1): number {
	return (value + direction * base) >>> 0;
}
