/**
 * A package's identity as Scarb spells it, for tools that speak Scarb's language (the proc-macro server's component
 * discriminators, `debug_info.source_packages`): the source id `path+file:///…/Scarb.toml` and the serialized package
 * id `<name> <version> (<source id>)`. Every package macro-host resolves is a path package.
 */
import { pathToFileURL } from 'node:url';
import type { PackageManifest } from './manifest.js';

/** Scarb's source id of a path package: `path+` and the file URL of its Scarb.toml. */
export function scarbSourceId(manifest: Pick<PackageManifest, 'manifestPath'>): string {
	return `path+${pathToFileURL(manifest.manifestPath).href}`;
}

/** Scarb's serialized package id, e.g. `hello 1.0.0 (path+file:///home/me/hello/Scarb.toml)`. */
export function scarbPackageId(manifest: Pick<PackageManifest, 'name' | 'versionText' | 'manifestPath'>): string {
	return `${manifest.name} ${manifest.versionText} (${scarbSourceId(manifest)})`;
}
