// Makes the host's first V8 code cache at build time (called by bundle-host.js; runnable alone after
// a build: `node scripts/train-host-code-cache.js`). It runs the host once as a client does: initialize,
// loadLibrary of the benchmark's macro library (compiled here with gcc into a temporary directory),
// listMacros and a few expansions, so the functions a start and the first calls need are compiled;
// the loader (server/host-loader.cts), finding no usable cache, writes it after its first second.
// When the cache in place already fits this bundle and this Node, the loader accepts it and nothing
// is written: a rebuild that did not change the bundle keeps its cache.
//
// A cache is an optimisation: when anything here fails (no gcc, a host that does not answer), the
// build goes on with a warning, and the first host that runs for a second writes the cache itself.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../', import.meta.url));
/** The benchmark's library: noop and echo, the calls a start and the first expansions run. */
const TRAINING_SOURCE = join(root, 'bench', 'fixtures', 'bench_macros.c');
const SDK_C = join(root, 'sdk', 'c');
/** Time for the host to answer and then write its cache (it waits one second before writing). */
const TRAINING_TIMEOUT_MS = 20_000;

/**
 * Runs the host at `entry` (dist/server/host.cjs) once so that it leaves a code cache beside its
 * bundle. Never throws: a failure is a warning on stderr.
 */
export async function trainHostCodeCache({ entry }) {
	const workDir = mkdtempSync(join(tmpdir(), 'macro-host-training-'));
	try {
		const library = join(workDir, 'libtraining_macros.so');
		try {
			await promisify(execFile)(process.env.CC || 'gcc', ['-shared', '-fPIC', '-O1', '-I', SDK_C, '-o', library, TRAINING_SOURCE]);
		} catch (error) {
			warn(`cannot compile the training library (${firstLine(error.stderr || error.message)})`);
			return;
		}
		const { PROTOCOL_VERSION } = await import(pathToFileURL(join(root, 'dist', 'protocol', 'version.js')).href);
		const { STARTUP_LOG_ENV, CACHE_ENV } = await import(pathToFileURL(join(root, 'dist', 'server', 'host-loader.cjs')).href);
		await runTrainingHost(entry, library, PROTOCOL_VERSION, STARTUP_LOG_ENV, CACHE_ENV);
	} catch (error) {
		warn(error.message);
	} finally {
		rmSync(workDir, { recursive: true, force: true });
	}
}

/** Drives one host through the training calls; resolves once its cache is settled and it exited. */
async function runTrainingHost(entry, library, protocolVersion, startupLogEnv, cacheEnv) {
	const env = { ...process.env, [startupLogEnv]: '1' };
	// The default place, beside the bundle, is the one to fill.
	delete env[cacheEnv];
	const host = await TrainingHost.spawn(entry, env);
	const timer = setTimeout(() => host.fail(new Error(`the training host did not finish within ${TRAINING_TIMEOUT_MS} ms`)), TRAINING_TIMEOUT_MS);
	try {
		await host.request('initialize', { protocolVersion, clientInfo: { name: 'macro-host build (code cache training)' } });
		await host.request('loadLibrary', { path: library });
		await host.request('listMacros');
		// `let v0 = a + 0 ;`: idents, puncts and a literal, as the benchmark's streams.
		const args = {
			text: 'letv0=a+0;',
			records: [0, 0, 0, 3, 0, 3, 0, 0, 3, 2, 4, 6, 1, 0, 5, 1, 7, 8, 0, 0, 6, 1, 9, 10, 1, 0, 7, 1, 11, 12, 2, 0, 8, 1, 13, 14, 1, 0, 9, 1, 15, 16],
		};
		for (let i = 0; i < 5; i++) {
			await host.request('expandInline', { name: 'noop', args });
			await host.request('expandInline', { name: 'echo', args });
		}
		// A whole source, as expand-project sends it when its cache is off: the engine's functions too.
		const { libraries } = await host.request('listMacros');
		const packages = libraries.map((l) => ({ name: 'training_macros', library: l.library, macros: l.macros.map((m) => ({ name: m.name, kind: m.kind })) }));
		const text = `fn f(x: felt252) -> felt252 {\n${Array.from({ length: 20 }, (_, i) => `    let v${i} = echo!(x + ${i});\n    noop!(v${i});`).join('\n')}\n    x\n}\n`;
		for (let i = 0; i < 3; i++) await host.request('expandSource', { text, packages, recursionLimit: 64, checkOutput: true });
		const state = await host.logLine(/^macro-host: code cache: (\w+)/);
		if (state === 'off') {
			warn('the loader does not use a cache for this bundle');
		} else if (state !== 'accepted') {
			const outcome = await host.logLine(/^macro-host: code cache: (written|not written.*)/);
			if (outcome !== 'written') warn(`the training host wrote no cache: ${outcome}`);
		}
		await host.request('shutdown');
		await host.exit();
	} finally {
		clearTimeout(timer);
		host.kill();
	}
}

/**
 * The host as a client talks to it: vscode-jsonrpc over the project's own frame reader and writer
 * (compiled into dist/ before this runs); its stderr read as lines, for the loader's decisions.
 */
class TrainingHost {
	#child;
	#connection;
	#stderrLines = [];
	#lineWaiters = [];
	#failed;
	#failure;
	#exited;

	static async spawn(entry, env) {
		const dist = (path) => pathToFileURL(join(root, 'dist', path)).href;
		const [{ createMessageConnection }, { FrameReader }, { FrameWriter }, { encodeJsonText }] = await Promise.all([
			import('vscode-jsonrpc/node'),
			import(dist('protocol/node/frame-reader.js')),
			import(dist('protocol/node/frame-writer.js')),
			import(dist('protocol/json.js')),
		]);
		const child = spawn(process.execPath, [entry, '--encoding', 'json'], { stdio: ['pipe', 'pipe', 'pipe'], env });
		const connection = createMessageConnection(new FrameReader(child.stdout), new FrameWriter(child.stdin, encodeJsonText));
		connection.listen();
		return new TrainingHost(child, connection);
	}

	constructor(child, connection) {
		this.#child = child;
		this.#connection = connection;
		// Settles with the first failure; every request and wait races it.
		this.#failure = new Promise((_, reject) => (this.#failed = reject));
		this.#failure.catch(() => undefined);
		this.#exited = new Promise((resolve) => child.once('exit', resolve));
		child.once('exit', (code, signal) => this.fail(new Error(`the training host exited (${signal ?? `code ${code}`}): ${this.#stderrLines.join(' | ')}`)));
		child.once('error', (error) => this.fail(error));
		child.stdin.on('error', () => undefined);
		connection.onError(() => undefined);
		let partial = '';
		child.stderr.setEncoding('utf8').on('data', (text) => {
			const lines = (partial + text).split('\n');
			partial = lines.pop();
			for (const line of lines) this.#onLine(line);
		});
	}

	request(method, params) {
		return Promise.race([this.#connection.sendRequest(method, params), this.#failure]);
	}

	/** Sends `exit` and waits for the process to end. */
	async exit() {
		this.#connection.sendNotification('exit').catch(() => undefined);
		await this.#exited;
	}

	/** The first capture of the first stderr line (seen or to come) that matches `pattern`. */
	logLine(pattern) {
		const seen = this.#stderrLines.map((line) => pattern.exec(line)).find(Boolean);
		if (seen) return Promise.resolve(seen[1]);
		return Promise.race([new Promise((resolve) => this.#lineWaiters.push({ pattern, resolve })), this.#failure]);
	}

	/** Fails everything waiting (the host died or took too long). */
	fail(error) {
		this.#failed(error);
	}

	kill() {
		this.#connection.dispose();
		if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
	}

	#onLine(line) {
		this.#stderrLines.push(line);
		this.#lineWaiters = this.#lineWaiters.filter(({ pattern, resolve }) => {
			const match = pattern.exec(line);
			if (match) resolve(match[1]);
			return !match;
		});
	}
}

function warn(message) {
	console.warn(`train-host-code-cache: no code cache made at build time: ${message} (the first host that runs for a second writes one)`);
}

function firstLine(text) {
	return String(text).trim().split('\n')[0];
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
	await trainHostCodeCache({ entry: join(root, 'dist', 'server', 'host.cjs') });
}
