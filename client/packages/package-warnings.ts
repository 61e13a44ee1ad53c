/**
 * Warnings about a package that are not the compiler's: its Cargo and Scarb names differ, a prebuilt library it was
 * allowed to use is missing or does not load (it was built from source instead), its manifest has a `[cairo-plugin]`
 * key macro-host does not know or a table that looks like a misspelt `[cairo-plugin]`, or a path dependency looks like
 * a macro package but has no `[cairo-plugin]`. The build goes on; the CLI prints them and expand-project reports them
 * as warning diagnostics.
 */
import { displayPath } from './errors.js';
import type { TextPosition } from './toml-locations.js';

/** What a {@link PackageWarning} is about. */
export type PackageWarningKind =
	/** The author's Cargo.toml names the package differently from its Scarb.toml (Scarb warns the same way). */
	| 'package-name-mismatch'
	/** `allow-prebuilt-plugins` allows a prebuilt library, but the package ships none for this platform. */
	| 'prebuilt-missing'
	/** The package's prebuilt library did not load; it was built from source instead. */
	| 'prebuilt-not-loadable'
	/** A key in `[cairo-plugin]` that macro-host does not know (a typo, or a setting it would silently ignore). */
	| 'unknown-plugin-key'
	/** A top-level table close to `cairo-plugin` (`[cairo_plugin]`) in a package without `[cairo-plugin]`. */
	| 'misspelt-plugin-table'
	/** A path dependency with Rust sources and no `[cairo-plugin]`: it provides no macros. */
	| 'missing-plugin-table';

/** One warning about one macro package. */
export interface PackageWarning {
	kind: PackageWarningKind;
	/** The macro package, as its Scarb.toml names it. */
	package: string;
	/** Its version. */
	version: string;
	/** Absolute path of its Scarb.toml. */
	manifestPath: string;
	/** What happened, for a person (may span lines). */
	message: string;
	/** Where in {@link manifestPath} it points, when at one key or table (1-based line and column). */
	position?: TextPosition;
}

/** The package whose warning it is. */
interface WarnedPackage {
	name: string;
	version: string;
	manifestPath: string;
}

/**
 * Scarb's own warning when the Cargo and Scarb package names differ, worded as Scarb words it (so people who search
 * for it find Scarb's explanation), with the package named first because macro-host builds many at once.
 */
export function packageNameMismatch(pkg: WarnedPackage, cargoName: string): PackageWarning {
	return warning('package-name-mismatch', pkg, `package name differs between Cargo and Scarb manifest\ncargo: \`${cargoName}\`, scarb: \`${pkg.name}\`\nthis might become an error in future Scarb releases`);
}

/** The allowed prebuilt library is not there: the package is built from source. */
export function prebuiltMissing(pkg: WarnedPackage, expectedPath: string): PackageWarning {
	return warning('prebuilt-missing', pkg, `no prebuilt library at ${displayPath(expectedPath)} (allowed by allow-prebuilt-plugins); building it from source`);
}

/** The prebuilt library did not load: the package was built from source (or its build was already in the cache). */
export function prebuiltNotLoadable(pkg: WarnedPackage, prebuiltPath: string, reason: string, fromCache: boolean): PackageWarning {
	const instead = fromCache ? 'used the library built from source in the cache instead' : 'built it from source instead';
	return warning('prebuilt-not-loadable', pkg, `the prebuilt library ${displayPath(prebuiltPath)} could not be loaded (${reason}); ${instead}`);
}

/** A `[cairo-plugin]` key macro-host does not know, with the closest known key when one is close. */
export function unknownPluginKey(pkg: WarnedPackage, key: string, known: readonly string[], closest: string | undefined, position: TextPosition): PackageWarning {
	const hint = closest === undefined ? `the keys are ${known.map((k) => `\`${k}\``).join(' and ')}` : `did you mean \`${closest}\`?`;
	return warning('unknown-plugin-key', pkg, `unknown key \`${key}\` in [cairo-plugin], ignored: ${hint}`, position);
}

/** A table such as `[cairo_plugin]` in a package without `[cairo-plugin]`: it is not a macro package. */
export function misspeltPluginTable(pkg: WarnedPackage, table: string, position: TextPosition): PackageWarning {
	return warning(
		'misspelt-plugin-table',
		pkg,
		`unknown table [${table}]: did you mean [cairo-plugin]? Without [cairo-plugin] this package is not a macro package, and its macros are not built`,
		position,
	);
}

/**
 * The dependency `dependencyName` of `requirer` points at a package with Rust sources (`evidence`, e.g. `src/lib.rs`)
 * and no `[cairo-plugin]`: it provides no macros. The warning is the requirer's, at the dependency's key.
 */
export function missingPluginTable(requirer: WarnedPackage, dependencyName: string, dependencyManifest: string, evidence: string, position: TextPosition): PackageWarning {
	return warning(
		'missing-plugin-table',
		requirer,
		`dependency "${dependencyName}" looks like a macro package (it has ${evidence}) but ${displayPath(dependencyManifest)} has no [cairo-plugin] table, ` +
			'so it provides no macros: add an empty [cairo-plugin] table to it',
		position,
	);
}

/** `warning: <package> v<version>: <message>` lines, with ` --> file:line:col` when the warning has a position, as the CLI prints them. */
export function formatPackageWarning(w: PackageWarning): string {
	const at = w.position === undefined ? '' : ` --> ${displayPath(w.manifestPath)}:${w.position.line}:${w.position.column}\n`;
	return `warning: ${w.package} v${w.version}: ${w.message}\n${at}`;
}

function warning(kind: PackageWarningKind, pkg: WarnedPackage, message: string, position?: TextPosition): PackageWarning {
	const out: PackageWarning = { kind, package: pkg.name, version: pkg.version, manifestPath: pkg.manifestPath, message };
	if (position !== undefined) out.position = { line: position.line, column: position.column };
	return out;
}
