/**
 * Reads one Scarb.toml: a macro package (`[cairo-plugin]`) or a Cairo package that depends on others by path.
 * Every problem is collected with its `file:line:col` and thrown together as one {@link ManifestError}.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { ManifestError, type ManifestDiagnostic } from './errors.js';
import { parseVersion, parseVersionReq, SemverError, type Version, type VersionReq } from './semver.js';
import { closestName } from '../../expansion/name-suggestions.js';
import { misspeltPluginTable, unknownPluginKey, type PackageWarning } from './package-warnings.js';
import { TomlLocations, type TextPosition } from './toml-locations.js';

/** The manifest file name, as in Scarb. */
export const MANIFEST_FILE = 'Scarb.toml';

/** The author's Cargo manifest beside a macro package's Scarb.toml, in Scarb's layout. */
export const CARGO_MANIFEST_FILE = 'Cargo.toml';

/** The keys of `[cairo-plugin]` macro-host reads; any other is warned about. */
export const PLUGIN_KEYS: readonly string[] = ['target', 'expansion-cache'];

/** Target tables a `[cairo-plugin]` package may not have alongside it. */
const OTHER_TARGETS = ['lib', 'executable', 'test', 'target'] as const;

/** What a macro package's library is built as: `[cairo-plugin] target`. */
export type PluginTarget = 'native' | 'wasm';

/** Every {@link PluginTarget}, in the order messages list them. */
export const PLUGIN_TARGETS: readonly PluginTarget[] = ['native', 'wasm'];

/** A dependency from `[dependencies]`. */
export interface DependencySpec {
	/** The key, as written (`add-macro` or `add_macro`). */
	name: string;
	/** {@link normalizePackageName} of the key: what it must match. */
	id: string;
	/** Absolute directory the `path` points at. */
	dir: string;
	/** The `version` requirement; undefined means any version. */
	requirement: VersionReq | undefined;
	/** Where the dependency's key is. */
	keyPosition: TextPosition;
	/** Where its `version` value is (its key position when absent). */
	versionPosition: TextPosition;
}

/** A Rust path dependency from `[tool.cargo.pkg.dependencies]`. */
export interface CargoPathDependency {
	/** The dependency's key (the crate name as the package's Rust code uses it). */
	name: string;
	/** Absolute directory of the crate (holds its Cargo.toml). */
	dir: string;
}

/** A parsed and validated Scarb.toml. */
export interface PackageManifest {
	/** Absolute path of the Scarb.toml. */
	manifestPath: string;
	/** The package's directory. */
	dir: string;
	/** The manifest text (it is part of the cache key). */
	text: string;
	/** `[package] name`, as written. */
	name: string;
	/** {@link normalizePackageName} of the name: packages are the same when their ids are. */
	id: string;
	/** `[package] version`. */
	version: Version;
	/** `[package] version` as written. */
	versionText: string;
	/** Whether it has a `[cairo-plugin]` table, i.e. is a macro package. */
	isMacroPackage: boolean;
	/**
	 * `[cairo-plugin] target`: `native` (a shared library built by cargo, the default) or `wasm` (a WebAssembly module
	 * for wasm32-unknown-unknown, built by rustc alone). Always `native` for a package that is not a macro package.
	 */
	pluginTarget: PluginTarget;
	/**
	 * `[cairo-plugin] expansion-cache`: false when the package's native macros read outside inputs, so their calls
	 * must never be cached (docs/caching.md). True when absent, and for a package that is not a macro package.
	 */
	expansionCache: boolean;
	/** `[dependencies]`, in manifest order. */
	dependencies: DependencySpec[];
	/**
	 * `[tool.cargo.pkg]` of a macro package, merged into the generated Cargo.toml; the paths of its dependencies are
	 * made absolute. Undefined when absent.
	 */
	cargoTable: Record<string, unknown> | undefined;
	/** The path dependencies of {@link cargoTable}. */
	cargoPathDependencies: CargoPathDependency[];
	/**
	 * Absolute path of the author's own `Cargo.toml` beside the Scarb.toml, when a native macro package has one (Scarb's
	 * layout): it is built as it is. Undefined when macro-host generates the Cargo.toml (and always for a wasm package,
	 * which rustc compiles without cargo, and for a package that is not a macro package).
	 */
	cargoManifestPath: string | undefined;
	/** `[tool.scarb] allow-prebuilt-plugins`, normalized; empty when absent. */
	allowPrebuiltPlugins: string[];
	/** Positions in the text, for later (resolution) errors. */
	locations: TomlLocations;
	/** What is suspicious but not wrong: an unknown `[cairo-plugin]` key, a table that looks like a misspelt `[cairo-plugin]`. */
	warnings: PackageWarning[];
}

/** Package names compare with `-` and `_` treated alike, as Scarb and Cargo users expect (`add-macro` is `add_macro`). */
export function normalizePackageName(name: string): string {
	return name.replace(/-/g, '_');
}

/** Reads and validates the Scarb.toml at `manifestPath`. Throws {@link ManifestError} with every problem found. */
export function readManifest(manifestPath: string): PackageManifest {
	const file = resolve(manifestPath);
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
		throw new ManifestError([{ file, line: 1, column: 1, message: `cannot read the manifest: ${why}` }]);
	}
	return parseManifest(file, text);
}

/** Validates a manifest's text; `file` is its absolute path (paths in it resolve against its directory). */
export function parseManifest(file: string, text: string): PackageManifest {
	return new ManifestReader(file, text, parseTomlFile(file, text)).read();
}

/** Parses a TOML file's text (a Scarb.toml or a Cargo.toml); a syntax error becomes a {@link ManifestError} at its place. */
export function parseTomlFile(file: string, text: string): Record<string, unknown> {
	try {
		return parse(text) as Record<string, unknown>;
	} catch (error) {
		if (error instanceof TomlError) {
			const message = error.message.replace(/^Invalid TOML document: /, '').split('\n')[0]!;
			throw new ManifestError([{ file, line: error.line, column: error.column, message: `TOML syntax error: ${message}` }]);
		}
		throw error;
	}
}

/** Collects the problems of one manifest while reading it. */
class ManifestReader {
	private readonly problems: ManifestDiagnostic[] = [];
	private readonly locations: TomlLocations;
	private readonly dir: string;

	constructor(
		private readonly file: string,
		private readonly text: string,
		private readonly data: Record<string, unknown>,
	) {
		this.locations = new TomlLocations(text);
		this.dir = dirname(file);
	}

	read(): PackageManifest {
		const pkg = this.table(['package'], true);
		const name = pkg ? this.string(['package', 'name'], true) : undefined;
		if (name !== undefined && !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) {
			this.problem(['package', 'name'], `package name "${name}" is not valid: use letters, digits, "_" and "-", starting with a letter or "_"`);
		}
		const versionText = pkg ? this.string(['package', 'version'], true) : undefined;
		let version: Version | undefined;
		if (versionText !== undefined) {
			try {
				version = parseVersion(versionText);
			} catch (error) {
				this.problem(['package', 'version'], `package version: ${(error as SemverError).message}`);
			}
		}

		const isMacroPackage = this.table(['cairo-plugin'], false) !== undefined;
		if (isMacroPackage) {
			for (const target of OTHER_TARGETS) {
				if (this.data[target] !== undefined) {
					this.problem([target], `a [cairo-plugin] package has no other targets; remove [${target}]`, 'key');
				}
			}
		}

		const pluginTarget = isMacroPackage ? this.readPluginTarget() : 'native';
		const expansionCache = isMacroPackage ? this.readExpansionCache() : true;

		const cargoManifestPath = isMacroPackage && pluginTarget === 'native' ? ownCargoManifest(this.dir) : undefined;
		const dependencies = this.readDependencies(isMacroPackage, cargoManifestPath !== undefined);
		// Checked once here, so that a non-table [tool] is reported once.
		this.table(['tool'], false);
		const cargo = isMacroPackage ? this.readCargoTable(pluginTarget, cargoManifestPath !== undefined) : { table: undefined, deps: [] };
		const allowPrebuiltPlugins = this.readAllowPrebuilt();

		if (this.problems.length > 0 || name === undefined || version === undefined || versionText === undefined) {
			throw new ManifestError(this.problems);
		}
		const warned = { name, version: versionText, manifestPath: this.file };
		const warnings = isMacroPackage ? this.unknownPluginKeys(warned) : this.misspeltPluginTables(warned);
		return {
			manifestPath: this.file,
			dir: this.dir,
			text: this.text,
			name,
			id: normalizePackageName(name),
			version,
			versionText,
			isMacroPackage,
			pluginTarget,
			expansionCache,
			dependencies,
			cargoTable: cargo.table,
			cargoPathDependencies: cargo.deps,
			cargoManifestPath,
			allowPrebuiltPlugins,
			locations: this.locations,
			warnings,
		};
	}

	/** A warning per `[cairo-plugin]` key macro-host does not read, at the key. */
	private unknownPluginKeys(pkg: { name: string; version: string; manifestPath: string }): PackageWarning[] {
		const table = this.get(['cairo-plugin']);
		if (!isTable(table)) return [];
		return Object.keys(table)
			.filter((key) => !PLUGIN_KEYS.includes(key))
			.map((key) => unknownPluginKey(pkg, key, PLUGIN_KEYS, closestName(key, PLUGIN_KEYS), this.locations.locate(['cairo-plugin', key], 'key')));
	}

	/** In a package without `[cairo-plugin]`: a warning per top-level table whose name is close to it (`[cairo_plugin]`). */
	private misspeltPluginTables(pkg: { name: string; version: string; manifestPath: string }): PackageWarning[] {
		return Object.keys(this.data)
			.filter((key) => isTable(this.data[key]) && closestName(key, ['cairo-plugin']) !== undefined)
			.map((key) => misspeltPluginTable(pkg, key, this.locations.locate([key], 'key')));
	}

	private readDependencies(isMacroPackage: boolean, hasOwnCargoManifest: boolean): DependencySpec[] {
		const deps = this.table(['dependencies'], false);
		if (!deps) return [];
		const specs: DependencySpec[] = [];
		for (const [name, value] of Object.entries(deps)) {
			const path = ['dependencies', name];
			if (isMacroPackage) {
				const rust = hasOwnCargoManifest ? 'in its Cargo.toml' : 'under [tool.cargo.pkg.dependencies]';
				this.problem(path, `a [cairo-plugin] package cannot have Cairo dependencies; Rust dependencies go ${rust}`, 'key');
				continue;
			}
			if (typeof value === 'string') {
				this.problem(path, `dependency "${name}" must be given by path, e.g. ${name} = { path = "../${name}", version = "${value}" } (registry dependencies are not available)`);
				continue;
			}
			if (!isTable(value)) {
				this.problem(path, `dependency "${name}" must be a table such as { path = "../${name}", version = "0.1.0" }, found ${typeName(value)}`);
				continue;
			}
			if (value.git !== undefined) {
				this.problem([...path, 'git'], `dependency "${name}": git dependencies are not supported; give a path`, 'key');
				continue;
			}
			const relPath = this.string([...path, 'path'], true);
			const reqText = this.string([...path, 'version'], false);
			let requirement: VersionReq | undefined;
			if (reqText !== undefined) {
				try {
					requirement = parseVersionReq(reqText);
				} catch (error) {
					this.problem([...path, 'version'], `dependency "${name}": ${(error as SemverError).message}`);
				}
			}
			if (relPath === undefined) continue;
			const dir = resolve(this.dir, relPath);
			if (!existsSync(resolve(dir, MANIFEST_FILE))) {
				const why = existsSync(dir) ? `${dir} has no ${MANIFEST_FILE}` : `${dir} does not exist`;
				this.problem([...path, 'path'], `dependency "${name}": unknown dependency path "${relPath}": ${why}`);
				continue;
			}
			const keyPosition = this.locations.locate(path, 'key');
			specs.push({
				name,
				id: normalizePackageName(name),
				dir,
				requirement,
				keyPosition,
				versionPosition: reqText !== undefined ? this.locations.locate([...path, 'version']) : keyPosition,
			});
		}
		return specs;
	}

	/** `[cairo-plugin] expansion-cache`, true when absent. */
	private readExpansionCache(): boolean {
		const path = ['cairo-plugin', 'expansion-cache'];
		const value = this.get(path);
		if (value === undefined || typeof value === 'boolean') return value ?? true;
		this.problem(path, `[cairo-plugin] expansion-cache must be true or false (false: never cache this package's macro calls), found ${typeName(value)}`);
		return true;
	}

	/** `[cairo-plugin] target`, `native` when absent. */
	private readPluginTarget(): PluginTarget {
		const path = ['cairo-plugin', 'target'];
		const value = this.get(path);
		if (value === undefined) return 'native';
		if (typeof value === 'string' && (PLUGIN_TARGETS as readonly string[]).includes(value)) return value as PluginTarget;
		const found = typeof value === 'string' ? `"${value}"` : typeName(value);
		this.problem(path, `[cairo-plugin] target must be "native" (a shared library built by cargo) or "wasm" (a WebAssembly module), found ${found}`);
		return 'native';
	}

	/**
	 * `[tool.cargo.pkg]`: checked, with its path dependencies made absolute. A wasm package is compiled by rustc alone,
	 * without cargo, so only `[tool.cargo.pkg.package]` applies to it (its `edition` is honoured, the rest is metadata).
	 */
	private readCargoTable(pluginTarget: PluginTarget, hasOwnCargoManifest: boolean): { table: Record<string, unknown> | undefined; deps: CargoPathDependency[] } {
		const base = ['tool', 'cargo', 'pkg'];
		if (!isTable(this.get(['tool'])) || this.table(['tool', 'cargo'], false) === undefined) return { table: undefined, deps: [] };
		const pkg = this.table(base, false);
		if (!pkg) return { table: undefined, deps: [] };
		if (hasOwnCargoManifest) {
			// Two places for the same settings would leave one of them silently unused.
			this.problem(
				base,
				'[tool.cargo.pkg] only fills the Cargo.toml macro-host generates, and this package has its own Cargo.toml (built as it is): move these settings into that Cargo.toml',
				'key',
			);
			return { table: undefined, deps: [] };
		}
		const table = structuredClone(pkg);
		if (table.lib !== undefined) {
			this.problem([...base, 'lib'], '[tool.cargo.pkg.lib] cannot be set: macro-host generates the library target', 'key');
			delete table.lib;
		}
		if (table.workspace !== undefined) {
			this.problem([...base, 'workspace'], '[tool.cargo.pkg.workspace] cannot be set: every macro package builds on its own', 'key');
			delete table.workspace;
		}
		if (isTable(table.package)) {
			for (const key of ['name', 'version']) {
				if (table.package[key] !== undefined) {
					this.problem([...base, 'package', key], `tool.cargo.pkg.package.${key} cannot be set: it comes from [package] ${key}`, 'key');
				}
			}
		}
		if (pluginTarget === 'wasm') {
			for (const key of Object.keys(table)) {
				if (key === 'package' || key === 'lib' || key === 'workspace') continue;
				this.problem(
					[...base, key],
					`[tool.cargo.pkg.${key}] cannot be used with [cairo-plugin] target = "wasm": wasm macro packages are compiled by rustc alone, ` +
						`without cargo, against the bundled SDK only; remove it, or remove target = "wasm" to build a native library with cargo`,
					'key',
				);
				delete table[key];
			}
			// cargo would check the edition; rustc is given it as a flag, so a wrong type is caught here.
			const edition = isTable(table.package) ? table.package.edition : undefined;
			if (edition !== undefined && typeof edition !== 'string') {
				this.problem([...base, 'package', 'edition'], `tool.cargo.pkg.package.edition must be a string such as "2021", found ${typeName(edition)}`);
			}
			return { table, deps: [] };
		}
		const deps: CargoPathDependency[] = [];
		const depsTable = this.table([...base, 'dependencies'], false);
		if (depsTable) {
			const out: Record<string, unknown> = {};
			for (const [name, value] of Object.entries(depsTable)) {
				const path = [...base, 'dependencies', name];
				if (name === 'macro-host-sdk' || name === 'macro_host_sdk') {
					this.problem(path, `"${name}" is added by macro-host itself (the bundled SDK); remove it`, 'key');
					continue;
				}
				if (!isTable(value) || typeof value.path !== 'string') {
					this.problem(path, `Rust dependency "${name}" must be a path dependency such as { path = "../${name}" }: cargo runs offline, so only path dependencies can build`);
					continue;
				}
				const dir = resolve(this.dir, value.path);
				if (!existsSync(resolve(dir, 'Cargo.toml'))) {
					const why = existsSync(dir) ? `${dir} has no Cargo.toml` : `${dir} does not exist`;
					this.problem([...path, 'path'], `Rust dependency "${name}": unknown dependency path "${value.path}": ${why}`);
					continue;
				}
				out[name] = { ...value, path: dir };
				deps.push({ name, dir });
			}
			table.dependencies = out;
		}
		return { table, deps };
	}

	private readAllowPrebuilt(): string[] {
		const path = ['tool', 'scarb', 'allow-prebuilt-plugins'];
		if (!isTable(this.get(['tool'])) || this.table(['tool', 'scarb'], false) === undefined) return [];
		const value = (this.data.tool as Record<string, Record<string, unknown>>).scarb!['allow-prebuilt-plugins'];
		if (value === undefined) return [];
		if (!Array.isArray(value)) {
			this.problem(path, `tool.scarb.allow-prebuilt-plugins must be an array of package names, found ${typeName(value)}`);
			return [];
		}
		const names: string[] = [];
		value.forEach((item, index) => {
			if (typeof item === 'string') names.push(normalizePackageName(item));
			else this.problem([...path, String(index)], `tool.scarb.allow-prebuilt-plugins must hold package names (strings), found ${typeName(item)}`);
		});
		return names;
	}

	/** The table at `path`; records a problem when it is missing (if required) or not a table. */
	private table(path: string[], required: boolean): Record<string, unknown> | undefined {
		const value = this.get(path);
		if (value === undefined) {
			if (required) this.problem(path.slice(0, -1), `missing [${path.join('.')}] table`, 'key');
			return undefined;
		}
		if (!isTable(value)) {
			this.problem(path, `${path.join('.')} must be a table, found ${typeName(value)}`);
			return undefined;
		}
		return value;
	}

	/** The string at `path`; records a problem when it is missing (if required) or not a string. */
	private string(path: string[], required: boolean): string | undefined {
		const value = this.get(path);
		if (value === undefined) {
			if (required) this.problem(path.slice(0, -1), `missing field \`${path.at(-1)}\` in ${describeTable(path.slice(0, -1))}`, 'key');
			return undefined;
		}
		if (typeof value !== 'string') {
			this.problem(path, `${path.join('.')} must be a string, found ${typeName(value)}`);
			return undefined;
		}
		return value;
	}

	private get(path: string[]): unknown {
		let value: unknown = this.data;
		for (const key of path) {
			if (!isTable(value)) return undefined;
			value = value[key];
		}
		return value;
	}

	private problem(path: string[], message: string, prefer: 'value' | 'key' = 'value'): void {
		const pos = this.locations.locate(path, prefer);
		this.problems.push({ file: this.file, line: pos.line, column: pos.column, message });
	}
}

/** The author's `Cargo.toml` in a macro package's directory, if there is one. */
function ownCargoManifest(dir: string): string | undefined {
	const path = resolve(dir, CARGO_MANIFEST_FILE);
	return existsSync(path) ? path : undefined;
}

function describeTable(path: string[]): string {
	if (path.length === 0) return 'the manifest';
	if (path[0] === 'dependencies' && path.length === 2) return `dependency "${path[1]}"`;
	return `[${path.join('.')}]`;
}

/** Whether a parsed TOML value is a table (not an array, a date or a scalar). */
export function isTable(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** The TOML name of a value's type, for "found X" in messages. */
function typeName(value: unknown): string {
	if (typeof value === 'string') return 'a string';
	if (typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))) return 'an integer';
	if (typeof value === 'number') return 'a float';
	if (typeof value === 'boolean') return 'a boolean';
	if (Array.isArray(value)) return 'an array';
	if (value instanceof Date) return 'a date-time';
	return 'a table';
}
