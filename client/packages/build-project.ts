/**
 * Turns a project into loadable macro libraries: resolve the graph, then for each macro package use the allowed
 * prebuilt library, or the cached one, or build it (with cargo, or for a wasm package with the wasm rustc) and
 * publish it into the cache with an atomic rename.
 *
 * Cache layout under the cache directory:
 * - `libs/<key>/lib<crate>.<ext>`, `libs/<key>/<crate>.wasm`: the published library of one cache key (a file there
 *   is always complete);
 * - `build/<crate>-<key16>/Cargo.toml`: the generated manifest (the user's folder stays clean);
 * - `target/`: cargo's shared target dir (cargo's own lock serialises concurrent builds in it);
 * - `wasm-sdk/<key>/libmacro_host_sdk.rlib`: the SDK compiled for wasm32, per wasm compiler and SDK content;
 * - `rustc-info.json`, `wasm-rustc-info.json`: the cached `rustc -vV` answers of the two compilers.
 *
 * The mtime of `libs/<key>` is the entry's use stamp: every hit refreshes it, and `macro-host cache prune` removes the
 * entries unused for longest (cache-gc.ts).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { publishFile, tempName, writeIfChanged } from './atomic-file.js';
import { markEntryUsed } from './cache-inventory.js';
import { computeCacheKey } from './cache-key.js';
import { crateNameFor, generateCargoManifest } from './cargo-manifest.js';
import { runCargoBuild, type CargoBuildRequest, type CargoBuildResult } from './cargo-build.js';
import { ToolchainNotFoundError } from './errors.js';
import type { PackageManifest, PluginTarget } from './manifest.js';
import { normalizeBuildOptions, type BuildOptions, type NormalizedBuildOptions } from './options.js';
import { findPrebuiltLibrary, packageTargetTriple, sharedLibraryExtension } from './prebuilt.js';
import { resolveProject, type ResolvedMacroPackage, type ResolvedProject } from './resolve.js';
import { findTool, rustcVersionInfo } from './toolchain.js';
import { buildWasmModule, requireWasmCompiler, WASM_RUSTC_FLAGS } from './wasm-build.js';

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
	/** Absolute path of the library to load (a shared library, or a `.wasm` module): in the cache, or the package's prebuilt file. */
	libraryPath: string;
	/** What it was built as (`[cairo-plugin] target`). */
	target: PluginTarget;
	/** Whether its macro calls may be cached: false only for a native package with `[cairo-plugin] expansion-cache = false`. */
	expansionCache: boolean;
	source: LibrarySource;
	/** The cache key (sha256 hex); undefined for a prebuilt library. */
	cacheKey: string | undefined;
	/** Names of the packages that depend on it. */
	requiredBy: string[];
	/** Warnings cargo (or the wasm rustc) printed when it was built now; empty otherwise. */
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
	/** How many wasm packages the wasm rustc compiled (0 when everything came from the cache or was prebuilt). */
	wasmRuns: number;
	/** Whether any rustc was spawned for `rustc -vV` (false when the cached answers were still valid). */
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
	const state: BuildState = { opts, runCargo, rustcVerbose: undefined, wasmRustcVerbose: undefined, rustcSpawned: false, cargoRuns: 0, wasmRuns: 0 };
	const packages: BuiltMacroPackage[] = [];
	for (const resolved of project.macroPackages) packages.push(await buildMacroPackage(resolved, state));
	return { project, packages, cargoRuns: state.cargoRuns, wasmRuns: state.wasmRuns, rustcSpawned: state.rustcSpawned };
}

interface BuildState {
	opts: NormalizedBuildOptions;
	runCargo: CargoRunner;
	rustcVerbose: string | undefined;
	wasmRustcVerbose: string | undefined;
	rustcSpawned: boolean;
	cargoRuns: number;
	wasmRuns: number;
}

/** The fields every {@link BuiltMacroPackage} of one package shares, whatever the library's source. */
type PackageBase = Pick<BuiltMacroPackage, 'name' | 'version' | 'manifestPath' | 'requiredBy' | 'warnings' | 'target' | 'expansionCache'>;

async function buildMacroPackage(resolved: ResolvedMacroPackage, state: BuildState): Promise<BuiltMacroPackage> {
	const { manifest } = resolved;
	const { opts } = state;
	const base: PackageBase = {
		name: manifest.name,
		version: manifest.versionText,
		manifestPath: manifest.manifestPath,
		requiredBy: resolved.requiredBy,
		warnings: '',
		target: manifest.pluginTarget,
		// Wasm macros run sandboxed, without outside inputs: they are always cacheable.
		expansionCache: manifest.pluginTarget === 'wasm' || manifest.expansionCache,
	};

	if (resolved.prebuiltAllowed && opts.allowPrebuilt) {
		const prebuilt = findPrebuiltLibrary(manifest, packageTargetTriple(manifest));
		if (prebuilt) return { ...base, libraryPath: prebuilt, source: 'prebuilt', cacheKey: undefined };
	}
	if (manifest.pluginTarget === 'wasm') return buildWasmPackage(manifest, base, state);

	const rustcVerbose = await ensureRustcInfo(state, manifest.name);
	const key = computeCacheKey(manifest, { sdkDir: opts.sdkDir, rustcVerbose, env: opts.env });
	const crate = crateNameFor(manifest.name);
	const libDir = join(opts.cacheDir, 'libs', key);
	const libraryPath = join(libDir, `lib${crate}.${sharedLibraryExtension()}`);
	// Stamp before checking: a prune that picked this entry earlier sees the stamp move and puts the entry back.
	if (markEntryUsed(libDir) && existsSync(libraryPath)) return { ...base, libraryPath, source: 'cache', cacheKey: key };

	const cargo = opts.cargo ?? findTool('cargo', opts.env).path;
	if (!cargo) throw new ToolchainNotFoundError('cargo', manifest.name, findTool('cargo', opts.env).searched);
	// The key in the library name keeps two versions of one package apart in the shared target dir.
	const libName = `${crate}_${key.slice(0, 16)}`;
	const buildDir = join(opts.cacheDir, 'build', `${crate}-${key.slice(0, 16)}`);
	const cargoManifestPath = join(buildDir, 'Cargo.toml');
	writeIfChanged(cargoManifestPath, generateCargoManifest({ manifest, sdkDir: opts.sdkDir, libName }));
	// A running build's directory counts as used, so a prune does not take it for the leftover of a failed build.
	markEntryUsed(buildDir);

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
	publishFile(built.artifact, libraryPath);
	return { ...base, libraryPath, source: 'built', cacheKey: key, warnings: built.warnings };
}

/**
 * A wasm package: the key comes from the wasm rustc's `-vV` (answered from the cache file when that compiler has not
 * changed), so a hit spawns no compiler at all; a miss compiles into a private directory and publishes the module.
 */
async function buildWasmPackage(manifest: PackageManifest, base: PackageBase, state: BuildState): Promise<BuiltMacroPackage> {
	const { opts } = state;
	const rustc = opts.wasmRustc;
	requireWasmCompiler(rustc, manifest.name);
	if (state.wasmRustcVerbose === undefined) {
		const info = await rustcVersionInfo(rustc, opts.env, opts.cacheDir, 'wasm-rustc-info.json');
		state.rustcSpawned ||= info.spawned;
		state.wasmRustcVerbose = info.verbose;
	}
	const rustcVerbose = state.wasmRustcVerbose;
	// rustc reads none of cargo's variables (RUSTFLAGS, ...); the flags macro-host passes are what varies.
	const key = computeCacheKey(manifest, { sdkDir: opts.sdkDir, rustcVerbose, env: {}, compilerFlags: WASM_RUSTC_FLAGS });
	const crate = crateNameFor(manifest.name);
	const libDir = join(opts.cacheDir, 'libs', key);
	const libraryPath = join(libDir, `${crate}.wasm`);
	if (markEntryUsed(libDir) && existsSync(libraryPath)) return { ...base, libraryPath, source: 'cache', cacheKey: key };

	// A directory of its own per build, so that two processes building the same package do not share rustc's output.
	const outDir = tempName(join(opts.cacheDir, 'build', `${crate}-${key.slice(0, 16)}-wasm`));
	state.wasmRuns++;
	try {
		const built = await buildWasmModule({ rustc, rustcVerbose, manifest, sdkDir: opts.sdkDir, cacheDir: opts.cacheDir, outDir, env: opts.env, onProgress: opts.onProgress });
		publishFile(built.artifact, libraryPath);
		return { ...base, libraryPath, source: 'built', cacheKey: key, warnings: built.warnings };
	} finally {
		rmSync(outDir, { recursive: true, force: true });
	}
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
