/**
 * Errors of the package flow. Callers branch on the class and its fields, never on message text; every message is
 * complete on its own (file:line:col for manifest problems, the package and cargo's rendered output for builds).
 */
import { isAbsolute, relative } from 'node:path';

/** One problem at a place in a manifest. */
export interface ManifestDiagnostic {
	/** Absolute path of the Scarb.toml. */
	file: string;
	/** 1-based line. */
	line: number;
	/** 1-based column. */
	column: number;
	message: string;
}

/** Formats a diagnostic as `file:line:col: message`, with the file relative to `cwd` when it lies inside it. */
export function formatManifestDiagnostic(d: ManifestDiagnostic, cwd: string = process.cwd()): string {
	return `${displayPath(d.file, cwd)}:${d.line}:${d.column}: ${d.message}`;
}

/** A path as a person wants to read it: relative to `cwd` when inside it, absolute otherwise. */
export function displayPath(file: string, cwd: string = process.cwd()): string {
	const rel = relative(cwd, file);
	return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/**
 * A manifest could not be read, or the dependency graph it describes cannot be resolved (syntax errors, missing or
 * mistyped fields, unknown dependency paths, version conflicts and mismatches). Carries every problem found, each at
 * its `file:line:col`; the message is those lines.
 */
export class ManifestError extends Error {
	override name = 'ManifestError';
	/** Every problem, in the order found. */
	readonly diagnostics: readonly ManifestDiagnostic[];

	constructor(diagnostics: readonly ManifestDiagnostic[]) {
		super(diagnostics.map((d) => formatManifestDiagnostic(d)).join('\n'));
		this.diagnostics = diagnostics;
	}
}

/** Which tool was missing. */
export type RustTool = 'cargo' | 'rustc';

/** cargo or rustc could not be found: building a macro package needs a Rust toolchain. */
export class ToolchainNotFoundError extends Error {
	override name = 'ToolchainNotFoundError';

	constructor(
		/** The tool that was looked for. */
		readonly tool: RustTool,
		/** The macro package that needed it. */
		readonly packageName: string,
		/** Every place that was searched. */
		readonly searched: readonly string[],
	) {
		super(
			`${tool} was not found on PATH or in ~/.cargo/bin, and building the macro package ${packageName} needs it. ` +
				`Install Rust with rustup (https://rustup.rs) and make sure ${tool} is on PATH or in ~/.cargo/bin.`,
		);
	}
}

/** What a wasm compiler lacked: the compiler itself, or its standard library for wasm32-unknown-unknown. */
export type WasmToolchainProblem = 'missingCompiler' | 'missingTarget';

/** How to get a wasm-capable rustc; the same advice in every wasm toolchain message. */
const WASM_INSTALL_ADVICE =
	'Install it with: apt-get install rustc libstd-rust-dev-wasm32, or point the wasmRustc option or MACRO_HOST_WASM_RUSTC at a rustc that has that target.';

/**
 * The rustc that builds `[cairo-plugin] target = "wasm"` packages is missing, or has no standard library for
 * wasm32-unknown-unknown. A {@link ToolchainNotFoundError} with `tool` "rustc", so callers that handle a missing
 * toolchain handle this one too.
 */
export class WasmToolchainNotFoundError extends ToolchainNotFoundError {
	override name = 'WasmToolchainNotFoundError';

	constructor(
		/** Which part is missing. */
		readonly problem: WasmToolchainProblem,
		/** The compiler's path (never looked up on PATH). */
		readonly compiler: string,
		packageName: string,
		/** For `missingTarget`: where the standard library was looked for, or what the compiler said. */
		readonly detail?: string,
	) {
		super('rustc', packageName, [compiler]);
		this.message =
			problem === 'missingCompiler'
				? `${compiler} was not found, and building the wasm macro package ${packageName} needs it ` +
					`(a rustc with a standard library for wasm32-unknown-unknown). ${WASM_INSTALL_ADVICE}`
				: `${compiler} has no standard library for wasm32-unknown-unknown (${detail}), and building ` +
					`the wasm macro package ${packageName} needs it. ${WASM_INSTALL_ADVICE}`;
	}
}

/** One diagnostic of the Rust compiler, from cargo's JSON messages, placed at its primary span. */
export interface CompilerDiagnostic {
	/** `error`, `warning`, `note`, `help`, or `failure-note` / `error: internal compiler error` as rustc says. */
	level: string;
	/** The headline (`cannot find value \`x\` in this scope`). */
	message: string;
	/** rustc's code (`E0425`), or undefined. */
	code: string | undefined;
	/** Absolute path of the file, or undefined when the diagnostic has no span (`aborting due to …`). */
	file: string | undefined;
	/** 1-based line and column (characters) of the primary span's start, and of its end. */
	line: number | undefined;
	column: number | undefined;
	endLine: number | undefined;
	endColumn: number | undefined;
	/** The diagnostic as rustc renders it for people. */
	rendered: string;
}

/** cargo (or, for a wasm package, rustc) failed to build a macro package: usually a Rust compile error in its sources. */
export class PackageBuildError extends Error {
	override name = 'PackageBuildError';

	constructor(
		/** The macro package's name, as its Scarb.toml spells it. */
		readonly packageName: string,
		/** Its version. */
		readonly version: string,
		/** Absolute path of its Scarb.toml. */
		readonly manifestPath: string,
		/** What cargo and rustc said (diagnostics as rustc renders them), without cargo's progress lines. */
		readonly rendered: string,
		/** The compiler's exit code; undefined when it was killed by a signal or could not start. */
		readonly exitCode: number | undefined,
		/** The tool that failed: `cargo`, or the path of the rustc that builds wasm packages. */
		readonly compiler: string = 'cargo',
		/** The target it built for, when not the host's own (`wasm32-unknown-unknown`). */
		readonly target?: string,
		/** The compiler's diagnostics with their places, when it gave them as JSON (cargo builds); empty otherwise. */
		readonly diagnostics: readonly CompilerDiagnostic[] = [],
	) {
		super(
			`could not compile macro package ${packageName} v${version} (${displayPath(manifestPath)})` +
				`${target ? ` for ${target}` : ''}; ${compiler} said:\n${rendered.trimEnd()}`,
		);
	}
}
