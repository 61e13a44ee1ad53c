/** Expanding macro calls, and the post-processing pass over aux data. */
import type { TokenStream } from './token-stream.js';

/** A byte range of the source file, end exclusive (UTF-8 bytes). */
export interface Span {
	start: number;
	end: number;
}
export namespace Span {
	export function create(start: number, end: number): Span {
		return { start, end };
	}
	export function is(value: unknown): value is Span {
		if (value === null || typeof value !== 'object') return false;
		const v = value as Span;
		return isU32(v.start) && isU32(v.end) && v.start <= v.end;
	}
}

function isU32(n: unknown): n is number {
	return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

/** What became of the call. */
export type Outcome = 'leave' | 'replace' | 'remove' | 'bail';
export namespace Outcome {
	/** Keep the original code. */
	export const leave: Outcome = 'leave';
	/** Replace the call (or item) by `tokens`. */
	export const replace: Outcome = 'replace';
	/** Delete the call (or item). */
	export const remove: Outcome = 'remove';
	/** The macro gave up (or crashed): keep the original code and report the diagnostics. */
	export const bail: Outcome = 'bail';
	/** Outcomes in MH_OUTCOME_* order. */
	export const fromAbi: readonly Outcome[] = [leave, replace, remove, bail];
}

export type Severity = 'error' | 'warning' | 'note';
export namespace Severity {
	export const error: Severity = 'error';
	export const warning: Severity = 'warning';
	export const note: Severity = 'note';
	/** Severities in MH_SEVERITY_* order. */
	export const fromAbi: readonly Severity[] = [error, warning, note];
}

/** Codes for diagnostics the host or client makes itself (a macro's own diagnostics have none). */
export type DiagnosticCode =
	| 'panic'
	| 'host-crash'
	| 'timeout'
	| 'quarantined'
	| 'host-unavailable'
	| 'bad-result'
	/** A wasm macro trapped (unreachable, out-of-bounds access, stack exhaustion). @since protocol version 1 */
	| 'wasm-trap'
	/** A wasm macro needed more memory than the host's page limit. @since protocol version 1 */
	| 'wasm-memory-limit'
	/** A native macro took the host over its memory limit (`memoryLimitMiB`); the host was restarted. @since protocol version 1 */
	| 'memory-limit'
	/** Two hosts expanded the call differently (the client's `--check-determinism`). @since protocol version 1 */
	| 'nondeterministic'
	/** The macro's library was dropped: loading it into a restarted host crashed that host. @since protocol version 1 */
	| 'library-dropped';

/** A diagnostic about one call. */
export interface Diagnostic {
	severity: Severity;
	message: string;
	/** Where it points, in source bytes; absent means the call site. */
	span?: Span;
	/** Set on diagnostics made by macro-host rather than by the macro. */
	code?: DiagnosticCode;
}

/** Fields every expand request shares. */
export interface ExpandParamsBase {
	/** Span of the whole call in the source; diagnostics without a span point here. */
	callSite?: Span;
	/** Restrict the lookup to this library id (needed when two libraries provide the name). */
	library?: string;
}

/** Parameters for an {@link ExpandInlineRequest}: `name!(args)`. */
export interface ExpandInlineParams extends ExpandParamsBase {
	name: string;
	/** The tokens between the delimiters. */
	args: TokenStream;
}

/** Parameters for an {@link ExpandAttributeRequest}: `#[name(args)] item`. */
export interface ExpandAttributeParams extends ExpandParamsBase {
	name: string;
	/** The attribute's arguments (empty for `#[name]`). */
	args: TokenStream;
	/** The item the attribute is on, without this attribute. */
	item: TokenStream;
}

/** Parameters for an {@link ExpandDeriveRequest}: `#[derive(A, B)] item`. */
export interface ExpandDeriveParams extends ExpandParamsBase {
	/** Derive names, expanded in this order. */
	derives: string[];
	item: TokenStream;
}

/** Result of every expand request. */
export interface ExpandResult {
	outcome: Outcome;
	/** The replacement, for outcome "replace". */
	tokens?: TokenStream;
	diagnostics: Diagnostic[];
	/**
	 * JSON value the macro attached for `postProcess`; absent when none. For expandDerive it is an
	 * array with one entry per derive that attached aux data, in derive order.
	 */
	auxData?: unknown;
}

/** Parameters for a {@link PostProcessRequest}. */
export interface PostProcessParams {
	/** The library id. */
	library: string;
	/** Every aux data value the library's macros produced during the run, in order. */
	auxData: unknown[];
}

/** Result of a {@link PostProcessRequest}. */
export interface PostProcessResult {
	diagnostics: Diagnostic[];
}
