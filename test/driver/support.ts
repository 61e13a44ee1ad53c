/**
 * Shared pieces of the driver tests: paths, one build cache for every driver test (kept between runs
 * under the git-ignored test/fixtures/build/, so only the first run compiles), Cairo projects written
 * to temporary directories, and output normalised for golden files.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { buildProject } from '../../dist/client/packages/build-project.js';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The examples folder. */
export const EXAMPLES = join(ROOT, 'examples');
/** The example project the README's demo expands. */
export const HELLO = join(EXAMPLES, 'hello-macros');
/** The test-only macro package (outer, inner, again, complain, tally, gone, rename, derive Hello). */
export const NEST_MACROS = fileURLToPath(new URL('./fixtures/nest-macros/', import.meta.url));
/** One cache for every driver test file: cargo's lock and the cache's atomic publish make sharing safe. */
export const CACHE_DIR = join(ROOT, 'test', 'fixtures', 'build', 'driver-cache');
/** Golden files. */
export const GOLDEN = fileURLToPath(new URL('./golden/', import.meta.url));

const created: string[] = [];

/** A fresh temporary directory, removed by {@link removeTempDirs}. */
export function tempDir(prefix: string): string {
	const dir = mkdtempSync(join(tmpdir(), `macro-host-driver-${prefix}-`));
	created.push(dir);
	return dir;
}

/** Removes every directory {@link tempDir} made in this test file. */
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

/** Macro packages a test project can depend on, by name. */
export const PACKAGES = {
	nest_macros: NEST_MACROS,
	twin_macros: fileURLToPath(new URL('./fixtures/twin-macros/', import.meta.url)),
	bad_output_macros: fileURLToPath(new URL('./fixtures/bad-output-macros/', import.meta.url)),
	add_macro: join(EXAMPLES, 'add-macro'),
	crash_macro: join(EXAMPLES, 'crash-macro'),
	to_value_macro: join(EXAMPLES, 'to-value-macro'),
	tracing_macro: join(EXAMPLES, 'tracing-macro'),
} as const;

/** Writes a Cairo project into a new temporary directory: its Scarb.toml depends on `deps`; `sources` go under it. */
export function writeProject(deps: readonly (keyof typeof PACKAGES)[], sources: Record<string, string>): string {
	const dir = tempDir('project');
	const lines = deps.map((name) => `${name} = { path = "${relative(dir, PACKAGES[name])}" }`);
	writeFiles(dir, { 'Scarb.toml': `[package]\nname = "app"\nversion = "0.1.0"\n\n[dependencies]\n${lines.join('\n')}\n`, ...sources });
	return dir;
}

/** Builds every macro package the driver tests use into the shared cache (a no-op once cached). */
export async function buildAllPackages(): Promise<void> {
	const project = writeProject(Object.keys(PACKAGES) as (keyof typeof PACKAGES)[], {});
	await buildProject(project, { cacheDir: CACHE_DIR });
}

/** Output with the machine's paths replaced: the cache directory, cache keys, and any `extra` paths given. */
export function normalize(text: string, extra: Record<string, string> = {}): string {
	let out = text.replaceAll(CACHE_DIR, '<cache>').replace(/\/libs\/[0-9a-f]{64}\//g, '/libs/<key>/');
	for (const [path, name] of Object.entries(extra)) out = out.replaceAll(path, name);
	// Build progress depends on whether the cache was warm.
	return out
		.split('\n')
		.filter((line) => !/^(Compiling|Built|Waiting for) /.test(line))
		.join('\n');
}

/** Compares `actual` with a golden file; UPDATE_GOLDEN=1 rewrites the file instead. */
export function expectGolden(name: string, actual: string): void {
	const path = join(GOLDEN, name);
	if (process.env.UPDATE_GOLDEN === '1') {
		mkdirSync(join(path, '..'), { recursive: true });
		writeFileSync(path, actual);
	}
	expect(actual).toBe(readFileSync(path, 'utf8'));
}
