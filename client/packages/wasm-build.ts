/**
 * Builds a `[cairo-plugin] target = "wasm"` package into a `.wasm` module without cargo: rustup's toolchain may have
 * no wasm32 target, while Debian's rustc (`/usr/bin/rustc` with `libstd-rust-dev-wasm32`) has one. That rustc is
 * always called by its full path, so it never shadows the rustc cargo uses. The SDK is compiled into an rlib once per
 * compiler and SDK content (kept in the cache), then the package's src/lib.rs into a cdylib against it.
 */
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'smol-toml';
import { tempName } from './atomic-file.js';
import type { BuildPhase, BuildProgress } from './cargo-build.js';
import { computeSdkKey } from './cache-key.js';
import { crateNameFor } from './cargo-manifest.js';
import { PackageBuildError, WasmToolchainNotFoundError } from './errors.js';
import type { PackageManifest } from './manifest.js';

/** The target wasm macro packages are built for. */
export const WASM_TARGET = 'wasm32-unknown-unknown';

/**
 * Flags of every wasm compile (SDK and package), part of the cache key: optimised (`-O` is opt-level 2) and without
 * debug info, which would make the modules about 40 times larger.
 */
export const WASM_RUSTC_FLAGS: readonly string[] = ['--target', WASM_TARGET, '-O', '-C', 'debuginfo=0', '-C', 'strip=debuginfo'];

/** The edition a package is compiled with unless `[tool.cargo.pkg.package] edition` says otherwise (cargo's default for our packages). */
export const WASM_DEFAULT_EDITION = '2021';

/** The SDK's crate name, as a package's code imports it. */
const SDK_CRATE = 'macro_host_sdk';

/** Inputs of {@link buildWasmModule}. */
export interface WasmBuildRequest {
	/** Absolute path of the wasm rustc. */
	rustc: string;
	/** Its `rustc -vV` (keys the SDK rlib). */
	rustcVerbose: string;
	/** The package to build. */
	manifest: PackageManifest;
	/** Absolute directory of the SDK crate. */
	sdkDir: string;
	/** The cache directory (the SDK rlib is kept under `wasm-sdk/`). */
	cacheDir: string;
	/** A fresh directory for this build's output. */
	outDir: string;
	/** Environment for rustc. */
	env: NodeJS.ProcessEnv;
	onProgress?: (progress: BuildProgress) => void;
	/** How often to report progress while rustc is quiet, in ms. */
	tickMs?: number;
}

/** What a successful wasm build produced. */
export interface WasmBuildResult {
	/** The `.wasm` module, in `outDir`. */
	artifact: string;
	/** Warnings rustc printed for the package, or empty. */
	warnings: string;
	/** Whether the SDK rlib had to be compiled (false when the cache had it). */
	sdkBuilt: boolean;
	durationMs: number;
}

/**
 * Throws {@link WasmToolchainNotFoundError} unless `rustc` is an executable file. Spawns nothing, so it can run before
 * every cache check.
 */
export function requireWasmCompiler(rustc: string, packageName: string): void {
	try {
		if (!statSync(rustc).isFile()) throw new Error('not a file');
		accessSync(rustc, constants.X_OK);
	} catch {
		throw new WasmToolchainNotFoundError('missingCompiler', rustc, packageName);
	}
}

/**
 * Checks the target's standard library, compiles the SDK unless cached, then the package. Throws
 * WasmToolchainNotFoundError or PackageBuildError (rustc's rendered message, naming the package).
 */
export async function buildWasmModule(request: WasmBuildRequest): Promise<WasmBuildResult> {
	const { manifest } = request;
	const started = performance.now();
	let phase: BuildPhase = 'compiling';
	let unit: string | undefined;
	const report = (): void =>
		request.onProgress?.({ package: manifest.name, version: manifest.versionText, phase, unit, elapsedMs: Math.round(performance.now() - started) });
	const ticker = setInterval(report, request.tickMs ?? 1000);
	ticker.unref();
	try {
		report();
		await requireWasmTarget(request.rustc, request.env, manifest.name);

		const sdk = sdkRlibPath(request);
		const sdkBuilt = !existsSync(sdk.rlib);
		if (sdkBuilt) {
			unit = `${SDK_CRATE} (${WASM_TARGET})`;
			report();
			await buildSdk(request, sdk);
		}

		unit = `${manifest.name} v${manifest.versionText} (${WASM_TARGET})`;
		report();
		const crate = crateNameFor(manifest.name);
		mkdirSync(request.outDir, { recursive: true });
		const source = join(manifest.dir, 'src', 'lib.rs');
		const result = await rustc(request, [
			'--edition',
			packageEdition(manifest),
			'--crate-type',
			'cdylib',
			'--crate-name',
			crate,
			'--extern',
			`${SDK_CRATE}=${sdk.rlib}`,
			source,
			'--out-dir',
			request.outDir,
		]);
		if (!result.ok) throw buildError(request, manifest, result);
		phase = 'finished';
		report();
		return { artifact: join(request.outDir, `${crate}.wasm`), warnings: result.stderr.trim(), sdkBuilt, durationMs: Math.round(performance.now() - started) };
	} finally {
		clearInterval(ticker);
	}
}

/** `[tool.cargo.pkg.package] edition`, else the default. */
export function packageEdition(manifest: PackageManifest): string {
	const pkg = manifest.cargoTable?.package as Record<string, unknown> | undefined;
	return typeof pkg?.edition === 'string' ? pkg.edition : WASM_DEFAULT_EDITION;
}

/** Throws {@link WasmToolchainNotFoundError} when the compiler has no wasm32 standard library. */
async function requireWasmTarget(compiler: string, env: NodeJS.ProcessEnv, packageName: string): Promise<void> {
	const result = await execa(compiler, ['--print', 'target-libdir', '--target', WASM_TARGET], { env: rustcEnv(compiler, env), extendEnv: false, reject: false });
	if (result.exitCode !== 0) {
		// A rustc too old for --print target-libdir, or one that does not know the target at all.
		throw new WasmToolchainNotFoundError('missingTarget', compiler, packageName, `\`--print target-libdir\` said: ${firstLine(result.stderr || result.shortMessage || `exit code ${result.exitCode}`)}`);
	}
	const libDir = result.stdout.trim();
	let files: string[] = [];
	try {
		files = readdirSync(libDir);
	} catch {
		// Missing directory: the standard library is not installed.
	}
	if (!files.some((f) => /^libstd-.*\.rlib$/.test(f))) throw new WasmToolchainNotFoundError('missingTarget', compiler, packageName, `no libstd in ${libDir}`);
}

/** Where the SDK rlib of this compiler and SDK content lives. */
function sdkRlibPath(request: WasmBuildRequest): { dir: string; rlib: string } {
	const key = computeSdkKey(request.sdkDir, request.rustcVerbose, WASM_RUSTC_FLAGS);
	const dir = join(request.cacheDir, 'wasm-sdk', key);
	return { dir, rlib: join(dir, `lib${SDK_CRATE}.rlib`) };
}

/** Compiles the SDK into a private directory, then renames it into place; a concurrent build that won keeps its own. */
async function buildSdk(request: WasmBuildRequest, sdk: { dir: string; rlib: string }): Promise<void> {
	const temp = tempName(sdk.dir);
	mkdirSync(temp, { recursive: true });
	try {
		const result = await rustc(request, [
			'--edition',
			sdkEdition(request.sdkDir),
			'--crate-type',
			'rlib',
			'--crate-name',
			SDK_CRATE,
			join(request.sdkDir, 'src', 'lib.rs'),
			'--out-dir',
			temp,
		]);
		if (!result.ok) {
			throw buildError(request, request.manifest, { ...result, stderr: `the SDK (${request.sdkDir}) did not compile for ${WASM_TARGET}:\n${result.stderr}` });
		}
		try {
			renameSync(temp, sdk.dir);
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code;
			if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !existsSync(sdk.rlib)) throw error;
		}
	} finally {
		rmSync(temp, { recursive: true, force: true });
	}
}

/** The SDK's own edition from its Cargo.toml, as cargo would use it. */
function sdkEdition(sdkDir: string): string {
	try {
		const edition = (parse(readFileSync(join(sdkDir, 'Cargo.toml'), 'utf8')) as { package?: { edition?: unknown } }).package?.edition;
		if (typeof edition === 'string') return edition;
	} catch {
		// Unreadable: rustc reports the problem with the sources, if any.
	}
	return WASM_DEFAULT_EDITION;
}

interface RustcRun {
	ok: boolean;
	stderr: string;
	exitCode: number | undefined;
	signal: string | undefined;
	/** Why rustc could not start, when it could not. */
	startError: string | undefined;
}

async function rustc(request: WasmBuildRequest, args: string[]): Promise<RustcRun> {
	const result = await execa(request.rustc, [...WASM_RUSTC_FLAGS, '--color', 'never', ...args], {
		env: rustcEnv(request.rustc, request.env),
		extendEnv: false,
		reject: false,
		stdin: 'ignore',
	});
	const startError = result.failed && result.exitCode === undefined && !result.signal ? result.shortMessage : undefined;
	return { ok: result.exitCode === 0, stderr: String(result.stderr), exitCode: result.exitCode, signal: result.signal, startError };
}

/** The caller's environment; PATH ends with the compiler's own directory, where its linker (rust-lld) usually sits. */
function rustcEnv(compiler: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
	const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
	const own = dirname(compiler);
	if (!dirs.includes(own)) dirs.push(own);
	return { ...env, PATH: dirs.join(delimiter) };
}

function buildError(request: WasmBuildRequest, manifest: PackageManifest, run: RustcRun): PackageBuildError {
	const rendered = run.startError
		? `could not run ${request.rustc}: ${run.startError}`
		: run.stderr.trim() || (run.signal ? `rustc was killed by ${run.signal}` : `rustc exited with code ${run.exitCode}`);
	return new PackageBuildError(manifest.name, manifest.versionText, manifest.manifestPath, rendered, run.exitCode, request.rustc, WASM_TARGET);
}

function firstLine(text: string): string {
	return text.trim().split('\n')[0] ?? '';
}
