/**
 * `expandProject`: the reference compiler driver. It reads like its steps: find the sources, start
 * a pool of hosts, build and load the project's macro packages into every host, expand the files
 * over the pool, run each library's post-process step over the aux data, write the expanded files.
 *
 * Output is deterministic: every file's result is kept until all are done, then files, diagnostics
 * and aux data are taken in sorted file order, so one host or eight give the same bytes.
 */
import { availableParallelism } from 'node:os';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { ExpansionCache, ExpansionSession, type ExpansionCacheOptions, type ExpansionCacheStats, type FileExpansions } from '../expansion-cache/index.js';
import type { MacroHostOptions } from '../options.js';
import { displayPath } from '../packages/errors.js';
import { loadProject, type LoadedProject } from '../packages/load-project.js';
import { defaultCacheDir, type BuildOptions } from '../packages/options.js';
import { countSeverities, inFile, type DriverDiagnostic } from '../../expansion/diagnostics.js';
import { fromPackageWarning } from './package-diagnostics.js';
import { DEFAULT_RECURSION_LIMIT, expandSource, type AuxEntry, type MacroCaller, type SourceExpansion } from '../../expansion/expansion-engine.js';
import { MacroRegistry, type RegistryPackage } from '../../expansion/macro-registry.js';
import { MAX_RECURSION_LIMIT, type SourcePackage } from '../../protocol/expand-source.js';
import type { HostPool } from '../host-pool.js';
import { findSourceFiles, type SourceFileEntry } from './source-files.js';

/** Options of {@link expandProject}. */
export interface ExpandProjectOptions {
	/**
	 * Where the expanded files go, mirroring their paths in the project (`<out>/src/lib.cairo`).
	 * The default directory is emptied first; a directory you name is not.
	 * @default `<project>/target/expanded`
	 */
	readonly outDir?: string;
	/**
	 * How many host processes expand files in parallel (never more than there are files).
	 * @default the number of CPU cores
	 */
	readonly jobs?: number;
	/**
	 * How deep macro output may keep calling macros.
	 * @default 64
	 */
	readonly recursionLimit?: number;
	/**
	 * Check every macro's REPLACE output before splicing it (see ExpandSourceOptions.checkOutput).
	 * @default true
	 */
	readonly checkOutput?: boolean;
	/** How the macro packages are built (cache directory, cargo, progress). */
	readonly build?: BuildOptions;
	/** Options of every host process. */
	readonly host?: MacroHostOptions;
	/**
	 * Diagnostics name files relative to this directory (absolute when outside it).
	 * @default process.cwd()
	 */
	readonly displayRoot?: string;
	/**
	 * Write the expanded files; false only computes them.
	 * @default true
	 */
	readonly write?: boolean;
	/**
	 * The expansion cache (docs/caching.md): false turns it off; an object sets its directory and a
	 * remote cache. A build whose calls all hit starts no host.
	 * @default on, in `<build cache directory>/expansions`, with the remote of MACRO_HOST_REMOTE_CACHE if set
	 */
	readonly expansionCache?: false | ExpansionCacheOptions;
	/**
	 * Expand every call twice, in two different hosts; a call whose results differ gets a warning
	 * and is not cached.
	 * @default false
	 */
	readonly checkDeterminism?: boolean;
	/**
	 * Send each whole source to a host, which runs the engine and calls the macros in process
	 * (protocol/expand-source.ts), when the expansion cache is off and there is no determinism check.
	 * The first such request that fails (a crash, a timeout) turns it off for the rest of the run, and
	 * that source is expanded call by call, where the crash path names the call. False: always call by call.
	 * @default true
	 */
	readonly expandInHosts?: boolean;
}

/** One source file after expansion. */
export interface ExpandedFile {
	/** Absolute path of the source. */
	readonly path: string;
	/** Path relative to the project root (`src/lib.cairo`). */
	readonly relativePath: string;
	/** The path diagnostics print. */
	readonly displayPath: string;
	/** Where the expanded text was (or would be) written. */
	readonly outputPath: string;
	/** False when the source could not be read (nothing is written for it). */
	readonly isReadable: boolean;
	/** The source as read ('' when it could not be read). */
	readonly source: string;
	/** The expanded text. */
	readonly text: string;
	/** Macro calls sent to a host for this file. */
	readonly expansions: number;
}

/** The closing numbers of a run. */
export interface ExpansionSummary {
	readonly files: number;
	readonly expansions: number;
	readonly errors: number;
	readonly warnings: number;
	readonly notes: number;
}

/** Result of {@link expandProject}. */
export interface ProjectExpansion {
	/** The loaded project: packages, their libraries and macros. */
	readonly project: LoadedProject;
	/** Every source file, in sorted order. */
	readonly files: ExpandedFile[];
	/** Every diagnostic: the package warnings of the build, then per file in sorted file order, then the post-process ones in package order. */
	readonly diagnostics: DriverDiagnostic[];
	readonly summary: ExpansionSummary;
	/** The output directory (absolute). */
	readonly outDir: string;
	/** How many hosts ran (or would have: 0 are started when every call hit; see hostsStarted). */
	readonly jobs: number;
	/** How many host processes the run started. */
	readonly hostsStarted: number;
	/** What the expansion cache did; undefined when it was off. */
	readonly cache: ExpansionCacheStats | undefined;
	/** How many sources a host expanded whole (see ExpandProjectOptions.expandInHosts); the others went call by call. */
	readonly sourcesInHosts: number;
}

/**
 * Expands every `.cairo` file under `<projectDir>/src`. Throws what loadProject throws (ManifestError,
 * ToolchainNotFoundError, PackageBuildError, a library that does not load) and HostStartError; anything
 * a macro or a host does during expansion becomes a diagnostic, and the run always finishes.
 */
export async function expandProject(projectDir: string, options: ExpandProjectOptions = {}): Promise<ProjectExpansion> {
	const root = resolve(projectDir.endsWith('Scarb.toml') ? dirname(projectDir) : projectDir);
	const outDir = resolve(options.outDir ?? join(root, 'target', 'expanded'));
	const displayRoot = options.displayRoot ?? process.cwd();
	const recursionLimit = validateRecursionLimit(options.recursionLimit ?? DEFAULT_RECURSION_LIMIT);
	validateOutDir(root, outDir);
	const sources = findSourceFiles(root);
	const jobs = Math.max(1, Math.min(options.jobs ?? availableParallelism(), sources.length));

	// ---- Expansion cache integration (client/expansion-cache/): hosts start on the first miss ----
	const cacheWarnings: DriverDiagnostic[] = [];
	const cache = ExpansionCache.open(options.expansionCache, {
		buildCacheDir: options.build?.cacheDir ?? defaultCacheDir(options.build?.env),
		onWarning: (message) => cacheWarnings.push({ severity: 'warning', code: 'expansion-cache', message }),
	});
	const pool = new ExpansionSession({ size: jobs, host: options.host, cache, checkDeterminism: options.checkDeterminism });
	// Without a cache every call goes to a host: they boot while the project loads (100–200 ms of a run).
	if (cache === undefined) pool.prestart();
	try {
		const project = await loadProject(pool, root, options.build);
		for (const pkg of project.packages) if (!pkg.expansionCache) pool.excludeFromCache(pkg.library);
		const registry = new MacroRegistry(project.packages);
		// Whole-file entries are keyed with every option that changes what a file expands to.
		const fileExpansions = pool.fileExpansions(project.packages, { recursionLimit, checkOutput: options.checkOutput ?? true });
		const hostSources = options.expandInHosts === false ? undefined : HostSources.of(pool.sourceExpander(), project.packages, recursionLimit, options.checkOutput ?? true);
		// Each file is written as soon as it is expanded, while the hosts work on the others.
		const writer = options.write ?? true ? new OutputWriter(outDir, options.outDir === undefined, displayRoot) : undefined;
		const results = await mapWithLimit(sources, pool.size * 2, async (source) => {
			const result = await expandFile(source, { registry, caller: pool.caller(), recursionLimit, checkOutput: options.checkOutput, outDir, displayRoot, fileExpansions, hostSources });
			writer?.write(result.file);
			return result;
		});

		const manifestText = (path: string): string | undefined => project.resolved.packages.find((m) => m.manifestPath === path)?.text;
		const diagnostics = project.warnings.map((w) => fromPackageWarning(w, displayPath(w.manifestPath, displayRoot), manifestText(w.manifestPath)));
		diagnostics.push(...results.flatMap((r) => r.diagnostics));
		diagnostics.push(...(await postProcessAll(pool, project, results.flatMap((r) => r.aux))));
		const files = results.map((r) => r.file);
		if (writer !== undefined) diagnostics.push(...writer.diagnostics(files));
		await cache?.flush();
		diagnostics.push(...cacheWarnings);

		const counts = countSeverities(diagnostics);
		const expansions = files.reduce((n, f) => n + f.expansions, 0);
		const summary = { files: files.length, expansions, ...counts };
		return { project, files, diagnostics, summary, outDir, jobs: pool.size, hostsStarted: pool.hostsStarted, cache: cache?.stats, sourcesInHosts: hostSources?.expanded ?? 0 };
	} finally {
		await pool.close();
	}
}

/**
 * Refuses an output directory that would overwrite the sources or be read as sources next time:
 * the project root itself, or anywhere inside its `src/`.
 */
export function validateOutDir(projectRoot: string, outDir: string): void {
	const root = resolve(projectRoot);
	const out = resolve(outDir);
	const src = join(root, 'src');
	if (out === root || out === src || out.startsWith(src + sep)) {
		throw new RangeError(`the output directory ${out} would overwrite the project's sources (or be read as sources): choose one outside ${src}`);
	}
}

/** Checks a recursion limit: a whole number from 1. */
export function validateRecursionLimit(limit: number): number {
	if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RECURSION_LIMIT) {
		throw new TypeError(`The "recursionLimit" option must be a whole number from 1 to ${MAX_RECURSION_LIMIT}, got ${JSON.stringify(limit)} (${typeof limit})`);
	}
	return limit;
}

interface FileResult {
	file: ExpandedFile;
	diagnostics: DriverDiagnostic[];
	aux: AuxEntry[];
}

async function expandFile(
	source: SourceFileEntry,
	context: {
		registry: MacroRegistry;
		caller: MacroCaller;
		recursionLimit: number;
		checkOutput: boolean | undefined;
		outDir: string;
		displayRoot: string;
		fileExpansions?: FileExpansions;
		hostSources?: HostSources;
	},
): Promise<FileResult> {
	const shown = displayPath(source.path, context.displayRoot);
	const base = { path: source.path, relativePath: source.relativePath, displayPath: shown, outputPath: join(context.outDir, source.relativePath) };
	let text: string;
	try {
		// Sync: a source is small, and fs/promises' open/fstat/read/close, each a thread-pool round trip,
		// cost about 0.4 ms a file on a busy machine, as much as expanding 4 of its calls.
		text = readFileSync(source.path, 'utf8');
	} catch (error) {
		const diagnostic: DriverDiagnostic = { severity: 'error', code: 'io', file: shown, message: `cannot read ${shown}: ${(error as Error).message}` };
		return { file: { ...base, isReadable: false, source: '', text: '', expansions: 0 }, diagnostics: [diagnostic], aux: [] };
	}
	const { fileExpansions, hostSources } = context;
	const expanded = await (fileExpansions !== undefined
		? fileExpansions.expand(text, context.caller, (caller) => expandSource(text, { ...context, caller }))
		: hostSources !== undefined
			? hostSources.expand(text, () => expandSource(text, context))
			: expandSource(text, context));
	return {
		file: { ...base, isReadable: true, source: text, text: expanded.text, expansions: expanded.expansions },
		diagnostics: expanded.diagnostics.map((d) => inFile(d, shown)),
		aux: expanded.aux,
	};
}

/**
 * Larger sources go call by call: a whole source travels in one message, and a host refuses messages over
 * 256 MiB at their header (a UTF-16 unit is at most 3 bytes of UTF-8, and the reply carries the text again).
 */
const MAX_SOURCE_CHARS = 32 * 1024 * 1024;

/**
 * Whole sources expanded in the hosts (HostPool.expandSource): one request per file, the engine and the
 * macro calls in the host. The first request that fails turns the route off for the rest of the run, and
 * each source whose request failed is expanded here, call by call: the crash path then answers the call
 * that crashed (or hung) as it always does, and every other call of the file goes on. So a crash costs the
 * host one more death than call by call would, once per run (plus the whole-source requests already
 * queued behind it), and a hung macro one more timeout.
 */
class HostSources {
	#failed = false;
	/** Sources a host expanded. */
	expanded = 0;

	private constructor(
		private readonly pool: HostPool,
		private readonly packages: SourcePackage[],
		private readonly recursionLimit: number,
		private readonly checkOutput: boolean,
	) {}

	/** The route, when `pool` serves whole sources (see ExpansionSession.sourceExpander) and some package provides macros. */
	static of(pool: HostPool | undefined, packages: readonly RegistryPackage[], recursionLimit: number, checkOutput: boolean): HostSources | undefined {
		// With no macro at all the engine makes no call: no need to send the sources anywhere.
		if (pool === undefined || packages.every((p) => p.macros.length === 0)) return undefined;
		const wire = packages.map((p) => ({ name: p.name, library: p.library, macros: p.macros.map((m) => ({ name: m.name, kind: m.kind })) }));
		return new HostSources(pool, wire, recursionLimit, checkOutput);
	}

	/** Expands `text` in a host; after a failure (this one or an earlier one), or for a huge source, with `callByCall`. */
	async expand(text: string, callByCall: () => Promise<SourceExpansion>): Promise<SourceExpansion> {
		if (this.#failed || text.length > MAX_SOURCE_CHARS) return callByCall();
		try {
			const result = await this.pool.expandSource({ text, packages: this.packages, recursionLimit: this.recursionLimit, checkOutput: this.checkOutput });
			this.expanded++;
			return result;
		} catch {
			this.#failed = true;
			return callByCall();
		}
	}
}

/** Runs each library's post-process step once, over its aux data in file order; its diagnostics, in package order. */
async function postProcessAll(pool: Pick<ExpansionSession, 'libraries' | 'postProcess'>, project: LoadedProject, aux: readonly AuxEntry[]): Promise<DriverDiagnostic[]> {
	const diagnostics: DriverDiagnostic[] = [];
	for (const pkg of project.packages) {
		if (pool.libraries.get(pkg.library)?.hasPostProcess !== true) continue;
		const auxData = aux.filter((a) => a.library === pkg.library).map((a) => a.value);
		try {
			const result = await pool.postProcess({ library: pkg.library, auxData });
			for (const d of result.diagnostics) {
				// Post-processing concerns the whole run: its diagnostics name the package, not a place in a file.
				diagnostics.push({ severity: d.severity, message: d.message, package: pkg.name, ...(d.code === undefined ? {} : { code: d.code }) });
			}
		} catch (error) {
			diagnostics.push({
				severity: 'error',
				code: 'post-process-failed',
				package: pkg.name,
				message: `the post-process step of package \`${pkg.name}\` failed: ${(error as Error)?.message ?? String(error)}`,
			});
		}
	}
	return diagnostics;
}

/**
 * Writes the expanded files, each as it comes; the default output directory is emptied first (as the
 * writer is made, before any file is expanded), so no stale file stays. A file that cannot be written is
 * an `io` error, reported in file order.
 */
class OutputWriter {
	// Sync, as sources are read (see expandFile); each directory is made once.
	readonly #made = new Set<string>();
	readonly #failed = new Map<ExpandedFile, DriverDiagnostic>();

	constructor(outDir: string, isDefaultOut: boolean, private readonly displayRoot: string) {
		if (isDefaultOut) rmSync(outDir, { recursive: true, force: true });
	}

	/** Writes one file (nothing for a source that could not be read). */
	write(file: ExpandedFile): void {
		if (!file.isReadable) return;
		try {
			const dir = dirname(file.outputPath);
			if (!this.#made.has(dir)) {
				mkdirSync(dir, { recursive: true });
				this.#made.add(dir);
			}
			writeFileSync(file.outputPath, file.text);
		} catch (error) {
			const shown = displayPath(file.outputPath, this.displayRoot);
			this.#failed.set(file, { severity: 'error', code: 'io', file: file.displayPath, message: `cannot write ${shown}: ${(error as Error).message}` });
		}
	}

	/** The write errors, in the order of `files`. */
	diagnostics(files: readonly ExpandedFile[]): DriverDiagnostic[] {
		return files.flatMap((file) => this.#failed.get(file) ?? []);
	}
}

/** Maps `items` with at most `limit` calls of `work` running at once; results in input order. */
async function mapWithLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
	const results: R[] = new Array(items.length);
	let next = 0;
	const worker = async (): Promise<void> => {
		while (next < items.length) {
			const index = next++;
			results[index] = await work(items[index]);
		}
	};
	await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
	return results;
}
