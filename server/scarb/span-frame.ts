/**
 * The span coordinates Scarb gives a macro, and the way back. Scarb's host moves every input span
 * so that the expanded code starts at 0 (scarb/src/compiler/plugin/proc_macro/v2/host/{inline,
 * derive,attribute}/span_adapter.rs), and passes an "adapted" call site placed right after the input,
 * as wide as the real call site. Spans a macro returns (on tokens or diagnostics) come back through
 * the same frame: inside the input they move back by the same amount, in the adapted call site
 * they are the call site, anywhere else they are no place of the source.
 */
import type { Span } from '../../protocol/expand.js';
import { SPAN_CALL_SITE } from '../../protocol/token-stream.js';

/** One call's frame: where the input starts in the source, how wide it is, and the call site. */
export class SpanFrame {
	/** The adapted call site the macro is given. */
	readonly adaptedCallSite: Span;

	/**
	 * @param base source offset that becomes 0 for the macro
	 * @param width width of the input in the macro's coordinates (source offsets base..base+width)
	 * @param callSite the real call site, when the request gave one
	 */
	constructor(
		readonly base: number,
		readonly width: number,
		readonly callSite: Span | undefined,
	) {
		const callSiteWidth = callSite ? callSite.end - callSite.start : 0;
		this.adaptedCallSite = { start: width, end: width + callSiteWidth };
	}

	/** A source offset in the macro's coordinates; a generated token's (SPAN_CALL_SITE) is the adapted call site's start. */
	adaptStart(start: number): number {
		return start === SPAN_CALL_SITE ? this.adaptedCallSite.start : Math.max(0, start - this.base);
	}

	/** A source end offset in the macro's coordinates; a generated token's is the adapted call site's end. */
	adaptEnd(end: number): number {
		return end === SPAN_CALL_SITE ? this.adaptedCallSite.end : Math.max(0, end - this.base);
	}

	/**
	 * The source offset of a span the macro returned on an output token, or -1 when it maps to no
	 * source text of the input (it is in or past the adapted call site, or straddles the input's end).
	 */
	tokenSourceStart(start: number, end: number): number {
		return end <= this.width && start <= end ? start + this.base : -1;
	}

	/**
	 * The source span of a diagnostic's span, as Scarb's adapters move it back: inside the input, or
	 * inside the call site. A span that lands anywhere else is clamped to the call site (undefined),
	 * as Scarb falls back to the call site when no node of the file encloses the span.
	 */
	diagnosticSpan(start: number, end: number): Span | undefined {
		if (end < start) return undefined;
		if (end <= this.width) return { start: start + this.base, end: end + this.base };
		const cs = this.callSite;
		if (cs && start >= this.adaptedCallSite.start && end <= this.adaptedCallSite.end) {
			return { start: cs.start + (start - this.width), end: cs.start + (end - this.width) };
		}
		return undefined;
	}
}
