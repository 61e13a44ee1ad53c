/**
 * Shared pieces of the expansion cache tests: the fixture macro packages, Cairo projects written to
 * temporary directories (the driver tests' helpers), and one expand-project run with a given
 * expansion cache directory.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandProject, type ExpandProjectOptions, type ProjectExpansion } from '../../dist/client/driver/expand-project.js';
import { CACHE_DIR, tempDir, writeFiles } from '../driver/support.js';

export { CACHE_DIR, removeTempDirs, tempDir, writeFiles } from '../driver/support.js';

/** Pure macros, one that differs between hosts, failing ones (no fingerprint, no post-process). */
export const CACHE_MACROS = fileURLToPath(new URL('./fixtures/cache-macros/', import.meta.url));
/** `env_value!()`, which reads FP_MACROS_INPUT and declares it with a fingerprint. */
export const FP_MACROS = fileURLToPath(new URL('./fixtures/fp-macros/', import.meta.url));

/** Writes a Cairo project depending on the macro packages in `packageDirs` (name → directory). */
export function writeCacheProject(packageDirs: Record<string, string>, sources: Record<string, string>): string {
	const dir = tempDir('cache-project');
	const deps = Object.entries(packageDirs).map(([name, path]) => `${name} = { path = "${relative(dir, path)}" }`);
	writeFiles(dir, { 'Scarb.toml': `[package]\nname = "app"\nversion = "0.1.0"\n\n[dependencies]\n${deps.join('\n')}\n`, ...sources });
	return dir;
}

/** expand-project on `project` with the expansion cache in `cacheDir` (and the build cache shared by the driver tests). */
export function expand(project: string, cacheDir: string | false, options: ExpandProjectOptions = {}): Promise<ProjectExpansion> {
	return expandProject(project, {
		jobs: 2,
		build: { cacheDir: CACHE_DIR },
		expansionCache: cacheDir === false ? false : { dir: cacheDir, ...(typeof options.expansionCache === 'object' ? options.expansionCache : {}) },
		...omit(options, 'expansionCache'),
	});
}

/** The expanded text of one file of a run. */
export function output(run: ProjectExpansion, relativePath: string): string {
	const file = run.files.find((f) => f.relativePath === relativePath);
	if (file === undefined) throw new Error(`no file ${relativePath} in the run`);
	return readFileSync(file.outputPath, 'utf8');
}

/** The diagnostics of a run as `code severity file:line message` lines, for comparison. */
export function diagnosticLines(run: ProjectExpansion): string[] {
	return run.diagnostics.map((d) => {
		const file = run.files.find((f) => f.displayPath === d.file);
		const line = file === undefined || d.span === undefined ? '' : `:${file.source.slice(0, d.span.start).split('\n').length}`;
		return `${d.code ?? '-'} ${d.severity} ${d.file ?? ''}${line} ${d.message}`;
	});
}

function omit<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
	const { [key]: _, ...rest } = value;
	return rest;
}

export { join };
