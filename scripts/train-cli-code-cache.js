// Makes the `macro-host` command's first V8 code cache at build time (called by bundle-cli.js; runnable
// alone after a build: `node scripts/train-cli-code-cache.js`). It runs the command once as a user does:
// `expand-project` on a small project whose macro package ships a prebuilt library (the benchmark's
// macros, compiled here with gcc), so that the functions of a start, of loading a project, of a pool of
// hosts and of expanding calls are compiled; the loader (client/cli/cli-loader.cts), finding no usable
// cache, writes it as the command exits. When the cache in place already fits this bundle and this Node,
// the loader accepts it and nothing is written: a rebuild that did not change the bundle keeps its cache.
//
// A cache is an optimisation: when anything here fails (no gcc, a command that fails), the build goes on
// with a warning, and the first command run writes the cache itself.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../', import.meta.url));
/** The benchmark's library: noop and echo, the calls the training project makes. */
const TRAINING_SOURCE = join(root, 'bench', 'fixtures', 'bench_macros.c');
const SDK_C = join(root, 'sdk', 'c');
const TRAINING_TIMEOUT_MS = 60_000;
const PACKAGE = 'training_macros';

/**
 * Runs the command at `entry` (dist/client/cli/macro-host.cjs) once so that it leaves a code cache beside
 * its bundle. Never throws: a failure is a warning on stderr.
 */
export async function trainCliCodeCache({ entry }) {
	const workDir = mkdtempSync(join(tmpdir(), 'macro-host-cli-training-'));
	try {
		const { hostTargetTriple, sharedLibraryExtension } = await import(pathToFileURL(join(root, 'dist', 'client', 'packages', 'prebuilt.js')).href);
		const { STARTUP_LOG_ENV, CACHE_ENV } = await import(pathToFileURL(join(root, 'dist', 'client', 'cli', 'cli-loader.cjs')).href);
		const project = writeTrainingProject(workDir);
		const libraryDir = join(workDir, 'macros', 'target', 'scarb', 'cairo-plugin');
		mkdirSync(libraryDir, { recursive: true });
		const library = join(libraryDir, `${PACKAGE}_v0.1.0_${hostTargetTriple()}.${sharedLibraryExtension()}`);
		try {
			await promisify(execFile)(process.env.CC || 'gcc', ['-shared', '-fPIC', '-O1', '-I', SDK_C, '-o', library, TRAINING_SOURCE]);
		} catch (error) {
			warn(`cannot compile the training library (${firstLine(error.stderr || error.message)})`);
			return;
		}
		const env = { ...process.env, [STARTUP_LOG_ENV]: '1' };
		// The default place, beside the bundle, is the one to fill.
		delete env[CACHE_ENV];
		const args = [entry, 'expand-project', project, '--out', join(workDir, 'out'), '--cache-dir', join(workDir, 'cache'), '--no-expansion-cache', '-q'];
		let stderr;
		try {
			({ stderr } = await promisify(execFile)(process.execPath, args, { env, timeout: TRAINING_TIMEOUT_MS }));
		} catch (error) {
			warn(`the training run failed: ${firstLine(error.stderr || error.message)}`);
			return;
		}
		const state = /^macro-host: code cache: (\w+)/m.exec(stderr)?.[1];
		if (state === 'off') warn('the loader does not use a cache for this bundle');
		else if (state !== 'accepted' && !/^macro-host: code cache: written/m.test(stderr)) {
			warn(`the training run wrote no cache: ${/^macro-host: code cache: not written.*/m.exec(stderr)?.[0] ?? stderr.trim()}`);
		}
	} catch (error) {
		warn(error.message);
	} finally {
		rmSync(workDir, { recursive: true, force: true });
	}
}

/** A project calling `echo!` and `noop!` from a macro package that ships its library prebuilt; returns its directory. */
function writeTrainingProject(workDir) {
	const macros = join(workDir, 'macros');
	const app = join(workDir, 'app');
	mkdirSync(macros, { recursive: true });
	mkdirSync(join(app, 'src'), { recursive: true });
	writeFileSync(join(macros, 'Scarb.toml'), `[package]\nname = "${PACKAGE}"\nversion = "0.1.0"\n\n[cairo-plugin]\n`);
	writeFileSync(
		join(app, 'Scarb.toml'),
		`[package]\nname = "training_app"\nversion = "0.1.0"\n\n[dependencies]\n${PACKAGE} = { path = "../macros" }\n\n[tool.scarb]\nallow-prebuilt-plugins = ["${PACKAGE}"]\n`,
	);
	const calls = Array.from({ length: 20 }, (_, i) => `    let v${i} = echo!(x + ${i});\n    noop!(v${i});`).join('\n');
	writeFileSync(join(app, 'src', 'lib.cairo'), `fn f(x: felt252) -> felt252 {\n${calls}\n    x\n}\n`);
	return app;
}

function warn(message) {
	console.warn(`train-cli-code-cache: no code cache made at build time: ${message} (the first command run writes one)`);
}

function firstLine(text) {
	return String(text).trim().split('\n')[0];
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
	await trainCliCodeCache({ entry: join(root, 'dist', 'client', 'cli', 'macro-host.cjs') });
}
