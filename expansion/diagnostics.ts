/**
 * The driver's diagnostics: a macro's (or the host's) diagnostic placed in a file, with its span
 * resolved (a missing or generated span becomes the call site), plus the ones the driver makes
 * itself (recursion limit, ambiguous macro, an item with no end…). Plain data: a host that expands a
 * whole source (expandSource) sends them back as they are.
 */
import type { Diagnostic, DiagnosticCode, Severity, Span } from '../protocol/expand.js';
import type { MacroKind } from '../protocol/library.js';
import { SPAN_CALL_SITE } from '../protocol/token-stream.js';
import type { TokenStreamProblem } from '../tokens/output-check.js';

/** Codes for diagnostics the driver makes itself. */
export type DriverDiagnosticCode =
	/** Macro output kept calling macros deeper than the recursion limit. */
	| 'recursion-limit'
	/** Two packages provide the macro a call names. */
	| 'ambiguous-macro'
	/** A call or an item the driver could not delimit (unbalanced delimiters, an item with no end). */
	| 'malformed-call'
	/** A macro attribute on a struct field or an enum variant, where no macro runs; left as written. */
	| 'misplaced-attribute'
	/** The source file does not tokenize; it is written out unexpanded. */
	| 'tokenize'
	/** An attribute or derive name no package provides, close to one that a package does ("did you mean"). */
	| 'unknown-macro'
	/** A macro's REPLACE output is not code: a token that does not read back as itself, or unbalanced delimiters. */
	| 'invalid-output'
	/** The host refused the request (e.g. the macro's library went away) or the client failed. */
	| 'request-failed'
	/** A source file could not be read, or an expanded file not written. */
	| 'io'
	/** A library's post-process step could not run. */
	| 'post-process-failed'
	/** A warning about a macro package from building it (a Cargo/Scarb name mismatch, a prebuilt library not used). */
	| 'package-warning'
	/** The expansion cache could not be used as asked (a remote cache unavailable, a corrupted entry); the build went on without it. */
	| 'expansion-cache';

/** The macro call a diagnostic came from. */
export interface MacroOrigin {
	readonly kind: MacroKind;
	/** The macro name; for derives, the names sent in one call, joined by ", ". */
	readonly name: string;
	/** The package that provides it. */
	readonly package: string;
}

/**
 * How messages name a macro call, the one way: "`add!`", "`#[trace]`", "derive `ToValue`" (for a
 * derive call, `name` is the names sent together, joined by ", ").
 */
export function macroLabel(kind: MacroKind, name: string): string {
	return kind === 'inline' ? `\`${name}!\`` : kind === 'attribute' ? `\`#[${name}]\`` : `derive \`${name}\``;
}

/** "`x!` is ambiguous: packages `a` and `b` both provide inline macro `x`". */
export function describeAmbiguity(kind: MacroKind, name: string, packages: readonly string[]): string {
	return `${macroLabel(kind, name)} is ambiguous: packages ${packages.map((p) => `\`${p}\``).join(' and ')} both provide ${kind} macro \`${name}\``;
}

/** A diagnostic of the run, ready to render. */
export interface DriverDiagnostic {
	readonly severity: Severity;
	/** The message; lines after the first are details (a crash report's stderr, a help line). */
	readonly message: string;
	/** Set on diagnostics that macro-host or the driver made (never on a macro's own). */
	readonly code?: DiagnosticCode | DriverDiagnosticCode;
	/** The file, as displayed (relative to the working directory); undefined for project-wide ones (post-process). */
	readonly file?: string;
	/** Where it points in that file, in UTF-8 bytes; never the generated-span value. */
	readonly span?: Span;
	/** The macro call it came from, if any. */
	readonly macro?: MacroOrigin;
	/** For a post-process diagnostic: the package whose library made it. */
	readonly package?: string;
}

/** The error for a REPLACE output that is not code (see tokens/output-check.ts): at the call, naming the macro. */
export function invalidOutput(origin: MacroOrigin, problem: TokenStreamProblem, callSite: Span): DriverDiagnostic {
	return {
		severity: 'error',
		code: 'invalid-output',
		message:
			`${macroLabel(origin.kind, origin.name)} (package \`${origin.package}\`) returned code that does not parse: ${problem.message}\n` +
			'help: the call is left as written; `macro-host expand` shows the whole output',
		span: callSite,
		macro: origin,
	};
}

/** Places a macro's diagnostic at `callSite` when it has no span of its own (or a generated one). */
export function fromMacroDiagnostic(diagnostic: Diagnostic, callSite: Span, macro: MacroOrigin): DriverDiagnostic {
	const span = diagnostic.span !== undefined && diagnostic.span.start !== SPAN_CALL_SITE && diagnostic.span.end !== SPAN_CALL_SITE ? diagnostic.span : callSite;
	const out: { -readonly [K in keyof DriverDiagnostic]: DriverDiagnostic[K] } = { severity: diagnostic.severity, message: diagnostic.message, span: { start: span.start, end: span.end }, macro };
	if (diagnostic.code !== undefined) out.code = diagnostic.code;
	return out;
}

/** The same diagnostic, placed in `file`. */
export function inFile(diagnostic: DriverDiagnostic, file: string): DriverDiagnostic {
	return { ...diagnostic, file };
}

/** Counts by severity. */
export interface SeverityCounts {
	errors: number;
	warnings: number;
	notes: number;
}

/** How many errors, warnings and notes are in `diagnostics`. */
export function countSeverities(diagnostics: readonly DriverDiagnostic[]): SeverityCounts {
	const counts: SeverityCounts = { errors: 0, warnings: 0, notes: 0 };
	for (const d of diagnostics) {
		if (d.severity === 'error') counts.errors++;
		else if (d.severity === 'warning') counts.warnings++;
		else counts.notes++;
	}
	return counts;
}
