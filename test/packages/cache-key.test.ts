/** The cache key's inputs, and the cached `rustc -vV` answer (with a stand-in rustc, so that it can change). */
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computeCacheKey, computeOwnCargoCacheKey } from '../../dist/client/packages/cache-key.js';
import { readManifest } from '../../dist/client/packages/manifest.js';
import { BUNDLED_SDK_DIR } from '../../dist/client/packages/options.js';
import { rustcVersionInfo } from '../../dist/client/packages/toolchain.js';
import { removeTempDirs, tempDir, writeFiles, writeMacroPackage, writeOwnCargoPackage } from './helpers.js';

afterAll(removeTempDirs);

describe('computeCacheKey', () => {
	const root = tempDir('cache-key');
	writeMacroPackage(join(root, 'a'), { name: 'key_macro' });
	const base = { sdkDir: BUNDLED_SDK_DIR, rustcVerbose: 'rustc 1.95.0\nhost: x86_64-unknown-linux-gnu\n', env: {} };
	const keyOf = (dir: string, inputs = base) => computeCacheKey(readManifest(join(root, dir, 'Scarb.toml')), inputs);

	it('is a sha256 of contents: the same package at another path has the same key', () => {
		cpSync(join(root, 'a'), join(root, 'copy'), { recursive: true });
		expect(keyOf('a')).toMatch(/^[0-9a-f]{64}$/);
		expect(keyOf('copy')).toBe(keyOf('a'));
	});

	it('changes with a source file, a new file, the manifest, rustc, and RUSTFLAGS', () => {
		const key = keyOf('a');
		cpSync(join(root, 'a'), join(root, 'b'), { recursive: true });
		writeFiles(join(root, 'b'), { 'src/extra.rs': '' });
		expect(keyOf('b')).not.toBe(key);
		cpSync(join(root, 'a'), join(root, 'c'), { recursive: true });
		writeFiles(join(root, 'c'), { 'src/lib.rs': '// edited\n' });
		expect(keyOf('c')).not.toBe(key);
		cpSync(join(root, 'a'), join(root, 'd'), { recursive: true });
		writeFiles(join(root, 'd'), { 'Scarb.toml': '[package]\nname = "key_macro"\nversion = "0.1.1"\n\n[cairo-plugin]\n' });
		expect(keyOf('d')).not.toBe(key);
		expect(keyOf('a', { ...base, rustcVerbose: 'rustc 1.96.0\n' })).not.toBe(key);
		expect(keyOf('a', { ...base, env: { RUSTFLAGS: '-C target-cpu=native' } })).not.toBe(key);
		expect(keyOf('a', { ...base, env: { UNRELATED: '1' } })).toBe(key);
	});

	it('follows a source file linked from another package: editing the target changes the key', () => {
		writeMacroPackage(join(root, 'shared'), { name: 'key_macro' });
		cpSync(join(root, 'a'), join(root, 'linked'), { recursive: true });
		rmSync(join(root, 'linked', 'src', 'lib.rs'));
		symlinkSync(join(root, 'shared', 'src', 'lib.rs'), join(root, 'linked', 'src', 'lib.rs'));
		// Same content through the link: the same key as the plain copy.
		expect(keyOf('linked')).toBe(keyOf('a'));
		writeFiles(join(root, 'shared'), { 'src/lib.rs': '// edited through the link\n' });
		expect(keyOf('linked')).not.toBe(keyOf('a'));
	});
});

describe('computeOwnCargoCacheKey (a package with its own Cargo.toml)', () => {
	const root = tempDir('own-cargo-key');
	writeOwnCargoPackage(join(root, 'a'), { name: 'own_key' });
	writeFiles(join(root, 'helper'), { 'Cargo.toml': '[package]\nname = "helper"\nversion = "0.1.0"\n', 'src/lib.rs': 'pub const X: u8 = 1;\n' });
	const base = { rustcVerbose: 'rustc 1.95.0\nhost: x86_64-unknown-linux-gnu\n', env: {} };
	const keyOf = (dir: string) => computeOwnCargoCacheKey(readManifest(join(root, dir, 'Scarb.toml')), base);
	/** A copy of package `a` named `dir`, with `files` written over it. */
	const variant = (dir: string, files: Record<string, string>): string => {
		cpSync(join(root, 'a'), join(root, dir), { recursive: true });
		writeFiles(join(root, dir), files);
		return keyOf(dir);
	};

	it('is not the generated layout\'s key, and is the same for the same contents at another path', () => {
		const manifest = readManifest(join(root, 'a', 'Scarb.toml'));
		expect(keyOf('a')).not.toBe(computeCacheKey(manifest, { ...base, sdkDir: BUNDLED_SDK_DIR }));
		cpSync(join(root, 'a'), join(root, 'copy'), { recursive: true });
		expect(keyOf('copy')).toBe(keyOf('a'));
	});

	it('changes with the Cargo.toml, the Cargo.lock, build.rs, a rust-toolchain file, a source file and a path dependency', () => {
		const key = keyOf('a');
		const cargoToml = readFileSync(join(root, 'a', 'Cargo.toml'), 'utf8');
		expect(variant('toml', { 'Cargo.toml': `${cargoToml}\n[features]\nx = []\n` })).not.toBe(key);
		expect(variant('lock', { 'Cargo.lock': 'version = 4\n' })).not.toBe(key);
		expect(variant('build-rs', { 'build.rs': 'fn main() {}\n' })).not.toBe(key);
		expect(variant('toolchain', { 'rust-toolchain.toml': '[toolchain]\nchannel = "1.80"\n' })).not.toBe(key);
		expect(variant('src', { 'src/lib.rs': '// edited\n' })).not.toBe(key);
		const withHelper = variant('dep', { 'Cargo.toml': `${cargoToml}helper = { path = "../helper" }\n` });
		writeFiles(join(root, 'helper'), { 'src/lib.rs': 'pub const X: u8 = 2;\n' });
		expect(keyOf('dep')).not.toBe(withHelper);
	});
});

describe('rustcVersionInfo', () => {
	it('asks rustc once, then answers from the cache until the compiler changes', async () => {
		const root = tempDir('rustc-info');
		const bin = join(root, 'bin');
		mkdirSync(bin);
		const rustc = join(bin, 'rustc');
		const counter = join(root, 'count');
		const write = (version: string) => {
			writeFileSync(rustc, `#!/bin/sh\necho x >> "${counter}"\necho "rustc ${version}"\necho "host: x86_64-unknown-linux-gnu"\n`);
			chmodSync(rustc, 0o755);
		};
		write('1.95.0');
		const env = { PATH: bin, HOME: join(root, 'home'), RUSTUP_HOME: join(root, 'rustup') };
		const cacheDir = join(root, 'cache');

		const first = await rustcVersionInfo(rustc, env, cacheDir);
		expect(first).toEqual({ verbose: 'rustc 1.95.0\nhost: x86_64-unknown-linux-gnu', spawned: true });
		expect(await rustcVersionInfo(rustc, env, cacheDir)).toEqual({ ...first, spawned: false });

		// A new compiler binary (rustup update rewrites it): asked again.
		write('1.96.0');
		utimesSync(rustc, new Date(), new Date(Date.now() + 5000));
		expect(await rustcVersionInfo(rustc, env, cacheDir)).toEqual({ verbose: 'rustc 1.96.0\nhost: x86_64-unknown-linux-gnu', spawned: true });

		// rustup's proxy file never changes, but its settings (rustup default) and toolchains do.
		writeFiles(join(root, 'rustup'), { 'settings.toml': 'default_toolchain = "stable"\n' });
		expect((await rustcVersionInfo(rustc, env, cacheDir)).spawned).toBe(true);
		writeFiles(join(root, 'rustup'), { 'toolchains/beta-x86_64-unknown-linux-gnu/bin/rustc': '' });
		expect((await rustcVersionInfo(rustc, env, cacheDir)).spawned).toBe(true);
		expect((await rustcVersionInfo(rustc, { ...env, RUSTUP_TOOLCHAIN: 'beta' }, cacheDir)).spawned).toBe(true);
		expect((await rustcVersionInfo(rustc, { ...env, RUSTUP_TOOLCHAIN: 'beta' }, cacheDir)).spawned).toBe(false);
	});
});
