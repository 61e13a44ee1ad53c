/**
 * The workspaces the server has loaded, and which macros each of their compilation-unit components can use.
 *
 * `definedMacros` resolves a workspace with our package code (`loadProject`: Scarb-layout packages, prebuilt
 * libraries, our own packages; built into the cache when needed), loads every macro library into every host of the
 * pool, and records, for each Cairo package of the workspace that depends on macro packages, the macros of those
 * packages, as Scarb's server does: a component sees the macros of its own direct macro dependencies. Loading the same
 * workspace again replaces its entry (libraries whose file changed are reloaded by the hosts); several workspaces
 * live side by side.
 */
import { resolve } from 'node:path';
import type { LibraryInfo, MacroKind } from '../../protocol/library.js';
import type {
	CompilationUnitComponent,
	CompilationUnitComponentMacros,
	DefinedMacrosResponse,
	MacroWithHash,
	ProcMacroScope,
	Workspace,
} from '../../protocol/proc-macro-server.js';
import type { CacheableLibrary } from '../expansion-cache/caching-caller.js';
import { hashLibraryFile } from '../expansion-cache/library-identity.js';
import { loadProject, type LibraryLoader, type LoadedMacroPackage } from '../packages/load-project.js';
import type { BuildOptions } from '../packages/options.js';
import { resolveProject } from '../packages/resolve.js';
import { packageHash } from './macro-hash.js';
import { deriveExpansionName, serializedPackageId } from './package-id.js';

/** One macro a component can call. */
export interface ComponentMacro {
	/** Its name in the library (what our hosts expand: `ToValue`). */
	name: string;
	/** Its name on the wire (the snake_case expansion name for a derive: `to_value`). */
	wireName: string;
	kind: MacroKind;
	/** The library id in the hosts. */
	library: string;
	/** The macro package that provides it. */
	packageName: string;
	/** The package's hash (MacroWithHash.hash, and the fingerprint of its results). */
	hash: number;
}

/** A failed lookup: the sentence to put in the call's diagnostic. */
export interface LookupFailure {
	failure: string;
}

interface WorkspaceEntry {
	/** Macros by component key, then by `kind wireName`. */
	components: Map<string, Map<string, ComponentMacro>>;
}

/** Every workspace loaded so far; see the module comment. */
export class WorkspaceMacros {
	readonly #workspaces = new Map<string, WorkspaceEntry>();
	/** What the expansion cache knows of each library loaded so far, by id. */
	readonly #cacheable = new Map<string, CacheableLibrary>();
	/** What the hosts said of each library they loaded (its ABI and fingerprint), by id. */
	readonly #infos = new Map<string, LibraryInfo>();
	readonly #loader: LibraryLoader;

	constructor(
		loader: LibraryLoader,
		private readonly build: BuildOptions,
	) {
		this.#loader = {
			loadLibrary: async (path, options) => {
				const info = await loader.loadLibrary(path, options);
				this.#infos.set(info.library, info);
				return info;
			},
		};
	}

	/** The expansion cache's view of a loaded library; undefined for one it cannot key (its file could not be hashed). */
	cacheable(libraryId: string): CacheableLibrary | undefined {
		return this.#cacheable.get(libraryId);
	}

	/**
	 * Loads (or reloads) a workspace and lists its macros per component. Throws what loadProject throws (a manifest,
	 * toolchain or build error, a library that does not load).
	 */
	async define(workspace: Workspace): Promise<DefinedMacrosResponse> {
		const manifestPath = resolve(workspace.manifest_path);
		const project = await loadProject(this.#loader, manifestPath, this.build);
		await Promise.all(project.packages.map((pkg) => this.#keepCacheable(pkg)));
		// The graph names the Cairo packages (components) and which macro packages each one requires.
		const graph = resolveProject(manifestPath);
		const packages = await Promise.all(project.packages.map((pkg) => describePackage(pkg)));

		const entry: WorkspaceEntry = { components: new Map() };
		const listed: CompilationUnitComponentMacros[] = [];
		for (const cairo of graph.packages) {
			if (cairo.isMacroPackage) continue;
			const used = packages.filter((p) => p.loaded.requiredBy.includes(cairo.name));
			if (used.length === 0) continue;
			const component: CompilationUnitComponent = {
				name: cairo.name,
				discriminator: serializedPackageId(cairo.name, cairo.versionText, cairo.manifestPath),
			};
			const macros = new Map<string, ComponentMacro>();
			const attributes: MacroWithHash[] = [];
			const inlineMacros: MacroWithHash[] = [];
			const derives: MacroWithHash[] = [];
			const executables: string[] = [];
			for (const { loaded, hash } of used) {
				for (const m of loaded.macros) {
					const wireName = m.kind === 'derive' ? deriveExpansionName(m.name) : m.name;
					const key = macroKey(m.kind, wireName);
					// As in Scarb, the first package that provides a name wins.
					if (macros.has(key)) continue;
					macros.set(key, { name: m.name, wireName, kind: m.kind, library: loaded.library, packageName: loaded.name, hash });
					// Scarb lists an executable attribute apart, by name only; a call to it still leaves the item.
					if (m.executable) {
						executables.push(wireName);
						continue;
					}
					const listedMacro = { name: wireName, hash };
					(m.kind === 'attribute' ? attributes : m.kind === 'derive' ? derives : inlineMacros).push(listedMacro);
				}
			}
			entry.components.set(componentKey(component), macros);
			listed.push({
				component,
				attributes,
				inline_macros: inlineMacros,
				derives,
				executables,
				debug_info: { source_packages: used.map((p) => p.id) },
			});
		}
		this.#workspaces.set(manifestPath, entry);
		return { macros_for_cu_components: listed };
	}

	async #keepCacheable(pkg: LoadedMacroPackage): Promise<void> {
		const info = this.#infos.get(pkg.library);
		const fileHash = await hashLibraryFile(pkg.library).catch(() => undefined);
		if (info === undefined || fileHash === undefined) {
			this.#cacheable.delete(pkg.library);
			return;
		}
		const identity = { fileHash, abi: info.abi, abiVersion: info.abiVersion, ...(info.fingerprint === undefined ? {} : { fingerprint: info.fingerprint }) };
		this.#cacheable.set(pkg.library, { identity, cacheable: pkg.expansionCache });
	}

	/** The macro a call in `scope` names, or why there is none. */
	find(scope: ProcMacroScope, kind: MacroKind, wireName: string): ComponentMacro | LookupFailure {
		const workspacePath = resolve(scope.workspace.manifest_path);
		const workspace = this.#workspaces.get(workspacePath);
		if (workspace === undefined) {
			return { failure: `the workspace ${workspacePath} is not loaded: definedMacros was not called for it (or it failed)` };
		}
		const component = scope.component;
		const macros = workspace.components.get(componentKey(component));
		const where = `component ${component.name}${component.discriminator === null ? '' : ` (${component.discriminator})`} of workspace ${workspacePath}`;
		if (macros === undefined) return { failure: `no ${kind} macro "${wireName}" in ${where}: that component uses no macro packages` };
		return macros.get(macroKey(kind, wireName)) ?? { failure: `no ${kind} macro "${wireName}" in ${where}` };
	}
}

/** A loaded package with its serialized id and hash. */
async function describePackage(loaded: LoadedMacroPackage): Promise<{ loaded: LoadedMacroPackage; id: string; hash: number }> {
	const id = serializedPackageId(loaded.name, loaded.version, loaded.manifestPath);
	return { loaded, id, hash: await packageHash(id, loaded.libraryPath) };
}

function componentKey(component: CompilationUnitComponent): string {
	return `${component.name}\n${component.discriminator ?? ''}`;
}

function macroKey(kind: MacroKind, wireName: string): string {
	return `${kind} ${wireName}`;
}
