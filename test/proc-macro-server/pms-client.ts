/**
 * A client of `macro-host proc-macro-server` written from the protocol's documented wire shapes (NDJSON,
 * `{id, method, value}` → `{id, result}` / `{id, error: {message}}`), as the Cairo language server speaks it; it
 * shares no code with the server. It spawns the real compiled command, keeps every response by id in arrival order,
 * checks that each stdout line is a response, and can stop reading stdout for a while.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hostTargetTriple } from '../../dist/client/packages/prebuilt.js';
import { CLI, ROOT } from '../cli/run-cli.js';

/** A response as it came. */
export interface WireResponse {
	id: number;
	result?: any;
	error?: { message: string };
}

/** A v2 token as the protocol writes it. */
export interface WireToken {
	Ident: { content: string; span: { start: number; end: number } };
}

/** The running server and this side of its pipes. */
export class PmsClient {
	readonly child: ChildProcessWithoutNullStreams;
	/** Everything the server wrote to stderr. */
	stderr = '';
	/** Responses by id. */
	readonly responses = new Map<number, WireResponse>();
	/** Ids in the order their responses arrived. */
	readonly arrivals: number[] = [];
	/** Stdout lines that were not a response (must stay empty). */
	readonly strayLines: string[] = [];
	readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
	#nextId = 1;
	#partial = '';
	readonly #waiters = new Map<number, (response: WireResponse) => void>();

	constructor(args: string[], options: { cwd?: string } = {}) {
		this.child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
		this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
		this.child.stderr.setEncoding('utf8').on('data', (text: string) => (this.stderr += text));
		this.child.stdout.setEncoding('utf8').on('data', (text: string) => this.#onStdout(text));
		// A test that ends the server early must not fail on a write to a closed pipe.
		this.child.stdin.on('error', () => undefined);
	}

	/** Sends a request with the next id and resolves with its response. */
	request(method: string, value: unknown): Promise<WireResponse> {
		const id = this.#nextId++;
		this.writeLine(JSON.stringify({ id, method, value }));
		return this.response(id);
	}

	/** Sends a request with the next id without waiting; returns the id. */
	post(method: string, value: unknown): number {
		const id = this.#nextId++;
		this.writeLine(JSON.stringify({ id, method, value }));
		return id;
	}

	/** Writes one raw line (a newline is added); returns whether the pipe took it without buffering. */
	writeLine(line: string): boolean {
		return this.child.stdin.write(`${line}\n`);
	}

	/** Resolves with the response to `id` (at once if it is already in). */
	response(id: number): Promise<WireResponse> {
		const known = this.responses.get(id);
		if (known) return Promise.resolve(known);
		return new Promise((resolve) => this.#waiters.set(id, resolve));
	}

	/** Stops reading stdout: the server's answers pile up in the pipe, then in the server. */
	pauseReading(): void {
		this.child.stdout.pause();
	}

	/** Reads stdout again. */
	resumeReading(): void {
		this.child.stdout.resume();
	}

	/** Polls until `condition` holds, failing with `what` after `timeoutMs`. */
	async until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		while (!condition()) {
			if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; server stderr:\n${this.stderr}`);
			await new Promise((resolve) => setTimeout(resolve, 20));
		}
	}

	/** Ends stdin (the protocol's shutdown) and waits for the process to exit. */
	async close(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
		this.child.stdin.end();
		return this.exited;
	}

	/** Kills the server (cleanup after a failed test). */
	kill(): void {
		if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
	}

	#onStdout(text: string): void {
		const lines = (this.#partial + text).split('\n');
		this.#partial = lines.pop()!;
		for (const line of lines) {
			let message: WireResponse;
			try {
				message = JSON.parse(line);
			} catch {
				this.strayLines.push(line);
				continue;
			}
			const hasOne = ('result' in message) !== ('error' in message);
			if (typeof message?.id !== 'number' || !hasOne || Object.keys(message).length !== 2) {
				this.strayLines.push(line);
				continue;
			}
			this.responses.set(message.id, message);
			this.arrivals.push(message.id);
			this.#waiters.get(message.id)?.(message);
			this.#waiters.delete(message.id);
		}
	}
}

/**
 * A v2 token stream of `code` as Scarb's language server sends one: each lexer-ish token and each run of whitespace
 * is a token of its own, spans are byte offsets from `base` (the code here is ASCII).
 */
export function v2Stream(code: string, base = 0): { tokens: WireToken[]; metadata: { original_file_path: string | null; file_id: string | null; edition: string | null } } {
	const tokens: WireToken[] = [];
	for (const match of code.matchAll(/\s+|\w+|::|->|=>|[^\s\w]/g)) {
		const start = base + match.index!;
		tokens.push({ Ident: { content: match[0], span: { start, end: start + match[0].length } } });
	}
	return { tokens, metadata: { original_file_path: '/virtual/lib.cairo', file_id: 'file-1', edition: '2024_07' } };
}

/**
 * The flag the tests of the protocol and of robustness pass: the expansion cache is on by default and kept across
 * runs, and these tests need every call to reach a host (a crash, a print, a slow macro). expansion-cache.test.ts
 * tests the cache.
 */
export const NO_EXPANSION_CACHE = '--no-expansion-cache';

/** The built fixture libraries (test/global-setup.ts builds them). */
export const FIXTURE_BUILD = join(ROOT, 'test', 'fixtures', 'build');
export const LIBC_BASIC = join(FIXTURE_BUILD, 'libc_basic.so');
export const LIBRUST_MACROS = join(FIXTURE_BUILD, 'librust_macros.so');
/** The example macro package built from source with cargo (`add!`). */
export const ADD_MACRO = join(ROOT, 'examples', 'add-macro');
/** The build cache the driver tests share, so the example package is compiled once for all of them. */
export const SHARED_CACHE = join(FIXTURE_BUILD, 'driver-cache');

/** A workspace on disk, and the scope values a client sends for it. */
export interface TestWorkspace {
	dir: string;
	manifestPath: string;
	/** `{manifest_path}` */
	workspace: { manifest_path: string };
	/** The context of a call made in package `name` (version 0.1.0) of the workspace. */
	context(name?: string): { workspace: { manifest_path: string }; component: { name: string; discriminator: string } };
	remove(): void;
}

/**
 * Writes a workspace: `app` depends on the prebuilt macro packages `c_macros` (libc_basic.so) and `rust_macros`
 * (librust_macros.so), on `add_macro` (built from source) when `withBuilt`, and on the Cairo package `lib_a`, which
 * depends on `rust_macros` only.
 */
export function writeWorkspace(options: { withBuilt?: boolean } = {}): TestWorkspace {
	const dir = mkdtempSync(join(tmpdir(), 'macro-host-pms-'));
	const triple = hostTargetTriple();
	const prebuilt = (name: string, library: string): void => {
		mkdirSync(join(dir, name, 'target', 'scarb', 'cairo-plugin'), { recursive: true });
		writeFileSync(join(dir, name, 'Scarb.toml'), `[package]\nname = "${name}"\nversion = "0.1.0"\n\n[cairo-plugin]\n`);
		copyFileSync(library, join(dir, name, 'target', 'scarb', 'cairo-plugin', `${name}_v0.1.0_${triple}.so`));
	};
	prebuilt('c_macros', LIBC_BASIC);
	prebuilt('rust_macros', LIBRUST_MACROS);
	mkdirSync(join(dir, 'lib_a', 'src'), { recursive: true });
	writeFileSync(join(dir, 'lib_a', 'Scarb.toml'), '[package]\nname = "lib_a"\nversion = "0.1.0"\n\n[dependencies]\nrust_macros = { path = "../rust_macros" }\n');
	writeFileSync(join(dir, 'lib_a', 'src', 'lib.cairo'), 'fn a() {}\n');
	mkdirSync(join(dir, 'app', 'src'), { recursive: true });
	const built = options.withBuilt ? `add_macro = { path = "${ADD_MACRO}" }\n` : '';
	writeFileSync(
		join(dir, 'app', 'Scarb.toml'),
		`[package]\nname = "app"\nversion = "0.1.0"\n\n[dependencies]\nc_macros = { path = "../c_macros" }\nrust_macros = { path = "../rust_macros" }\nlib_a = { path = "../lib_a" }\n${built}\n[tool.scarb]\nallow-prebuilt-plugins = ["c_macros", "rust_macros"]\n`,
	);
	writeFileSync(join(dir, 'app', 'src', 'lib.cairo'), 'fn main() {}\n');
	const manifestPath = join(dir, 'app', 'Scarb.toml');
	const workspace = { manifest_path: manifestPath };
	return {
		dir,
		manifestPath,
		workspace,
		context: (name = 'app') => ({ workspace, component: { name, discriminator: `${name} 0.1.0 (path+${pathToFileURL(join(dir, name, 'Scarb.toml')).href})` } }),
		remove: () => rmSync(dir, { recursive: true, force: true }),
	};
}
