/** Options of the package flow, with every default applied in one place. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildProgress } from './cargo-build.js';

/** Options of {@link buildProject} and {@link loadProject}. */
export interface BuildOptions {
	/**
	 * Where built libraries, generated Cargo.toml files and cargo's target dir live.
	 * @default `$XDG_CACHE_HOME/macro-host`, else `~/.cache/macro-host`
	 */
	readonly cacheDir?: string;
	/**
	 * The Rust SDK crate every macro package is built against.
	 * @default the `sdk/rust` bundled with this installation of macro-host
	 */
	readonly sdkDir?: string;
	/**
	 * Path of the cargo binary.
	 * @default `$CARGO`, else `cargo` on PATH, else `~/.cargo/bin/cargo`
	 */
	readonly cargo?: string;
	/**
	 * Path of the rustc that builds `[cairo-plugin] target = "wasm"` packages: one with a standard library for
	 * wasm32-unknown-unknown. It is always called by this path, never looked up on PATH, so it cannot shadow the rustc
	 * that cargo uses.
	 * @default `$MACRO_HOST_WASM_RUSTC` (from {@link env}), else `/usr/bin/rustc` (Debian's, with `libstd-rust-dev-wasm32`)
	 */
	readonly wasmRustc?: string;
	/**
	 * Environment used to find cargo and rustc and to run cargo.
	 * @default `process.env`
	 */
	readonly env?: NodeJS.ProcessEnv;
	/**
	 * Whether prebuilt libraries that the project's `[tool.scarb] allow-prebuilt-plugins` allows are used; false always
	 * builds from source.
	 * @default true
	 */
	readonly allowPrebuilt?: boolean;
	/** Called while cargo runs: the package being compiled and the elapsed time. */
	readonly onProgress?: (progress: BuildProgress) => void;
}

/** {@link BuildOptions} with defaults applied. */
export interface NormalizedBuildOptions {
	cacheDir: string;
	sdkDir: string;
	cargo: string | undefined;
	/** Absolute path of the wasm rustc. */
	wasmRustc: string;
	env: NodeJS.ProcessEnv;
	allowPrebuilt: boolean;
	onProgress: ((progress: BuildProgress) => void) | undefined;
}

/** Debian's rustc, which has a wasm32 standard library when `libstd-rust-dev-wasm32` is installed. */
export const DEFAULT_WASM_RUSTC = '/usr/bin/rustc';

/** The environment variable that names the wasm rustc when the `wasmRustc` option is not given. */
export const WASM_RUSTC_ENV = 'MACRO_HOST_WASM_RUSTC';

/** The SDK bundled with this installation: `sdk/rust` beside `dist/` (this file is dist/client/packages/options.js). */
export const BUNDLED_SDK_DIR = fileURLToPath(new URL('../../../sdk/rust/', import.meta.url));

/** The default cache directory for an environment. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
	// The XDG spec says relative values are invalid and must be ignored.
	const xdg = env.XDG_CACHE_HOME;
	if (xdg && isAbsolute(xdg)) return join(xdg, 'macro-host');
	return join(env.HOME || homedir(), '.cache', 'macro-host');
}

/** Applies defaults and checks the options; messages name the option, what it expects and what it got. */
export function normalizeBuildOptions(options: BuildOptions = {}): NormalizedBuildOptions {
	const { cacheDir, sdkDir = BUNDLED_SDK_DIR, cargo, wasmRustc, env = process.env, allowPrebuilt = true, onProgress } = options;
	if (cacheDir !== undefined && (typeof cacheDir !== 'string' || cacheDir === '')) {
		throw new TypeError(`The "cacheDir" option must be a non-empty path, got ${JSON.stringify(cacheDir)} (${typeof cacheDir})`);
	}
	if (cargo !== undefined && (typeof cargo !== 'string' || cargo === '')) {
		throw new TypeError(`The "cargo" option must be the path of a cargo binary, got ${JSON.stringify(cargo)} (${typeof cargo})`);
	}
	if (wasmRustc !== undefined && (typeof wasmRustc !== 'string' || wasmRustc === '')) {
		throw new TypeError(`The "wasmRustc" option must be the path of a rustc binary, got ${JSON.stringify(wasmRustc)} (${typeof wasmRustc})`);
	}
	if (onProgress !== undefined && typeof onProgress !== 'function') {
		throw new TypeError(`The "onProgress" option must be a function, got ${typeof onProgress}`);
	}
	const sdk = resolve(sdkDir);
	if (!existsSync(join(sdk, 'Cargo.toml'))) {
		throw new Error(`The Rust SDK was not found at ${sdk} (no Cargo.toml there); macro packages are built against it`);
	}
	return {
		cacheDir: resolve(cacheDir ?? defaultCacheDir(env)),
		sdkDir: sdk,
		cargo: cargo === undefined ? undefined : resolve(cargo),
		wasmRustc: resolve(wasmRustc ?? (env[WASM_RUSTC_ENV] || DEFAULT_WASM_RUSTC)),
		env,
		allowPrebuilt,
		onProgress,
	};
}
