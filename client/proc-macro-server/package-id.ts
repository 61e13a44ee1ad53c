/**
 * Package ids as Scarb serializes them (`PackageId::to_serialized_string`): `"<name> <version> (<source url>)"`, where
 * a path package's source url is `path+` and the file URL of its Scarb.toml, e.g.
 * `"hello 1.0.0 (path+file:///home/me/hello/Scarb.toml)"`. The language server takes a component's discriminator, and
 * the debug info's source packages, to be exactly this.
 */
import { pathToFileURL } from 'node:url';

/** The serialized id of the path package `name` `version` whose manifest is at `manifestPath` (absolute). */
export function serializedPackageId(name: string, version: string, manifestPath: string): string {
	return `${name} ${version} (path+${pathToFileURL(manifestPath).href})`;
}

/**
 * The snake_case name Scarb gives a derive (its expansion name): `ToValue` → `to_value`, `HTTPServer` →
 * `http_server`. The language server matches `#[derive(X)]` by turning these back into PascalCase.
 */
export function deriveExpansionName(name: string): string {
	return name
		.replace(/([a-z0-9])([A-Z])/g, '$1_$2')
		.replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
		.toLowerCase();
}
