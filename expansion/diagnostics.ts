/**
 * The driver's diagnostics: a macro's (or the host's) diagnostic placed in a file, with its span
 * resolved (a missing or generated span becomes the call site), plus the ones the driver makes
 * itself (recursion limit, ambiguous macro, an item with no end…). Plain data: a host that expands a
 * whole source (expandSource) sends them back as they are.
 */
import type { Diagnostic, Span } from '../protocol/expand.js';
import type { DriverDiagnostic, MacroOrigin } from '../protocol/expand-source.js';
import type { MacroKind } from '../protocol/library.js';
import { SPAN_CALL_SITE } from '../protocol/token-stream.js';
import type { TokenStreamProblem } from '../tokens/output-check.js';

// The diagnostics are part of the wire contract: a host that expands a whole source sends them back.
export type { DriverDiagnostic, DriverDiagnosticCode, MacroOrigin } from '../protocol/expand-source.js';

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
