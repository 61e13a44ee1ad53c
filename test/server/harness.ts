/**
 * Test helpers for the host: real host processes (`node dist/server/main.js`) with a small
 * vscode-jsonrpc connection or a raw frame reader, in-process sessions over in-memory streams,
 * and a builder for flat token streams.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { afterEach, expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import {
	createMessageConnection,
	StreamMessageReader,
	StreamMessageWriter,
	type MessageConnection,
} from 'vscode-jsonrpc/node';
import { msgpackDecoder, msgpackEncoder } from '../../dist/protocol/msgpack.js';
import { PROTOCOL_VERSION } from '../../dist/protocol/version.js';
import { serve, type Session } from '../../dist/server/dispatch.js';
import { createTransport } from '../../dist/server/transport.js';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The compiled host entry. */
export const HOST_MAIN = fileURLToPath(new URL('../../dist/server/main.js', import.meta.url));

/** Absolute path of a built fixture library. */
export function fixture(name: string): string {
	return fileURLToPath(new URL(`../fixtures/build/${name}`, import.meta.url));
}

/** How a process ended. */
export interface ExitStatus {
	code: number | null;
	signal: NodeJS.Signals | null;
}

/** A spawned host process. */
export interface HostProcess {
	child: ChildProcessWithoutNullStreams;
	/** Everything the host wrote to stderr so far. */
	stderr(): string;
	/** Resolves when the process has exited. */
	exited: Promise<ExitStatus>;
}

/** Options for {@link spawnHost}. */
export interface SpawnOptions {
	args?: string[];
	cwd?: string;
	/** Run through `sh -c` with this prefix before exec (e.g. `ulimit -c unlimited`). */
	shellPrefix?: string;
}

/** Spawns `node dist/server/main.js` with piped stdio. */
export function spawnHost(options: SpawnOptions = {}): HostProcess {
	const args = options.args ?? [];
	const child = options.shellPrefix
		? spawn('/bin/sh', ['-c', `${options.shellPrefix} && exec "$0" "$@"`, process.execPath, HOST_MAIN, ...args], { cwd: options.cwd })
		: spawn(process.execPath, [HOST_MAIN, ...args], { cwd: options.cwd });
	let stderr = '';
	child.stderr.setEncoding('utf8');
	child.stderr.on('data', (chunk: string) => (stderr += chunk));
	// The host may die mid-write in crash tests; that is expected, not a test failure.
	child.stdin.on('error', () => undefined);
	const exited = new Promise<ExitStatus>((resolve) => {
		child.on('close', (code, signal) => resolve({ code, signal }));
	});
	return { child, stderr: () => stderr, exited };
}

/**
 * Hosts that live for one test each: `start` connects one, initializes it, checks that it announces
 * `capability`, and loads `library`; every host started (or passed to `keep`) is killed after its test.
 */
export function hostPerTest(): {
	start(encoding: 'json' | 'msgpack', capability: string, library: string): Promise<ConnectedHost>;
	keep(host: ConnectedHost): ConnectedHost;
} {
	const running: ConnectedHost[] = [];
	afterEach(() => {
		for (const host of running.splice(0)) host.child.kill('SIGKILL');
	});
	const keep = (host: ConnectedHost): ConnectedHost => {
		running.push(host);
		return host;
	};
	return {
		keep,
		async start(encoding, capability, library) {
			const host = keep(connectHost(encoding));
			const init = (await initialize(host.connection)) as { capabilities: Record<string, unknown> };
			expect(init.capabilities[capability]).toBe(true);
			await host.connection.sendRequest('loadLibrary', { path: library });
			return host;
		},
	};
}

/** A host process with a JSON-RPC connection to it. */
export interface ConnectedHost extends HostProcess {
	connection: MessageConnection;
	/** Ends the session politely (shutdown + exit) and waits for the process. */
	close(): Promise<ExitStatus>;
}

/** Spawns a host and connects to it with the given encoding (without sending initialize). */
export function connectHost(encoding: 'json' | 'msgpack' = 'json', options: SpawnOptions = {}): ConnectedHost {
	const host = spawnHost({ ...options, args: ['--encoding', encoding, ...(options.args ?? [])] });
	const connection =
		encoding === 'msgpack'
			? createMessageConnection(
					new StreamMessageReader(host.child.stdout, { contentTypeDecoder: msgpackDecoder }),
					new StreamMessageWriter(host.child.stdin, { contentTypeEncoder: msgpackEncoder }),
				)
			: createMessageConnection(new StreamMessageReader(host.child.stdout), new StreamMessageWriter(host.child.stdin));
	connection.listen();
	return {
		...host,
		connection,
		async close() {
			await connection.sendRequest('shutdown');
			await connection.sendNotification('exit');
			const status = await host.exited;
			connection.dispose();
			return status;
		},
	};
}

/** An in-process session over in-memory streams, and a client connection to it. */
export interface InProcessSession {
	session: Session;
	client: MessageConnection;
	/** Lines the host logged. */
	log: string[];
	dispose(): void;
}

/** Serves the protocol in this process (for cases that cannot crash the test process). */
export function serveInProcess(encoding: 'json' | 'msgpack' = 'json'): InProcessSession {
	const toHost = new PassThrough();
	const fromHost = new PassThrough();
	const transport = createTransport(encoding, toHost, fromHost);
	const log: string[] = [];
	const session = serve(transport.reader, transport.writer, { encoding, log: (line) => log.push(line) });
	const client =
		encoding === 'msgpack'
			? createMessageConnection(
					new StreamMessageReader(fromHost, { contentTypeDecoder: msgpackDecoder }),
					new StreamMessageWriter(toHost, { contentTypeEncoder: msgpackEncoder }),
				)
			: createMessageConnection(new StreamMessageReader(fromHost), new StreamMessageWriter(toHost));
	client.listen();
	return {
		session,
		client,
		log,
		dispose() {
			client.dispose();
			session.connection.dispose();
		},
	};
}

/** Sends initialize with the current protocol version. */
export function initialize(connection: MessageConnection): Promise<unknown> {
	return connection.sendRequest('initialize', { protocolVersion: PROTOCOL_VERSION, clientInfo: { name: 'test' } });
}

/** A JSON-RPC error as the client sees it. */
export interface WireError {
	code: number;
	message: string;
	data?: unknown;
}

/** Sends a request that must fail, and returns the error's code, message and data. */
export async function requestError(connection: MessageConnection, method: string, params?: unknown): Promise<WireError> {
	try {
		const result = params === undefined ? await connection.sendRequest(method) : await connection.sendRequest(method, params);
		throw new Error(`${method} succeeded but should have failed: ${JSON.stringify(result)}`);
	} catch (error) {
		const e = error as { code?: number; message: string; data?: unknown };
		if (e.code === undefined) throw error;
		return e.data === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, data: e.data };
	}
}

/** Token kinds, as in the protocol. */
export const IDENT = 0;
export const PUNCT = 1;
export const LITERAL = 2;

/** One token for {@link tokens}: kind, text, span start in the source (span end = start + text bytes). */
export type TokenSpec = [kind: number, text: string, spanStart: number];

/** Builds a flat token stream (records as number[]). */
export function tokens(...specs: TokenSpec[]): { text: string; records: number[] } {
	let text = '';
	const records: number[] = [];
	for (const [kind, t, start] of specs) {
		const offset = Buffer.byteLength(text);
		const len = Buffer.byteLength(t);
		records.push(kind, 0, offset, len, start, start + len);
		text += t;
	}
	return { text, records };
}

/** An empty token stream. */
export const EMPTY = { text: '', records: [] as number[] };

/** The span value of generated tokens. */
export const CALL_SITE = 0xffffffff;

/** Reads Content-Length frames from a stream, for tests that write raw bytes. */
export class FrameReader {
	private buffer = Buffer.alloc(0);
	private waiting: ((frame: unknown) => void) | undefined;
	private readonly frames: unknown[] = [];

	constructor(stream: NodeJS.ReadableStream) {
		stream.on('data', (chunk: Buffer) => {
			this.buffer = Buffer.concat([this.buffer, chunk]);
			this.parse();
		});
	}

	/** The next frame's body, parsed as JSON. */
	next(): Promise<unknown> {
		const frame = this.frames.shift();
		if (frame !== undefined) return Promise.resolve(frame);
		return new Promise((resolve) => (this.waiting = resolve));
	}

	private parse(): void {
		for (;;) {
			const end = this.buffer.indexOf('\r\n\r\n');
			if (end === -1) return;
			const match = /Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end).toString('ascii'));
			if (!match) throw new Error(`bad frame header from host: ${this.buffer.subarray(0, end).toString()}`);
			const length = Number(match[1]);
			if (this.buffer.length < end + 4 + length) return;
			const body = JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString('utf8')) as unknown;
			this.buffer = this.buffer.subarray(end + 4 + length);
			const waiting = this.waiting;
			this.waiting = undefined;
			if (waiting) waiting(body);
			else this.frames.push(body);
		}
	}
}

/** Encodes one JSON-RPC message as a frame. */
export function frame(message: unknown): Buffer {
	const body = Buffer.from(typeof message === 'string' ? message : JSON.stringify(message), 'utf8');
	return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}
