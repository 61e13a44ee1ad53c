/**
 * Finding the Rust toolchain (cargo, rustc) and asking rustc who it is (`rustc -vV`, part of the cache key) without
 * spawning rustc on every run: the answer is kept in the cache directory, keyed by a fingerprint of the files that
 * decide which compiler runs.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { ToolchainNotFoundError, type RustTool } from './errors.js';

/** Where a tool was found, or every place searched when it was not. */
export interface ToolLookup {
	path: string | undefined;
	searched: string[];
}

/** PATH as cargo should see it: the caller's PATH, then ~/.cargo/bin where rustup installs cargo and rustc. */
export function toolchainPath(env: NodeJS.ProcessEnv): string {
	const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
	if (env.HOME) {
		const cargoBin = join(env.HOME, '.cargo', 'bin');
		if (!dirs.includes(cargoBin)) dirs.push(cargoBin);
	}
	return dirs.join(delimiter);
}

/** Looks a tool up on {@link toolchainPath}; `CARGO`/`RUSTC` in `env` win, as cargo itself honours `RUSTC`. */
export function findTool(tool: RustTool, env: NodeJS.ProcessEnv): ToolLookup {
	const override = env[tool.toUpperCase()];
	if (override) return { path: existsSync(override) ? override : undefined, searched: [override] };
	const searched: string[] = [];
	for (const dir of toolchainPath(env).split(delimiter)) {
		if (!dir) continue;
		const candidate = join(dir, tool);
		searched.push(candidate);
		if (isFile(candidate)) return { path: candidate, searched };
	}
	return { path: undefined, searched };
}

/** Like {@link findTool}, but throws {@link ToolchainNotFoundError} naming the package that needed the tool. */
export function requireTool(tool: RustTool, env: NodeJS.ProcessEnv, packageName: string): string {
	const found = findTool(tool, env);
	if (!found.path) throw new ToolchainNotFoundError(tool, packageName, found.searched);
	return found.path;
}

/** Result of {@link rustcVersionInfo}. */
export interface RustcInfo {
	/** The full `rustc -vV` output. */
	verbose: string;
	/** Whether rustc had to be spawned (false when the cached answer was still valid). */
	spawned: boolean;
}

/**
 * `rustc -vV` for the rustc at `rustcPath`, from `<cacheDir>/<infoFile>` (`rustc-info.json` unless told otherwise) when
 * its fingerprint still matches. Each compiler gets its own file, so two of them do not evict each other's answer.
 * The fingerprint covers the rustc binary (path, size, mtime) and, since ~/.cargo/bin/rustc is usually rustup's proxy
 * whose own file never changes, rustup's settings, the RUSTUP_TOOLCHAIN override and every installed toolchain's rustc:
 * `rustup update` or `rustup default` change one of those.
 */
export async function rustcVersionInfo(rustcPath: string, env: NodeJS.ProcessEnv, cacheDir: string, infoFile = 'rustc-info.json'): Promise<RustcInfo> {
	const fingerprint = rustcFingerprint(rustcPath, env);
	const file = join(cacheDir, infoFile);
	try {
		const cached = JSON.parse(readFileSync(file, 'utf8')) as { fingerprint?: string; verbose?: string };
		if (cached.fingerprint === fingerprint && typeof cached.verbose === 'string') return { verbose: cached.verbose, spawned: false };
	} catch {
		// Missing or unreadable: ask rustc below.
	}
	const result = await execa(rustcPath, ['-vV'], { env: { ...env, PATH: toolchainPath(env) }, extendEnv: false, reject: false });
	if (result.exitCode !== 0) {
		throw new Error(`\`${rustcPath} -vV\` failed with exit code ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim()}`);
	}
	mkdirSync(cacheDir, { recursive: true });
	// Write then rename, so a concurrent reader sees the old answer or the new one, never half of one.
	const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
	writeFileSync(temp, JSON.stringify({ fingerprint, verbose: result.stdout }));
	renameSync(temp, file);
	return { verbose: result.stdout, spawned: true };
}

/** Everything that decides which compiler `rustcPath` runs, as one string. */
export function rustcFingerprint(rustcPath: string, env: NodeJS.ProcessEnv): string {
	const parts = [rustcPath, statPart(rustcPath), `RUSTUP_TOOLCHAIN=${env.RUSTUP_TOOLCHAIN ?? ''}`];
	const rustupHome = env.RUSTUP_HOME ?? (env.HOME ? join(env.HOME, '.rustup') : undefined);
	if (rustupHome && existsSync(rustupHome)) {
		parts.push(`settings:${statPart(join(rustupHome, 'settings.toml'))}`);
		const toolchains = join(rustupHome, 'toolchains');
		let names: string[] = [];
		try {
			names = readdirSync(toolchains).sort();
		} catch {
			// No toolchains directory: nothing more to fingerprint.
		}
		for (const name of names) parts.push(`${name}:${statPart(join(toolchains, name, 'bin', 'rustc'))}`);
	}
	// A directory override (rust-toolchain.toml) does not apply: cargo runs in macro-host's own build directory.
	return parts.join('|');
}

function statPart(file: string): string {
	try {
		const s = statSync(file);
		return `${s.size}:${s.mtimeMs}:${s.ino}`;
	} catch {
		return 'absent';
	}
}

function isFile(path: string): boolean {
	try {
		return statSync(path).isFile();
	} catch {
		return false;
	}
}
