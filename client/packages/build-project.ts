/**
 * Turns a project into loadable macro libraries: resolve the graph, then for each macro package use the allowed
 * prebuilt library, or the cached one, or build it (with cargo, or for a wasm package with the wasm rustc) and
 * publish it into the cache with an atomic rename. A native package is built from the author's own Cargo.toml when it
 * has one (Scarb's layout), else from a Cargo.toml macro-host generates.
 *
 * Cache layout under the cache directory:
 * - `libs/<key>/lib<crate>.<ext>`, `libs/<key>/<crate>.wasm`: the published library of one cache key (a file there
 *   is always complete);
 * - `build/<crate>-<key16>/Cargo.toml`: the generated manifest (the user's folder stays clean; a package with its own
 *   Cargo.toml is built in its folder, where cargo may write a Cargo.lock, as it does under Scarb);
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
import { computeCacheKey, computeOwnCargoCacheKey } from './cache-key.js';
import { crateNameFor, generateCargoManifest } from './cargo-manifest.js';
import { runCargoBuild, type CargoBuildRequest, type CargoBuildResult } from './cargo-build.js';
import { displayPath, ManifestError, ToolchainNotFoundError } from './errors.js';
import type { PackageManifest, PluginTarget } from './manifest.js';
import { normalizeBuildOptions, type BuildOptions, type NormalizedBuildOptions } from './options.js';
import { readOwnCargoManifest, type OwnCargoManifest } from './own-cargo-manifest.js';
import { packageNameMismatch, prebuiltMissing, type PackageWarning } from './package-warnings.js';
import { findPrebuiltLibrary, packageTargetTriple, prebuiltLibraryPath, sharedLibraryExtension } from './prebuilt.js';
import { resolveProject, type ResolvedMacroPackage, type ResolvedProject } from './resolve.js';
import { scarbPackageId } from './scarb-identity.js';
import { findTool, rustcVersionInfo } from './toolchain.js';
import { buildWasmModule, requireWasmCompiler, WASM_RUSTC_FLAGS } from './wasm-build.js';

/** Where a macro package's library came from. */
export type LibrarySource = 'prebuilt' | 'cache' | 'built';

/** Where a package's Cargo.toml comes from: `own` (the author's, beside its Scarb.toml), `generated`, or `none` (wasm). */
export type CargoLayout = 'own' | 'generated' | 'none';

/** A macro package with a library ready to load. */
export interface BuiltMacroPackage {
	/** Name from its Scarb.toml. */
	name: string;
	/** Version from its Scarb.toml. */
	version: string;
	/** Absolute path of its Scarb.toml. */
	manifestPath: string;
	/** Its id as Scarb serializes it: `<name> <version> (path+file:///…/Scarb.toml)` (see scarb-identity.ts). */
	packageId: string;
	/** How its Cargo.toml came about. */
	cargoLayout: CargoLayout;
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
	/** Warnings about the package itself (a Cargo/Scarb name mismatch, a prebuilt library not used), on every run. */
	packageWarnings: PackageWarning[];
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
 * Throws ManifestError (file:line:col problems, in a Scarb.toml or an author's Cargo.toml), ToolchainNotFoundError or
 * PackageBuildError.
 */
export async function buildProject(projectDir: string, options: BuildOptions = {}, runCargo: CargoRunner = runCargoBuild): Promise<BuildProjectResult> {
	// Options are checked before the manifests are read, so a bad option is reported first.
	const builder = new PackageBuilder(options, runCargo);
	const project = resolveProject(projectDir);
	const packages: BuiltMacroPackage[] = [];
	for (const resolved of project.macroPackages) packages.push(await builder.build(resolved));
	return { project, packages, cargoRuns: builder.cargoRuns, wasmRuns: builder.wasmRuns, rustcSpawned: builder.rustcSpawned };
}

/** Options of one {@link PackageBuilder.build}. */
export interface PackageBuildRequest {
	/**
	 * Whether an allowed prebuilt library may be used; false builds from source (after the prebuilt library failed to
	 * load).
	 * @default true
	 */
	readonly usePrebuilt?: boolean;
}

/** The fields every {@link BuiltMacroPackage} of one package shares, whatever the library's source. */
type PackageBase = Omit<BuiltMacroPackage, 'libraryPath' | 'source' | 'cacheKey'>;

/**
 * Builds macro packages one at a time with one set of options, counting compiler runs and asking each compiler for
 * `rustc -vV` once. buildProject uses one for a whole project; loadProject uses it again to build a package whose
 * prebuilt library does not load.
 */
export class PackageBuilder {
	/** How many times cargo ran. */
	cargoRuns = 0;
	/** How many wasm packages the wasm rustc compiled. */
	wasmRuns = 0;
	/** Whether any rustc was spawned for `rustc -vV`. */
	rustcSpawned = false;
	private readonly opts: NormalizedBuildOptions;
	private rustcVerbose: string | undefined;
	private wasmRustcVerbose: string | undefined;

	constructor(
		options: BuildOptions = {},
		private readonly runCargo: CargoRunner = runCargoBuild,
	) {
		this.opts = normalizeBuildOptions(options);
	}

	/** Gives `resolved` a library: the allowed prebuilt one, the cached one, or a new build. */
	async build(resolved: ResolvedMacroPackage, request: PackageBuildRequest = {}): Promise<BuiltMacroPackage> {
		const { manifest } = resolved;
		const { opts } = this;
		const cargoLayout: CargoLayout = manifest.pluginTarget === 'wasm' ? 'none' : manifest.cargoManifestPath ? 'own' : 'generated';
		const base: PackageBase = {
			name: manifest.name,
			version: manifest.versionText,
			manifestPath: manifest.manifestPath,
			packageId: scarbPackageId(manifest),
			cargoLayout,
			requiredBy: resolved.requiredBy,
			warnings: '',
			packageWarnings: [],
			target: manifest.pluginTarget,
			// Wasm macros run sandboxed, without outside inputs: they are always cacheable.
			expansionCache: manifest.pluginTarget === 'wasm' || manifest.expansionCache,
		};
		// Read first, so that a bad Cargo.toml is reported, and a name mismatch warned about, whatever the library's source.
		const ownCargo = cargoLayout === 'own' ? readOwnCargoManifest(manifest) : undefined;
		if (ownCargo && ownCargo.packageName !== manifest.name) base.packageWarnings.push(packageNameMismatch(base, ownCargo.packageName));

		if (resolved.prebuiltAllowed && opts.allowPrebuilt && (request.usePrebuilt ?? true)) {
			const triple = packageTargetTriple(manifest);
			const prebuilt = findPrebuiltLibrary(manifest, triple);
			if (prebuilt) return { ...base, libraryPath: prebuilt, source: 'prebuilt', cacheKey: undefined };
			base.packageWarnings.push(prebuiltMissing(base, prebuiltLibraryPath(manifest, triple)));
		}
		requireLibrarySource(manifest, ownCargo);
		if (manifest.pluginTarget === 'wasm') return this.buildWasmPackage(manifest, base);
		const rustcVerbose = await this.ensureRustcInfo(manifest.name);
		return ownCargo ? this.buildOwnCargoPackage(manifest, ownCargo, base, rustcVerbose) : this.buildGeneratedPackage(manifest, base, rustcVerbose);
	}

	/** A package without a Cargo.toml: macro-host generates one in the cache, with the SDK as a dependency. */
	private async buildGeneratedPackage(manifest: PackageManifest, base: PackageBase, rustcVerbose: string): Promise<BuiltMacroPackage> {
		const { opts } = this;
		const key = computeCacheKey(manifest, { sdkDir: opts.sdkDir, rustcVerbose, env: opts.env });
		const crate = crateNameFor(manifest.name);
		const libraryPath = cachedLibraryPath(opts.cacheDir, key, crate);
		if (isCached(opts.cacheDir, key, libraryPath)) return { ...base, libraryPath, source: 'cache', cacheKey: key };

		const cargo = this.requireCargo(manifest.name);
		// The key in the library name keeps two versions of one package apart in the shared target dir.
		const libName = `${crate}_${key.slice(0, 16)}`;
		const buildDir = join(opts.cacheDir, 'build', `${crate}-${key.slice(0, 16)}`);
		const cargoManifestPath = join(buildDir, 'Cargo.toml');
		writeIfChanged(cargoManifestPath, generateCargoManifest({ manifest, sdkDir: opts.sdkDir, libName }));
		// A running build's directory counts as used, so a prune does not take it for the leftover of a failed build.
		markEntryUsed(buildDir);

		const built = await this.cargoBuild({ cargo, cargoManifestPath, libName, manifest, cwd: buildDir });
		publishFile(built.artifact, libraryPath);
		return { ...base, libraryPath, source: 'built', cacheKey: key, warnings: built.warnings };
	}

	/**
	 * A package in Scarb's layout: cargo builds the author's Cargo.toml as it is, from the package's folder (so its
	 * rust-toolchain file applies, as under Scarb), into the shared target dir; the cdylib is picked from cargo's
	 * artifact messages by its library target's name.
	 */
	private async buildOwnCargoPackage(manifest: PackageManifest, ownCargo: OwnCargoManifest, base: PackageBase, rustcVerbose: string): Promise<BuiltMacroPackage> {
		const { opts } = this;
		const keyInputs = { rustcVerbose, env: opts.env };
		const key = computeOwnCargoCacheKey(manifest, keyInputs);
		const cached = cachedLibraryPath(opts.cacheDir, key, ownCargo.libName);
		if (isCached(opts.cacheDir, key, cached)) return { ...base, libraryPath: cached, source: 'cache', cacheKey: key };

		const cargo = this.requireCargo(manifest.name);
		const built = await this.cargoBuild({ cargo, cargoManifestPath: ownCargo.path, libName: ownCargo.libName, manifest, cwd: manifest.dir });
		// cargo writes (or updates) the Cargo.lock beside the author's Cargo.toml. The entry goes under the key of the
		// files as they are now, which is the key the next run computes: a first build without a lock is then a hit.
		const publishedKey = computeOwnCargoCacheKey(manifest, keyInputs);
		const libraryPath = cachedLibraryPath(opts.cacheDir, publishedKey, ownCargo.libName);
		publishFile(built.artifact, libraryPath);
		return { ...base, libraryPath, source: 'built', cacheKey: publishedKey, warnings: built.warnings };
	}

	/**
	 * A wasm package: the key comes from the wasm rustc's `-vV` (answered from the cache file when that compiler has not
	 * changed), so a hit spawns no compiler at all; a miss compiles into a private directory and publishes the module.
	 */
	private async buildWasmPackage(manifest: PackageManifest, base: PackageBase): Promise<BuiltMacroPackage> {
		const { opts } = this;
		const rustc = opts.wasmRustc;
		requireWasmCompiler(rustc, manifest.name);
		if (this.wasmRustcVerbose === undefined) {
			const info = await rustcVersionInfo(rustc, opts.env, opts.cacheDir, 'wasm-rustc-info.json');
			this.rustcSpawned ||= info.spawned;
			this.wasmRustcVerbose = info.verbose;
		}
		const rustcVerbose = this.wasmRustcVerbose;
		// rustc reads none of cargo's variables (RUSTFLAGS, ...); the flags macro-host passes are what varies.
		const key = computeCacheKey(manifest, { sdkDir: opts.sdkDir, rustcVerbose, env: {}, compilerFlags: WASM_RUSTC_FLAGS });
		const crate = crateNameFor(manifest.name);
		const libraryPath = join(opts.cacheDir, 'libs', key, `${crate}.wasm`);
		if (isCached(opts.cacheDir, key, libraryPath)) return { ...base, libraryPath, source: 'cache', cacheKey: key };

		// A directory of its own per build, so that two processes building the same package do not share rustc's output.
		const outDir = tempName(join(opts.cacheDir, 'build', `${crate}-${key.slice(0, 16)}-wasm`));
		this.wasmRuns++;
		try {
			const built = await buildWasmModule({ rustc, rustcVerbose, manifest, sdkDir: opts.sdkDir, cacheDir: opts.cacheDir, outDir, env: opts.env, onProgress: opts.onProgress });
			publishFile(built.artifact, libraryPath);
			return { ...base, libraryPath, source: 'built', cacheKey: key, warnings: built.warnings };
		} finally {
			rmSync(outDir, { recursive: true, force: true });
		}
	}

	/** One cargo run into the shared target dir. */
	private cargoBuild(request: Pick<CargoBuildRequest, 'cargo' | 'cargoManifestPath' | 'libName' | 'manifest' | 'cwd'>): Promise<CargoBuildResult> {
		this.cargoRuns++;
		return this.runCargo({ ...request, targetDir: join(this.opts.cacheDir, 'target'), env: this.opts.env, onProgress: this.opts.onProgress });
	}

	/** The cargo binary, or a ToolchainNotFoundError that names `packageName`. */
	private requireCargo(packageName: string): string {
		const cargo = this.opts.cargo ?? findTool('cargo', this.opts.env).path;
		if (!cargo) throw new ToolchainNotFoundError('cargo', packageName, findTool('cargo', this.opts.env).searched);
		return cargo;
	}

	/** `rustc -vV`, asked once per run (and answered from the cache file when rustc has not changed). */
	private async ensureRustcInfo(packageName: string): Promise<string> {
		if (this.rustcVerbose !== undefined) return this.rustcVerbose;
		const { env, cacheDir, cargo } = this.opts;
		const rustc = findTool('rustc', env);
		if (!rustc.path) {
			// With no Rust at all, name cargo: it is the tool people know to install.
			const cargoLookup = cargo ? { path: cargo, searched: [cargo] } : findTool('cargo', env);
			if (!cargoLookup.path) throw new ToolchainNotFoundError('cargo', packageName, cargoLookup.searched);
			throw new ToolchainNotFoundError('rustc', packageName, rustc.searched);
		}
		const info = await rustcVersionInfo(rustc.path, env, cacheDir);
		this.rustcSpawned ||= info.spawned;
		this.rustcVerbose = info.verbose;
		return info.verbose;
	}
}

/** The published library of a cache entry: `libs/<key>/lib<crate>.<ext>`. */
function cachedLibraryPath(cacheDir: string, key: string, crate: string): string {
	return join(cacheDir, 'libs', key, `lib${crate}.${sharedLibraryExtension()}`);
}

/** Whether the entry `key` holds `libraryPath`; stamps the entry as used either way. */
function isCached(cacheDir: string, key: string, libraryPath: string): boolean {
	// Stamp before checking: a prune that picked this entry earlier sees the stamp move and puts the entry back.
	return markEntryUsed(join(cacheDir, 'libs', key)) && existsSync(libraryPath);
}

/**
 * The library's root source file must exist before cargo runs: cargo would name the generated library target
 * (`can't find lib \`describe_macro_a1f2490b470fef99\``), not the package. Thrown at the manifest that says where it is.
 */
function requireLibrarySource(manifest: PackageManifest, ownCargo: OwnCargoManifest | undefined): void {
	const source = ownCargo?.libPath ?? join(manifest.dir, 'src', 'lib.rs');
	if (existsSync(source)) return;
	const file = ownCargo?.path ?? manifest.manifestPath;
	const at = ownCargo === undefined ? manifest.locations.locate(['cairo-plugin'], 'key') : { line: 1, column: 1 };
	throw new ManifestError([
		{
			file,
			line: at.line,
			column: at.column,
			message: `macro package ${manifest.name} v${manifest.versionText} has no library source: ${displayPath(source)} does not exist (a macro package's Rust code starts in ${ownCargo === undefined ? 'src/lib.rs' : 'its [lib] path, by default src/lib.rs'})`,
		},
	]);
}
