/**
 * A minimal client of rust-analyzer's proc-macro server (`rust-analyzer-proc-macro-srv`, shipped in
 * every rustup toolchain under `$(rustc --print sysroot)/libexec/`). Its legacy protocol is
 * newline-delimited JSON: one request line, then one reply line, served strictly in order, so
 * requests may be written back to back and replies matched by position.
 *
 * Message shapes follow rust-analyzer's crates/proc-macro-api/src/legacy_protocol/msg.rs; the server
 * must see RUST_ANALYZER_INTERNALS_DO_NOT_USE or it refuses to run.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rustTool } from './build-fixtures.js';
import type { FlatTree } from './workload.js';

/** The bare Node echo host's script, beside this module in dist/bench/. */
const NODE_ECHO_HOST = fileURLToPath(new URL('./node-echo-host.js', import.meta.url));

/** The API version whose FlatTree layout workload.ts writes (EXTENDED_LEAF_DATA: literal kind, ident rawness). */
export const RA_EXTENDED_LEAF_DATA = 5;

/** The environment the server insists on. */
export const RA_ENV = { ...process.env, RUST_ANALYZER_INTERNALS_DO_NOT_USE: 'this is a benchmark' };

/** Finds the server binary of the default toolchain; a sentence saying why not when it is absent. */
export function findRaServer(): { path: string } | { missing: string } {
	let sysroot: string;
	try {
		sysroot = execFileSync(rustTool('rustc'), ['--print', 'sysroot'], { encoding: 'utf8' }).trim();
	} catch (error) {
		return { missing: `rustc was not found, so rust-analyzer's proc-macro server cannot be located (${(error as Error).message.split('\n')[0]})` };
	}
	const path = join(sysroot, 'libexec', 'rust-analyzer-proc-macro-srv');
	if (!existsSync(path)) return { missing: `${path} does not exist (install it with: rustup component add rust-analyzer)` };
	return { path };
}

/** One running server. */
export class RaServer {
	private readonly child: ChildProcess;
	private readonly waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
	private chunks: Buffer[] = [];
	private stderr = '';
	private exitError: Error | undefined;

	private constructor(path: string, args: readonly string[] = []) {
		this.child = spawn(path, args, { env: RA_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
		// A server that cannot be spawned (e.g. no `cat`) fails its requests with this instead of hanging them.
		this.child.on('error', (error) => {
			this.exitError = new Error(`${path} could not be started: ${error.message}`);
			for (const waiter of this.waiting.splice(0)) waiter.reject(this.exitError);
		});
		this.child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
		this.child.stderr!.setEncoding('utf8').on('data', (text: string) => (this.stderr = (this.stderr + text).slice(-2000)));
		this.child.stdin!.on('error', () => undefined);
		this.child.on('exit', (code, signal) => {
			this.exitError = new Error(`rust-analyzer-proc-macro-srv exited (${signal ?? `code ${code}`}): ${this.stderr.trim()}`);
		});
	}

	/** Spawns the server (no request sent yet). */
	static spawn(path: string): RaServer {
		return new RaServer(path);
	}

	/**
	 * `cat` behind the same line protocol: it answers each request line with the line itself, doing
	 * no work at all, so its round trip is this machine's floor for one request and one reply over
	 * pipes (both processes woken once each way).
	 */
	static spawnEcho(): RaServer {
		return new RaServer('cat');
	}

	/**
	 * The bare Node echo host (bench/node-echo-host.ts) behind the same line protocol: `cat` plus
	 * what any Node server pays per message (a read, JSON.parse, JSON.stringify, a write). The floor
	 * our host is measured against in the small-call rows.
	 */
	static spawnNodeEcho(): RaServer {
		return new RaServer(process.execPath, [NODE_ECHO_HOST]);
	}

	/** Writes one request and resolves with the raw reply line. Requests may overlap: replies come in order. */
	request(message: unknown): Promise<string> {
		return this.requestLine(JSON.stringify(message));
	}

	/** Like request, with the line already encoded. */
	requestLine(line: string): Promise<string> {
		if (this.exitError) return Promise.reject(this.exitError);
		return new Promise((resolve, reject) => {
			this.waiting.push({ resolve, reject });
			this.child.stdin!.write(line + '\n');
		});
	}

	/** `{"ApiVersionCheck":{}}` → the server's API version. */
	async apiVersion(): Promise<number> {
		const reply = JSON.parse(await this.request({ ApiVersionCheck: {} })) as { ApiVersionCheck: number };
		return reply.ApiVersionCheck;
	}

	/** `{"ListMacros":{"dylib_path":…}}` → [name, kind] pairs; throws with the server's message on failure. */
	async listMacros(dylib: string): Promise<[string, string][]> {
		const reply = JSON.parse(await this.request({ ListMacros: { dylib_path: dylib } })) as {
			ListMacros: { Ok?: [string, string][]; Err?: string };
		};
		if (!reply.ListMacros.Ok) throw new Error(`rust-analyzer could not list ${dylib}: ${reply.ListMacros.Err}`);
		return reply.ListMacros.Ok;
	}

	/** Ends the server by closing its input (it exits at end of input). */
	async close(): Promise<void> {
		if (this.child.exitCode !== null || this.child.signalCode !== null) return;
		const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
		this.child.stdin!.end();
		await exited;
	}

	private onData(chunk: Buffer): void {
		// Replies can be megabytes: look for the newline in the new chunk only, join once per line.
		let start = 0;
		for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
			this.chunks.push(chunk.subarray(start, nl));
			const line = this.chunks.length === 1 ? this.chunks[0].toString('utf8') : Buffer.concat(this.chunks).toString('utf8');
			this.chunks = [];
			start = nl + 1;
			this.waiting.shift()?.resolve(line);
		}
		if (start < chunk.length) this.chunks.push(chunk.subarray(start));
	}
}

/** The ExpandMacro request of a function-like macro call, in the server's legacy JSON shape. */
export function expandMacroRequest(dylib: string, macroName: string, body: FlatTree): unknown {
	return {
		ExpandMacro: {
			lib: dylib,
			env: [],
			current_dir: null,
			macro_body: body,
			macro_name: macroName,
			attributes: null,
			// Since HAS_GLOBAL_SPANS: span ids of def_site, call_site and mixed_site (span id 0 is the root's).
			has_global_spans: { def_site: 0, call_site: 0, mixed_site: 0 },
			span_data_table: [],
		},
	};
}

/**
 * The request line of `identity!` on `tree`, encoded once: what rust-analyzer reads for the call,
 * and what `cat` echoes as the pipe floor (without rust-analyzer only `cat` reads it, so any library
 * path does).
 */
export function identityRequestLine(dylib: string | undefined, tree: FlatTree): string {
	return JSON.stringify(expandMacroRequest(dylib ?? 'libidentity.so', 'identity', tree));
}

/** Parses an ExpandMacro reply; throws with the panic message or the raw reply when it did not expand. */
export function parseExpandReply(line: string): FlatTree {
	const reply = JSON.parse(line) as { ExpandMacro?: { Ok?: FlatTree; Err?: string } };
	const tree = reply.ExpandMacro?.Ok;
	if (!tree) throw new Error(`rust-analyzer did not expand: ${line.slice(0, 300)}`);
	return tree;
}

/** One identity! call through rust-analyzer's server: encode, write, read the line, parse it, check that all `n` tokens came back. */
export async function expandIdentity(server: RaServer, dylib: string, tree: FlatTree, n: number): Promise<void> {
	const reply = parseExpandReply(await server.request(expandMacroRequest(dylib, 'identity', tree)));
	const leaves = reply.ident.length / 3 + reply.punct.length / 3 + reply.literal.length / 4;
	if (leaves !== n) throw new Error(`rust-analyzer's identity returned ${leaves} tokens, not ${n}`);
}
