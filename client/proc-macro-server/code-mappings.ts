/**
 * Code mappings of a v2 expansion, formed as Scarb's host forms them (`generate_code_mappings` in Scarb's
 * `compiler/plugin/proc_macro/v2/host`), so the language server maps diagnostics in generated code back to the same
 * places as with Scarb:
 *
 * 1. for each piece of output whose origin is not exactly the call site, a zero-width mapping at its start, to the
 *    start of its origin (so zero-width diagnostics land at token starts);
 * 2. for each piece of output, its byte range to its origin span;
 * 3. last, the whole output to the call site (`CallSite`).
 *
 * A derive's mappings are shifted by the bytes of the derives expanded before it (`withOffset`).
 */
import type { CodeMapping, TextSpan } from '../../protocol/proc-macro-server.js';

/**
 * The pieces of an expansion's output, in order: piece i is `widths[i]` bytes of output that came from the source
 * span `starts[i]..ends[i]`. Parallel arrays, so a stream of any size costs three typed arrays.
 */
export interface OutputPieces {
	readonly widths: Uint32Array;
	readonly starts: Uint32Array;
	readonly ends: Uint32Array;
}

/** The mappings of one expansion's output; see the module comment. */
export function generateCodeMappings(pieces: OutputPieces, callSite: TextSpan, offset = 0): CodeMapping[] {
	const { widths, starts, ends } = pieces;
	const n = widths.length;
	const zeroWidth: CodeMapping[] = [];
	const full: CodeMapping[] = [];
	let position = 0;
	for (let i = 0; i < n; i++) {
		const start = starts[i];
		const end = ends[i];
		const at = position + offset;
		if (start !== callSite.start || end !== callSite.end) {
			zeroWidth.push({ span: { start: at, end: at }, origin: { Span: { start, end: start } } });
		}
		position += widths[i];
		full.push({ span: { start: at, end: position + offset }, origin: { Span: { start, end } } });
	}
	const mappings = zeroWidth.concat(full);
	mappings.push({ span: { start: offset, end: position + offset }, origin: { CallSite: { start: callSite.start, end: callSite.end } } });
	return mappings;
}
