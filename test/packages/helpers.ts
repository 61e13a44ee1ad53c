/** Small real packages and projects on disk for the package tests, and the paths they share. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The examples folder. */
export const EXAMPLES = join(ROOT, 'examples');
/** The Rust fixture library built by the global setup (exports add, instrument, ToValue, ...). */
export const RUST_FIXTURE_LIBRARY = join(ROOT, 'test', 'fixtures', 'build', 'librust_macros.so');

const created: string[] = [];

/** A fresh temporary directory, removed by {@link removeTempDirs}. */
export function tempDir(prefix: string): string {
	const dir = mkdtempSync(join(tmpdir(), `macro-host-${prefix}-`));
	created.push(dir);
	return dir;
}

/** Removes every directory {@link tempDir} made in this test file (cargo target dirs are large). */
export function removeTempDirs(): void {
	for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Writes `files` (relative path → text) under `dir`. */
export function writeFiles(dir: string, files: Record<string, string>): void {
	for (const [path, text] of Object.entries(files)) {
		mkdirSync(join(dir, path, '..'), { recursive: true });
		writeFileSync(join(dir, path), text);
	}
}

/** Rust source of a one-macro library: inline `NAME!(x)` → `x` (REPLACE), with `marker` in its doc. */
export function inlineMacroSource(name: string, marker = 'v1'): string {
	return `use macro_host_sdk::{export_macros, ProcMacroResult, TokenStream};

fn ${name}(args: &TokenStream) -> ProcMacroResult {
    ProcMacroResult::replace(args.clone())
}

export_macros! {
    /// ${marker}
    inline ${name},
}
`;
}

/** Writes a macro package (Scarb.toml with [cairo-plugin], src/lib.rs) into `dir`. */
export function writeMacroPackage(dir: string, options: { name: string; version?: string; source?: string; extraToml?: string }): string {
	writeFiles(dir, {
		'Scarb.toml': `[package]\nname = "${options.name}"\nversion = "${options.version ?? '0.1.0'}"\n\n[cairo-plugin]\n${options.extraToml ?? ''}`,
		'src/lib.rs': options.source ?? inlineMacroSource(`${options.name}_m`),
	});
	return dir;
}

/** Writes a Cairo package whose [dependencies] are `deps` (name → TOML inline table text). */
export function writeCairoPackage(dir: string, name: string, deps: Record<string, string>, extraToml = ''): string {
	const lines = Object.entries(deps).map(([dep, spec]) => `${dep} = ${spec}`);
	writeFiles(dir, {
		'Scarb.toml': `[package]\nname = "${name}"\nversion = "0.1.0"\n\n[dependencies]\n${lines.join('\n')}\n${extraToml}`,
		'src/lib.cairo': 'fn main() {}\n',
	});
	return dir;
}

/** A `cargo` that must never run: it leaves `marker` behind and fails. */
export function failingCargo(dir: string): { cargo: string; marker: string } {
	mkdirSync(dir, { recursive: true });
	const cargo = join(dir, 'cargo');
	const marker = join(dir, 'cargo-was-run');
	writeFileSync(cargo, `#!/bin/sh\necho "$@" > "${marker}"\necho "this cargo must not run" >&2\nexit 101\n`);
	chmodSync(cargo, 0o755);
	return { cargo, marker };
}

/** The SDK crate, for the path dependency of an author's own Cargo.toml. */
export const SDK_DIR = join(ROOT, 'sdk', 'rust');

/**
 * Writes a macro package in Scarb's layout into `dir`: Scarb.toml with [cairo-plugin] plus the author's own Cargo.toml
 * (a cdylib depending on the SDK by path), and src/lib.rs. `cargoName` is the Cargo package name (default: the Scarb one).
 */
export function writeOwnCargoPackage(
	dir: string,
	options: { name: string; cargoName?: string; version?: string; source?: string; cargoExtra?: string; scarbExtra?: string },
): string {
	const version = options.version ?? '0.1.0';
	writeFiles(dir, {
		'Scarb.toml': `[package]\nname = "${options.name}"\nversion = "${version}"\n\n[cairo-plugin]\n${options.scarbExtra ?? ''}`,
		'Cargo.toml':
			`[package]\nname = "${options.cargoName ?? options.name}"\nversion = "${version}"\nedition = "2021"\n\n` +
			`[lib]\ncrate-type = ["cdylib"]\n\n[dependencies]\nmacro-host-sdk = { path = ${JSON.stringify(SDK_DIR)} }\n${options.cargoExtra ?? ''}`,
		'src/lib.rs': options.source ?? inlineMacroSource(`${options.name}_m`),
	});
	return dir;
}
