/**
 * `loadProject`: resolve and build a project's macro packages, then load every library into a macro host, and say
 * which macro comes from which package. A wasm package's library is a `.wasm` module, which the host's loadLibrary
 * takes like a shared library (it runs it in its sandbox). The host keeps the libraries' paths (in the cache, or the package's prebuilt
 * file), so after a crash it reloads them from there: nothing is rebuilt. A prebuilt library that does not load is
 * built from source and that library is loaded instead, with a warning (Scarb does the same, silently).
 */
import type { LibraryInfo, MacroInfo } from '../../protocol/library.js';
import type { LoadLibraryOptions } from '../library-registry.js';
import { PackageBuilder, type BuiltMacroPackage, type CargoRunner } from './build-project.js';
import { runCargoBuild } from './cargo-build.js';
import type { BuildOptions } from './options.js';
import { prebuiltNotLoadable, type PackageWarning } from './package-warnings.js';
import { resolveProject, type ResolvedMacroPackage, type ResolvedProject } from './resolve.js';
import { scarbPackageId } from './scarb-identity.js';

/** What {@link loadProject} needs of a host: `MacroHost` from client/ fits. */
export interface LibraryLoader {
	loadLibrary(path: string, options?: LoadLibraryOptions): Promise<LibraryInfo>;
}

/** Options of {@link loadProject}: the build options. */
export interface LoadProjectOptions extends BuildOptions {}

/** A macro package whose library is loaded. */
export interface LoadedMacroPackage extends BuiltMacroPackage {
	/** The library id the host gave it (pass it as `library` to disambiguate a macro name). */
	library: string;
	/** The macros it provides. */
	macros: MacroInfo[];
}

/** One macro of the project, with where it comes from. */
export interface ProjectMacro extends MacroInfo {
	/** The macro package that provides it. */
	package: string;
	/** That package's version. */
	version: string;
	/** The library id in the host. */
	library: string;
}

/** Result of {@link loadProject}. */
export interface LoadedProject {
	/** The project's package name. */
	name: string;
	/** Its version. */
	version: string;
	/** Absolute path of its Scarb.toml. */
	manifestPath: string;
	/** Its id as Scarb serializes it: `<name> <version> (path+file:///…/Scarb.toml)`. */
	packageId: string;
	/** The resolved graph: every package (Cairo and macro), each macro package's requirers and prebuilt allowance. */
	resolved: ResolvedProject;
	/** Every macro package, loaded, in resolution order. */
	packages: LoadedMacroPackage[];
	/** Every macro of every package, in package order. */
	macros: ProjectMacro[];
	/** How many times cargo ran (0 on a warm cache). */
	cargoRuns: number;
	/** How many wasm packages the wasm rustc compiled (0 on a warm cache). */
	wasmRuns: number;
	/** The manifests' warnings ({@link ResolvedProject.warnings}), then every package's {@link BuiltMacroPackage.packageWarnings}, in package order. */
	warnings: PackageWarning[];
}

/**
 * Resolves and builds the project in `projectDir` (or its Scarb.toml), then loads each macro library into `host`.
 * Throws ManifestError, ToolchainNotFoundError or PackageBuildError before loading anything, and the host's own
 * error when a library does not load (a prebuilt one is built from source first, and only that library's error is thrown).
 */
export async function loadProject(
	host: LibraryLoader,
	projectDir: string,
	options: LoadProjectOptions = {},
	runCargo: CargoRunner = runCargoBuild,
): Promise<LoadedProject> {
	const builder = new PackageBuilder(options, runCargo);
	const resolved = resolveProject(projectDir);
	const built: BuiltMacroPackage[] = [];
	// Everything is built before anything is loaded, so a build error leaves the host untouched.
	for (const pkg of resolved.macroPackages) built.push(await builder.build(pkg));
	const packages: LoadedMacroPackage[] = [];
	for (const [index, pkg] of built.entries()) packages.push(await loadPackage(host, builder, resolved.macroPackages[index]!, pkg));
	const root = resolved.root;
	return {
		name: root.name,
		version: root.versionText,
		manifestPath: root.manifestPath,
		packageId: scarbPackageId(root),
		resolved,
		packages,
		macros: packages.flatMap((pkg) => pkg.macros.map((macro) => ({ ...macro, package: pkg.name, version: pkg.version, library: pkg.library }))),
		cargoRuns: builder.cargoRuns,
		wasmRuns: builder.wasmRuns,
		warnings: [...resolved.warnings, ...packages.flatMap((pkg) => pkg.packageWarnings)],
	};
}

/** Loads one package's library; a prebuilt one that does not load is replaced by a build from source. */
async function loadPackage(host: LibraryLoader, builder: PackageBuilder, resolved: ResolvedMacroPackage, pkg: BuiltMacroPackage): Promise<LoadedMacroPackage> {
	let info: LibraryInfo;
	// Messages about its macros then name the package, not a path inside the build cache.
	const options: LoadLibraryOptions = { package: { name: pkg.name, version: pkg.version } };
	try {
		info = await host.loadLibrary(pkg.libraryPath, options);
	} catch (error) {
		if (pkg.source !== 'prebuilt') throw error;
		// Any refusal counts: not a library, a missing symbol, an ABI the host does not speak, a crash while loading.
		const rebuilt = await builder.build(resolved, { usePrebuilt: false });
		const reason = (error as Error)?.message ?? String(error);
		const fallback = { ...rebuilt, packageWarnings: [...rebuilt.packageWarnings, prebuiltNotLoadable(pkg, pkg.libraryPath, reason, rebuilt.source === 'cache')] };
		info = await host.loadLibrary(fallback.libraryPath, options);
		return { ...fallback, library: info.library, macros: info.macros };
	}
	return { ...pkg, library: info.library, macros: info.macros };
}
