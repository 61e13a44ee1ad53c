/**
 * The author's own Cargo.toml of a macro package in Scarb's layout (`Scarb.toml` with `[cairo-plugin]` beside a
 * `Cargo.toml` that builds a cdylib): what macro-host needs of it before running cargo (the Cargo package name, the
 * library target's name, that it is a cdylib), read without changing a byte of it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ManifestError } from './errors.js';
import { isTable, parseTomlFile, type PackageManifest } from './manifest.js';
import { TomlLocations } from './toml-locations.js';

/** What {@link readOwnCargoManifest} found in an author's Cargo.toml. */
export interface OwnCargoManifest {
	/** Absolute path of the Cargo.toml. */
	path: string;
	/** `[package] name`, as written. */
	packageName: string;
	/** The library target's name as cargo names it: `[lib] name`, else the package name with `-` as `_`. */
	libName: string;
	/** Absolute path of the package's Cargo.lock when it has one (it is part of the cache key). */
	lockPath: string | undefined;
	/** Absolute path of the library's root source file: `[lib] path`, else `src/lib.rs`. */
	libPath: string;
}

/**
 * Reads the Cargo.toml of `manifest`'s package (its {@link PackageManifest.cargoManifestPath}). Throws
 * {@link ManifestError} at the Cargo.toml's `file:line:col` when it cannot describe a cdylib: a syntax error, no
 * `[package]` (a virtual workspace), a name that is not a plain string, or no `cdylib` in `[lib] crate-type`.
 */
export function readOwnCargoManifest(manifest: PackageManifest): OwnCargoManifest {
	const path = manifest.cargoManifestPath;
	if (path === undefined) throw new TypeError(`macro package ${manifest.name} has no Cargo.toml of its own`);
	let text: string;
	try {
		text = readFileSync(path, 'utf8');
	} catch (error) {
		throw new ManifestError([{ file: path, line: 1, column: 1, message: `cannot read the Cargo manifest: ${(error as Error).message}` }]);
	}
	const data = parseTomlFile(path, text);
	const fail = (at: string[], message: string, prefer: 'value' | 'key' = 'value'): never => {
		const pos = new TomlLocations(text).locate(at, prefer);
		throw new ManifestError([{ file: path, line: pos.line, column: pos.column, message }]);
	};

	const pkg = data.package;
	if (!isTable(pkg)) {
		fail(['package'], `macro package ${manifest.name}: its Cargo.toml has no [package] table; it must describe the macro's own crate, a cdylib`, 'key');
	}
	const packageName = (pkg as Record<string, unknown>).name;
	if (typeof packageName !== 'string') {
		fail(['package', 'name'], `macro package ${manifest.name}: [package] name in its Cargo.toml must be a string (inherited names are not supported)`);
	}
	const lib = data.lib;
	const crateTypes = isTable(lib) ? lib['crate-type'] : undefined;
	if (!Array.isArray(crateTypes) || !crateTypes.includes('cdylib')) {
		// Scarb fails later, with "no target of `cdylib` kind found in package"; saying what to write is kinder.
		fail(
			isTable(lib) ? ['lib', 'crate-type'] : ['package'],
			`macro package ${manifest.name}: its Cargo.toml builds no cdylib; add [lib] crate-type = ["cdylib"] (macro libraries are loaded as shared libraries)`,
			isTable(lib) ? 'value' : 'key',
		);
	}
	const libName = isTable(lib) && typeof lib.name === 'string' ? lib.name : (packageName as string).replace(/-/g, '_');
	const lockPath = join(dirname(path), 'Cargo.lock');
	const libPath = isTable(lib) && typeof lib.path === 'string' ? resolve(dirname(path), lib.path) : join(dirname(path), 'src', 'lib.rs');
	return { path, packageName: packageName as string, libName, lockPath: existsSync(lockPath) ? lockPath : undefined, libPath };
}
