/**
 * Warnings about a macro package that are not the compiler's: its Cargo and Scarb names differ, or a prebuilt library
 * it was allowed to use is missing or does not load (it was built from source instead). The build goes on; the CLI
 * prints them and expand-project reports them as warning diagnostics.
 */
import { displayPath } from './errors.js';

/** What a {@link PackageWarning} is about. */
export type PackageWarningKind =
	/** The author's Cargo.toml names the package differently from its Scarb.toml (Scarb warns the same way). */
	| 'package-name-mismatch'
	/** `allow-prebuilt-plugins` allows a prebuilt library, but the package ships none for this platform. */
	| 'prebuilt-missing'
	/** The package's prebuilt library did not load; it was built from source instead. */
	| 'prebuilt-not-loadable';

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

/** `warning: <package> v<version>: <message>` lines, as the CLI prints them. */
export function formatPackageWarning(w: PackageWarning): string {
	return `warning: ${w.package} v${w.version}: ${w.message}\n`;
}

function warning(kind: PackageWarningKind, pkg: WarnedPackage, message: string): PackageWarning {
	return { kind, package: pkg.name, version: pkg.version, manifestPath: pkg.manifestPath, message };
}
