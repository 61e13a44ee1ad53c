/**
 * Turns a project into loadable macro libraries: resolve the graph, then for each macro package use the allowed
 * prebuilt library, or the cached one, or build it with cargo and publish it into the cache with an atomic rename.
 *
 * Cache layout under the cache directory:
 * - `libs/<key>/lib<crate>.<ext>`: the published library of one cache key (a file there is always complete);
 * - `build/<crate>-<key16>/Cargo.toml`: the generated manifest (the user's folder stays clean);
 * - `target/`: cargo's shared target dir (cargo's own lock serialises concurrent builds in it);
 * - `rustc-info.json`: the cached `rustc -vV` answer.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeCacheKey } from './cache-key.js';
import { crateNameFor, generateCargoManifest } from './cargo-manifest.js';
import { runCargoBuild, type CargoBuildRequest, type CargoBuildResult } from './cargo-build.js';
import { ToolchainNotFoundError } from './errors.js';
import { normalizeBuildOptions, type BuildOptions, type NormalizedBuildOptions } from './options.js';
import { findPrebuiltLibrary, hostTargetTriple, sharedLibraryExtension } from './prebuilt.js';
import { resolveProject, type ResolvedMacroPackage, type ResolvedProject } from './resolve.js';
import { findTool, rustcVersionInfo } from './toolchain.js';

/** Where a macro package's library came from. */
export type LibrarySource = 'prebuilt' | 'cache' | 'built';

/** A macro package with a library ready to load. */
export interface BuiltMacroPackage {
	/** Name from its Scarb.toml. */
	name: string;
	/** Version from its Scarb.toml. */
	version: string;
	/** Absolute path of its Scarb.toml. */
	manifestPath: string;
	/** Absolute path of the shared library to load: in the cache, or the package's prebuilt file. */
	libraryPath: string;
	source: LibrarySource;
	/** The cache key (sha256 hex); undefined for a prebuilt library. */
	cacheKey: string | undefined;
	/** Names of the packages that depend on it. */
	requiredBy: string[];
	/** Warnings cargo printed when it was built now; empty otherwise. */
	warnings: string;
}

/** Result of {@link buildProject}. */
export interface BuildProjectResult {
	/** The resolved graph. */
	project: ResolvedProject;
	/** Every macro package, in resolution order. */
	packages: BuiltMacroPackage[];
	/** How many times cargo ran (0 when everything came from the cache or was prebuilt). */
	cargoRuns: number;
	/** Whether rustc was spawned for `rustc -vV` (false when its cached answer was still valid). */
	rustcSpawned: boolean;
}

/** A function that runs one cargo build; replaceable for tests of the surrounding flow. */
export type CargoRunner = (request: CargoBuildRequest) => Promise<CargoBuildResult>;

/**
 * Resolves the project in `projectDir` and makes sure every macro package has a library.
 * Throws ManifestError (file:line:col problems), ToolchainNotFoundError or PackageBuildError.
 */
export async function buildProject(projectDir: string, options: BuildOptions = {}, runCargo: CargoRunner = runCargoBuild): Promise<BuildProjectResult> {
	const opts = normalizeBuildOptions(options);
	const project = resolveProject(projectDir);
	const state: BuildState = { opts, runCargo, rustcVerbose: undefined, rustcSpawned: false, cargoRuns: 0 };
	const packages: BuiltMacroPackage[] = [];
	for (const resolved of project.macroPackages) packages.push(await buildMacroPackage(resolved, state));
	return { project, packages, cargoRuns: state.cargoRuns, rustcSpawned: state.rustcSpawned };
}

interface BuildState {
	opts: NormalizedBuildOptions;
	runCargo: CargoRunner;
	rustcVerbose: string | undefined;
	rustcSpawned: boolean;
	cargoRuns: number;
}

async function buildMacroPackage(resolved: ResolvedMacroPackage, state: BuildState): Promise<BuiltMacroPackage> {
	const { manifest } = resolved;
	const { opts } = state;
	const base = { name: manifest.name, version: manifest.versionText, manifestPath: manifest.manifestPath, requiredBy: resolved.requiredBy, warnings: '' };

	if (resolved.prebuiltAllowed && opts.allowPrebuilt) {
		const prebuilt = findPrebuiltLibrary(manifest, hostTargetTriple());
		if (prebuilt) return { ...base, libraryPath: prebuilt, source: 'prebuilt', cacheKey: undefined };
	}

	const rustcVerbose = await ensureRustcInfo(state, manifest.name);
	const key = computeCacheKey(manifest, { sdkDir: opts.sdkDir, rustcVerbose, env: opts.env });
	const crate = crateNameFor(manifest.name);
	const libDir = join(opts.cacheDir, 'libs', key);
	const libraryPath = join(libDir, `lib${crate}.${sharedLibraryExtension()}`);
	if (existsSync(libraryPath)) return { ...base, libraryPath, source: 'cache', cacheKey: key };

	const cargo = opts.cargo ?? findTool('cargo', opts.env).path;
	if (!cargo) throw new ToolchainNotFoundError('cargo', manifest.name, findTool('cargo', opts.env).searched);
	// The key in the library name keeps two versions of one package apart in the shared target dir.
	const libName = `${crate}_${key.slice(0, 16)}`;
	const buildDir = join(opts.cacheDir, 'build', `${crate}-${key.slice(0, 16)}`);
	const cargoManifestPath = join(buildDir, 'Cargo.toml');
	writeIfChanged(cargoManifestPath, generateCargoManifest({ manifest, sdkDir: opts.sdkDir, libName }));

	state.cargoRuns++;
	const built = await state.runCargo({
		cargo,
		cargoManifestPath,
		targetDir: join(opts.cacheDir, 'target'),
		libName,
		manifest,
		env: opts.env,
		cwd: buildDir,
		onProgress: opts.onProgress,
	});
	publish(built.artifact, libraryPath);
	return { ...base, libraryPath, source: 'built', cacheKey: key, warnings: built.warnings };
}

/** `rustc -vV`, asked once per run (and answered from the cache file when rustc has not changed). */
async function ensureRustcInfo(state: BuildState, packageName: string): Promise<string> {
	if (state.rustcVerbose !== undefined) return state.rustcVerbose;
	const { env, cacheDir, cargo } = state.opts;
	const rustc = findTool('rustc', env);
	if (!rustc.path) {
		// With no Rust at all, name cargo: it is the tool people know to install.
		const cargoLookup = cargo ? { path: cargo, searched: [cargo] } : findTool('cargo', env);
		if (!cargoLookup.path) throw new ToolchainNotFoundError('cargo', packageName, cargoLookup.searched);
		throw new ToolchainNotFoundError('rustc', packageName, rustc.searched);
	}
	const info = await rustcVersionInfo(rustc.path, env, cacheDir);
	state.rustcSpawned ||= info.spawned;
	state.rustcVerbose = info.verbose;
	return info.verbose;
}

/** Copies the artifact beside its final name and renames it there: readers see no file or a complete one. */
function publish(artifact: string, libraryPath: string): void {
	const dir = join(libraryPath, '..');
	mkdirSync(dir, { recursive: true });
	const temp = `${libraryPath}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
	try {
		copyFileSync(artifact, temp);
		renameSync(temp, libraryPath);
	} catch (error) {
		rmSync(temp, { force: true });
		throw error;
	}
}

/** Writes `text` unless the file already holds it (atomically, since a concurrent build may read it). */
function writeIfChanged(file: string, text: string): void {
	try {
		if (readFileSync(file, 'utf8') === text) return;
	} catch {
		// Not there yet.
	}
	mkdirSync(join(file, '..'), { recursive: true });
	const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
	writeFileSync(temp, text);
	renameSync(temp, file);
}
