/**
 * One `cargo build` of a macro package's Cargo.toml: offline, release, JSON messages on stdout (the artifact path is
 * read from cargo's `compiler-artifact` message, never guessed; rustc's diagnostics from its `compiler-message`
 * messages, with their places and rendered text) and cargo's own messages on stderr, with progress reported while it
 * runs.
 */
import { execa } from 'execa';
import { dirname, isAbsolute, resolve } from 'node:path';
import { PackageBuildError, type CompilerDiagnostic } from './errors.js';
import type { PackageManifest } from './manifest.js';
import { toolchainPath } from './toolchain.js';

/** What a build is doing, reported while cargo runs. */
export type BuildPhase = 'compiling' | 'waiting-for-lock' | 'finished';

/** A progress report of one macro package's build. */
export interface BuildProgress {
	/** The macro package being built, as its Scarb.toml names it. */
	package: string;
	/** Its version. */
	version: string;
	phase: BuildPhase;
	/** The crate cargo is compiling right now (`macro-host-sdk v0.1.0`); undefined before cargo says. */
	unit: string | undefined;
	/** Time since cargo started, in ms. */
	elapsedMs: number;
}

/** Inputs of {@link runCargoBuild}. */
export interface CargoBuildRequest {
	/** Path of the cargo binary. */
	cargo: string;
	/** The generated Cargo.toml. */
	cargoManifestPath: string;
	/** The shared target dir (`<cache>/target`). */
	targetDir: string;
	/** The library target's name, to pick its artifact among cargo's messages. */
	libName: string;
	/** The package being built, for progress and errors. */
	manifest: PackageManifest;
	/** Environment for cargo (PATH gets ~/.cargo/bin appended). */
	env: NodeJS.ProcessEnv;
	/** Working directory for cargo: the private build directory. */
	cwd: string;
	onProgress?: (progress: BuildProgress) => void;
	/** How often to report progress while cargo is quiet, in ms. */
	tickMs?: number;
}

/** What a successful build produced. */
export interface CargoBuildResult {
	/** The shared library, as cargo's `compiler-artifact` message names it. */
	artifact: string;
	/** Warnings cargo and rustc printed (rendered), or empty. */
	warnings: string;
	durationMs: number;
}

/** cargo's status lines (progress, not diagnostics): kept out of error messages and turned into progress reports. */
const STATUS_LINE = /^\s*(Compiling|Locking|Adding|Updating|Blocking|Fresh|Finished|Building|Checking|Dirty|Packaging|Running)\b/;

/** Runs cargo; throws {@link PackageBuildError} with cargo's rendered output when the build fails. */
export async function runCargoBuild(request: CargoBuildRequest): Promise<CargoBuildResult> {
	const { manifest } = request;
	const started = performance.now();
	let unit: string | undefined;
	let phase: BuildPhase = 'compiling';
	const report = (): void =>
		request.onProgress?.({ package: manifest.name, version: manifest.versionText, phase, unit, elapsedMs: Math.round(performance.now() - started) });

	const subprocess = execa(
		request.cargo,
		[
			'build',
			'--release',
			'--offline',
			'--message-format=json',
			'--target-dir',
			request.targetDir,
			'--manifest-path',
			request.cargoManifestPath,
		],
		{
			cwd: request.cwd,
			env: { ...request.env, PATH: toolchainPath(request.env), CARGO_TERM_COLOR: 'never', CARGO_TERM_PROGRESS_WHEN: 'never' },
			extendEnv: false,
			reject: false,
			stdin: 'ignore',
		},
	);
	const diagnostics: string[] = [];
	let pending = '';
	subprocess.stderr?.on('data', (chunk: Buffer) => {
		pending += chunk.toString();
		let newline: number;
		while ((newline = pending.indexOf('\n')) >= 0) {
			const line = pending.slice(0, newline);
			pending = pending.slice(newline + 1);
			const status = STATUS_LINE.exec(line);
			if (!status) {
				diagnostics.push(line);
				continue;
			}
			if (status[1] === 'Compiling') {
				phase = 'compiling';
				unit = line.trim().slice('Compiling'.length).trim().replace(/\s*\(.*\)$/, '');
				report();
			} else if (status[1] === 'Blocking') {
				// Another process holds cargo's lock on the target dir (a concurrent build): say why nothing moves.
				phase = 'waiting-for-lock';
				report();
			}
		}
	});
	report();
	const ticker = setInterval(report, request.tickMs ?? 1000);
	ticker.unref();
	let result;
	try {
		result = await subprocess;
	} finally {
		clearInterval(ticker);
	}
	if (pending) diagnostics.push(pending);
	const stdout = String(result.stdout);
	const compilerDiagnostics = readCompilerDiagnostics(stdout, dirname(request.cargoManifestPath));
	// rustc's diagnostics first, as cargo would print them, then cargo's own lines (`error: could not compile …`).
	const rendered = [...compilerDiagnostics.map((d) => d.rendered.trimEnd()), ...diagnostics].join('\n').trim();
	const durationMs = Math.round(performance.now() - started);

	if (result.failed && result.exitCode === undefined && !result.signal) {
		// cargo could not even be started (permissions, not an executable).
		throw new PackageBuildError(manifest.name, manifest.versionText, manifest.manifestPath, `could not run ${request.cargo}: ${result.shortMessage}`, undefined);
	}
	if (result.exitCode !== 0) {
		const why = result.signal ? `cargo was killed by ${result.signal}` : `cargo exited with code ${result.exitCode}`;
		throw new PackageBuildError(manifest.name, manifest.versionText, manifest.manifestPath, rendered || why, result.exitCode, 'cargo', undefined, compilerDiagnostics);
	}
	const artifact = findCdylibArtifact(stdout, request.libName);
	if (!artifact) {
		throw new PackageBuildError(
			manifest.name,
			manifest.versionText,
			manifest.manifestPath,
			`cargo succeeded but reported no cdylib artifact for the library target ${request.libName}`,
			0,
		);
	}
	phase = 'finished';
	report();
	return { artifact, warnings: rendered, durationMs };
}

/** The shared library file of the `compiler-artifact` message for the cdylib target `libName`, from cargo's JSON lines. */
export function findCdylibArtifact(jsonLines: string, libName: string): string | undefined {
	let found: string | undefined;
	for (const line of jsonLines.split('\n')) {
		if (!line.startsWith('{')) continue;
		let message: { reason?: string; target?: { name?: string; kind?: string[] }; filenames?: string[] };
		try {
			message = JSON.parse(line);
		} catch {
			continue;
		}
		if (message.reason !== 'compiler-artifact' || message.target?.name !== libName || !message.target.kind?.includes('cdylib')) continue;
		found = message.filenames?.find((name) => /\.(so|dylib|dll)$/.test(name)) ?? found;
	}
	return found;
}

/** rustc's diagnostic as cargo's `compiler-message` carries it (the fields read here). */
interface RustcMessage {
	message?: string;
	level?: string;
	code?: { code?: string } | null;
	rendered?: string | null;
	spans?: { file_name?: string; line_start?: number; column_start?: number; line_end?: number; column_end?: number; is_primary?: boolean }[];
}

/**
 * rustc's diagnostics from cargo's JSON lines, in order, each at its primary span; a relative file name is taken
 * against `workspaceDir` (rustc names files relative to the workspace root).
 */
export function readCompilerDiagnostics(jsonLines: string, workspaceDir: string): CompilerDiagnostic[] {
	const found: CompilerDiagnostic[] = [];
	for (const line of jsonLines.split('\n')) {
		if (!line.startsWith('{')) continue;
		let parsed: { reason?: string; message?: RustcMessage };
		try {
			parsed = JSON.parse(line);
		} catch {
			continue;
		}
		const m = parsed.message;
		if (parsed.reason !== 'compiler-message' || m === undefined || typeof m.message !== 'string') continue;
		const span = m.spans?.find((s) => s.is_primary) ?? m.spans?.[0];
		const file = span?.file_name === undefined ? undefined : isAbsolute(span.file_name) ? span.file_name : resolve(workspaceDir, span.file_name);
		found.push({
			level: m.level ?? 'error',
			message: m.message,
			code: m.code?.code ?? undefined,
			file,
			line: span?.line_start,
			column: span?.column_start,
			endLine: span?.line_end,
			endColumn: span?.column_end,
			rendered: m.rendered ?? `${m.level ?? 'error'}: ${m.message}\n`,
		});
	}
	return found;
}
