/**
 * Whole sources in one request (`expandSource`): the host runs the expansion engine (expansion/,
 * the same code a client's driver runs) over a source's text and calls the macros in process, so a
 * build pays one message each way per file instead of one per macro call, and the engine's work is
 * spread over the pool's hosts instead of sitting on the client's one thread.
 *
 * Every macro call inside is served exactly as the same call sent alone or in a batch would be (same
 * checks, same answers, same repair of fds 1 and 2 after it), and the engine is the client's, so the
 * result is the one the client would have computed call by call, byte for byte.
 *
 * When a macro kills the host (or a call inside hangs past the request timeout), the request has no
 * answer: a client then expands that source call by call, where the crash path names the culprit
 * (client/driver/). The calls inside are noted in the progress file as a batch's are, so the timeout
 * applies to each call, not to the whole source.
 *
 * @since expandSource
 */
import type { DiagnosticCode, Severity, Span } from './expand.js';
import type { MacroKind } from './library.js';

/** A macro package as the engine's registry needs it: its name (for messages), its library id, its macros. */
export interface SourcePackage {
	name: string;
	/** The id of a library loaded in this host. */
	library: string;
	macros: { name: string; kind: MacroKind }[];
}

/** The deepest recursion limit a driver (and so this request) accepts. */
export const MAX_RECURSION_LIMIT = 100_000;

/** Parameters for an {@link ExpandSourceRequest} (methods.ts). */
export interface ExpandSourceParams {
	/** The source text. */
	text: string;
	/** The packages whose macros the source may call, in load order (the driver's registry). */
	packages: SourcePackage[];
	/** How deep macro output may keep calling macros (1 to {@link MAX_RECURSION_LIMIT}). */
	recursionLimit: number;
	/** Check every REPLACE output before splicing it (the driver's `checkOutput`). */
	checkOutput: boolean;
	/**
	 * The request's number (1 to 2^32-1) for the progress file, as a batch's (protocol/batch.ts): before each
	 * call the host notes this id and the call's index there, so the client times each call, not the whole
	 * source. Absent: the host notes no progress.
	 */
	id?: number;
}

/** Codes for diagnostics the driver's engine makes itself (beside the host's {@link DiagnosticCode}s). */
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

/** A diagnostic of a driver's run, ready to render. */
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

/** One aux data value a macro attached, with the library it came from. */
export interface AuxEntry {
	readonly library: string;
	readonly value: unknown;
}

/** Result of an {@link ExpandSourceRequest}. */
export interface ExpandSourceResult {
	/** The expanded source (the original text when nothing was expanded or it does not tokenize). */
	text: string;
	/** Diagnostics in source order of their call sites (no `file`). */
	diagnostics: DriverDiagnostic[];
	/** Aux data in call order. */
	aux: AuxEntry[];
	/** How many macro calls ran. */
	expansions: number;
}
