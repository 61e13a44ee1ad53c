/**
 * The content hash under which a macro package's built library is cached: its manifest, its plugin target (native or
 * wasm), every source file of the package and of its Rust path dependencies, the SDK (version and sources), the
 * compiler's `rustc -vV` (for a wasm package, the wasm compiler's) and what else changes the output: for cargo builds
 * the environment variables it reads (RUSTFLAGS, CARGO_PROFILE_RELEASE_*, ...), for wasm builds the rustc flags.
 * Paths are not part of it, only contents (and file names relative to their crate), so a moved package stays cached.
 */
import { createHash, type Hash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'smol-toml';
import type { PackageManifest } from './manifest.js';

/** Bumped when the generated Cargo.toml or the build changes in a way that makes old cached libraries wrong. */
const CACHE_FORMAT = 'macro-host-package-cache-v1';

/** Inputs of {@link computeCacheKey} besides the package. */
export interface CacheKeyInputs {
	/** Absolute directory of the SDK crate. */
	sdkDir: string;
	/** `rustc -vV` output; its `host:` line is the target the library is built for. */
	rustcVerbose: string;
	/** The environment cargo runs with: the variables that change its output are part of the key. */
	env: NodeJS.ProcessEnv;
	/** Compiler flags macro-host passes itself (the wasm build's); empty for cargo builds. */
	compilerFlags?: readonly string[];
}

/** Environment variables that change what cargo builds (flags, target, release profile). */
function buildEnvironment(env: NodeJS.ProcessEnv): string {
	const names = Object.keys(env)
		.filter((name) => /^(RUSTFLAGS|CARGO_ENCODED_RUSTFLAGS|CARGO_BUILD_RUSTFLAGS|CARGO_BUILD_TARGET|CARGO_PROFILE_RELEASE_.*)$/.test(name))
		.sort();
	return names.map((name) => `${name}=${env[name]}`).join('\n');
}

/** The key: 64 lowercase hex digits of sha256. */
export function computeCacheKey(manifest: PackageManifest, inputs: CacheKeyInputs): string {
	const hash = startKey(manifest, inputs, 'generated');
	hashTree(hash, 'package', join(manifest.dir, 'src'));
	hashCrate(hash, 'sdk', inputs.sdkDir, new Set());
	const seen = new Set<string>();
	for (const dep of [...manifest.cargoPathDependencies].sort((a, b) => (a.name < b.name ? -1 : 1))) {
		hashCrate(hash, `dep:${dep.name}`, dep.dir, seen);
	}
	return hash.digest('hex');
}

/**
 * The key of a package built with the author's own Cargo.toml (Scarb's layout): besides the Scarb.toml, that crate as
 * cargo sees it (its Cargo.toml, Cargo.lock, rust-toolchain file, build.rs and src/) and its path dependencies, the SDK
 * among them when it is one. The bundled SDK is not part of it otherwise: such a package need not use it.
 */
export function computeOwnCargoCacheKey(manifest: PackageManifest, inputs: Omit<CacheKeyInputs, 'sdkDir'>): string {
	const hash = startKey(manifest, inputs, 'own-cargo');
	for (const name of ['Cargo.lock', 'rust-toolchain', 'rust-toolchain.toml']) field(hash, `package:${name}`, readOptional(join(manifest.dir, name)));
	hashCrate(hash, 'package', manifest.dir, new Set());
	return hash.digest('hex');
}

/** The fields every package key starts with: the format, how the Cargo.toml came about, the compiler and its environment, the Scarb.toml. */
function startKey(manifest: PackageManifest, inputs: Omit<CacheKeyInputs, 'sdkDir'>, layout: 'generated' | 'own-cargo'): Hash {
	const hash = createHash('sha256');
	field(hash, 'format', CACHE_FORMAT);
	// The generated layout's keys stay what they were before the own-Cargo.toml layout existed.
	if (layout !== 'generated') field(hash, 'layout', layout);
	field(hash, 'target', manifest.pluginTarget);
	field(hash, 'rustc', inputs.rustcVerbose);
	field(hash, 'flags', (inputs.compilerFlags ?? []).join('\u0000'));
	field(hash, 'env', buildEnvironment(inputs.env));
	field(hash, 'manifest', manifest.text);
	return hash;
}

/** The key of the SDK compiled on its own (the wasm build's rlib): its sources, the compiler and the flags. */
export function computeSdkKey(sdkDir: string, rustcVerbose: string, compilerFlags: readonly string[]): string {
	const hash = createHash('sha256');
	field(hash, 'format', `${CACHE_FORMAT}:sdk`);
	field(hash, 'rustc', rustcVerbose);
	field(hash, 'flags', compilerFlags.join('\u0000'));
	hashCrate(hash, 'sdk', sdkDir, new Set());
	return hash.digest('hex');
}

/** A crate's Cargo.toml and src/, then its own path dependencies (each crate once). */
function hashCrate(hash: Hash, label: string, dir: string, seen: Set<string>): void {
	const abs = resolve(dir);
	if (seen.has(abs)) return;
	seen.add(abs);
	// A missing Cargo.toml makes cargo fail with its own message; the key only has to differ.
	const cargoToml = readOptional(join(abs, 'Cargo.toml')).toString('utf8');
	field(hash, `${label}:Cargo.toml`, cargoToml);
	const buildScript = join(abs, 'build.rs');
	if (existsSync(buildScript)) field(hash, `${label}:build.rs`, readOptional(buildScript));
	hashTree(hash, label, join(abs, 'src'));
	for (const [name, depDir] of pathDependencies(cargoToml, abs)) hashCrate(hash, `${label}/${name}`, depDir, seen);
}

/** `name → absolute dir` of the path dependencies a Cargo.toml declares (any dependency table). */
function pathDependencies(cargoToml: string, crateDir: string): [string, string][] {
	let data: Record<string, unknown>;
	try {
		data = parse(cargoToml) as Record<string, unknown>;
	} catch {
		return [];
	}
	const out: [string, string][] = [];
	for (const section of ['dependencies', 'build-dependencies']) {
		const table = data[section];
		if (typeof table !== 'object' || table === null) continue;
		for (const [name, spec] of Object.entries(table as Record<string, unknown>)) {
			const path = (spec as { path?: unknown } | null)?.path;
			if (typeof path === 'string') out.push([name, resolve(crateDir, path)]);
		}
	}
	return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/**
 * Every file under `dir`, by relative path in sorted order, with its content. Symbolic links are
 * followed (a package may link a source file it shares with another), each real directory once.
 */
function hashTree(hash: Hash, label: string, dir: string): void {
	const seen = new Set<string>();
	const walk = (rel: string): void => {
		let entries;
		try {
			const real = realpathSync(join(dir, rel));
			if (seen.has(real)) return;
			seen.add(real);
			entries = readdirSync(join(dir, rel), { withFileTypes: true });
		} catch {
			return;
		}
		entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
		for (const entry of entries) {
			const path = rel ? `${rel}/${entry.name}` : entry.name;
			const kind = entry.isSymbolicLink() ? statKind(join(dir, path)) : entry.isDirectory() ? 'dir' : entry.isFile() ? 'file' : undefined;
			if (kind === 'dir') walk(path);
			else if (kind === 'file') field(hash, `${label}:${path}`, readFileSync(join(dir, path)));
		}
	};
	walk('');
}

/** What a symbolic link points at; undefined for a dangling link. */
function statKind(path: string): 'dir' | 'file' | undefined {
	try {
		const stat = statSync(path);
		return stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : undefined;
	} catch {
		return undefined;
	}
}

/** A file's bytes, or none when it does not exist (absent and empty hash alike, which no build tells apart). */
function readOptional(path: string): Buffer {
	try {
		return readFileSync(path);
	} catch {
		return Buffer.alloc(0);
	}
}

/** Length-prefixed fields, so that no two different inputs can hash the same bytes. */
function field(hash: Hash, name: string, value: string | Buffer): void {
	const bytes = typeof value === 'string' ? Buffer.from(value) : value;
	hash.update(`${name}\u0000${bytes.length}\u0000`);
	hash.update(bytes);
}
