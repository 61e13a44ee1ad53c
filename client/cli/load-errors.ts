/**
 * A failure before any expansion (a manifest error, a missing toolchain, a compile error of a macro package, a
 * library that does not load, a host that does not start), for people and for tools. People get lines; tools get
 * diagnostic records shaped like the driver's (`DiagnosticRenderer.json`): a manifest problem and each of rustc's
 * diagnostics with its file, line and column as fields, and the text a person would read in `rendered`.
 */
import { displayPath, formatManifestDiagnostic, ManifestError, PackageBuildError, ToolchainNotFoundError } from '../packages/errors.js';

/** The lines of a failure before expansion, each printed after `error: `. */
export function describeLoadError(error: unknown): string[] {
	if (error instanceof ManifestError) return error.diagnostics.map((d) => formatManifestDiagnostic(d));
	if (error instanceof PackageBuildError || error instanceof ToolchainNotFoundError) return [error.message];
	return [(error as Error)?.message ?? String(error)];
}

/** One diagnostic record of `--message-format json` (the driver's fields; `null` where a failure has none). */
export interface LoadErrorRecord {
	readonly type: 'diagnostic';
	readonly severity: 'error' | 'warning' | 'note';
	/** `manifest`, `compile` (with rustc's own code in `rustcCode`), `toolchain` or `load`. */
	readonly code: 'manifest' | 'compile' | 'toolchain' | 'load';
	readonly message: string;
	readonly file: string | null;
	readonly line: number | null;
	readonly column: number | null;
	readonly endLine: number | null;
	readonly endColumn: number | null;
	/** The macro package it concerns, when one. */
	readonly package: string | null;
	/** rustc's code (`E0425`) for a compile diagnostic that has one. */
	readonly rustcCode: string | null;
	readonly rendered: string;
}

/**
 * The records of a failure: one per manifest problem, one per rustc diagnostic of a failed build (warnings
 * included; a build whose compiler gave none as JSON is one record with its whole output), else one record.
 */
export function loadErrorRecords(error: unknown): LoadErrorRecord[] {
	const none = { file: null, line: null, column: null, endLine: null, endColumn: null, package: null, rustcCode: null } as const;
	if (error instanceof ManifestError) {
		return error.diagnostics.map((d) => ({
			type: 'diagnostic',
			severity: 'error',
			code: 'manifest',
			message: d.message,
			...none,
			file: displayPath(d.file),
			line: d.line,
			column: d.column,
			rendered: `error: ${formatManifestDiagnostic(d)}\n`,
		}));
	}
	if (error instanceof PackageBuildError && error.diagnostics.length > 0) {
		return error.diagnostics.map((d) => ({
			type: 'diagnostic',
			severity: d.level === 'warning' ? 'warning' : d.level === 'note' || d.level === 'help' ? 'note' : 'error',
			code: 'compile',
			message: d.message,
			file: d.file === undefined ? null : displayPath(d.file),
			line: d.line ?? null,
			column: d.column ?? null,
			endLine: d.endLine ?? null,
			endColumn: d.endColumn ?? null,
			package: error.packageName,
			rustcCode: d.code ?? null,
			rendered: d.rendered,
		}));
	}
	const code = error instanceof PackageBuildError ? 'compile' : error instanceof ToolchainNotFoundError ? 'toolchain' : 'load';
	const pkg = error instanceof PackageBuildError ? error.packageName : error instanceof ToolchainNotFoundError ? error.packageName : null;
	const message = describeLoadError(error)[0]!;
	return [{ type: 'diagnostic', severity: 'error', code, message, ...none, package: pkg, rendered: `error: ${message}\n` }];
}

/** Counts of a list of records, for the summary record that always comes last. */
export function countRecords(records: readonly LoadErrorRecord[]): { errors: number; warnings: number; notes: number } {
	return {
		errors: records.filter((r) => r.severity === 'error').length,
		warnings: records.filter((r) => r.severity === 'warning').length,
		notes: records.filter((r) => r.severity === 'note').length,
	};
}
