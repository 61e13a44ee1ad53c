/**
 * `loadProject`: resolve and build a project's macro packages, then load every library into a macro host, and say
 * which macro comes from which package. A wasm package's library is a `.wasm` module, which the host's loadLibrary
 * takes like a shared library (it runs it in its sandbox). The host keeps the libraries' paths (in the cache, or the package's prebuilt
 * file), so after a crash it reloads them from there: nothing is rebuilt.
 */
import type { LibraryInfo, MacroInfo } from '../../protocol/library.js';
import { buildProject, type BuiltMacroPackage, type CargoRunner } from './build-project.js';
import { runCargoBuild } from './cargo-build.js';
import type { BuildOptions } from './options.js';

/** What {@link loadProject} needs of a host: `MacroHost` from client/ fits. */
export interface LibraryLoader {
	loadLibrary(path: string): Promise<LibraryInfo>;
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
	/** Every macro package, loaded, in resolution order. */
	packages: LoadedMacroPackage[];
	/** Every macro of every package, in package order. */
	macros: ProjectMacro[];
	/** How many times cargo ran (0 on a warm cache). */
	cargoRuns: number;
	/** How many wasm packages the wasm rustc compiled (0 on a warm cache). */
	wasmRuns: number;
}

/**
 * Resolves and builds the project in `projectDir` (or its Scarb.toml), then loads each macro library into `host`.
 * Throws ManifestError, ToolchainNotFoundError or PackageBuildError before loading anything, and the host's own
 * error when a library does not load.
 */
export async function loadProject(
	host: LibraryLoader,
	projectDir: string,
	options: LoadProjectOptions = {},
	runCargo: CargoRunner = runCargoBuild,
): Promise<LoadedProject> {
	const built = await buildProject(projectDir, options, runCargo);
	const packages: LoadedMacroPackage[] = [];
	for (const pkg of built.packages) {
		const info = await host.loadLibrary(pkg.libraryPath);
		packages.push({ ...pkg, library: info.library, macros: info.macros });
	}
	const root = built.project.root;
	return {
		name: root.name,
		version: root.versionText,
		manifestPath: root.manifestPath,
		packages,
		macros: packages.flatMap((pkg) => pkg.macros.map((macro) => ({ ...macro, package: pkg.name, version: pkg.version, library: pkg.library }))),
		cargoRuns: built.cargoRuns,
		wasmRuns: built.wasmRuns,
	};
}
