/**
 * A host process driven with raw Content-Length frames, no client library: the cold-start row times
 * the host itself (spawn, Node's start, the host's imports, initialize, loadLibrary), not a client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_HOST_SCRIPT } from '../client/options.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';

/** The host entry the client spawns: dist/server/host.cjs, the loader that runs the bundle from its code cache (see DEFAULT_HOST_SCRIPT). */
export const HOST_MAIN = DEFAULT_HOST_SCRIPT;
/** The floor host (bench/floor-host.ts): frames in and out, the library call, nothing else. */
export const FLOOR_HOST = fileURLToPath(new URL('./floor-host.js', import.meta.url));

/** A spawned host that answers JSON frames. */
export class RawHost {
	readonly child: ChildProcess;
	private buffer: Buffer = Buffer.alloc(0);
	private readonly replies = new Map<number, (body: { result?: unknown; error?: { message: string } }) => void>();
	/** Waiters of {@link requestFrame}, in order: the host answers in arrival order. */
	private readonly frameWaiters: ((body: string) => void)[] = [];
	private nextId = 1;
	private stderr = '';

	/** Spawns `script` (by default the host, speaking JSON) with node. */
	constructor(extraNodeArgs: readonly string[] = [], script = HOST_MAIN, scriptArgs: readonly string[] = ['--encoding', 'json']) {
		this.child = spawn(process.execPath, [...extraNodeArgs, script, ...scriptArgs], { stdio: ['pipe', 'pipe', 'pipe'] });
		this.child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
		this.child.stderr!.setEncoding('utf8').on('data', (text: string) => (this.stderr += text));
		this.child.stdin!.on('error', () => undefined);
	}

	/** The bytes of one request frame, JSON body (for {@link requestFrame}). */
	static frame(id: number, method: string, params: unknown): Buffer {
		const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method, params }), 'utf8');
		return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'latin1'), body]);
	}

	/** Sends a request; resolves with its result, rejects with the host's error message. */
	request(method: string, params?: unknown): Promise<unknown> {
		const id = this.nextId++;
		const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method, params }), 'utf8');
		return new Promise((resolve, reject) => {
			this.replies.set(id, (reply) => (reply.error ? reject(new Error(`${method}: ${reply.error.message}`)) : resolve(reply.result)));
			this.child.stdin!.write(`Content-Length: ${body.length}\r\n\r\n`);
			this.child.stdin!.write(body);
		});
	}

	/**
	 * Writes a frame encoded beforehand and resolves with the body of the next reply, unparsed: the
	 * small-call rows time the host, so the driver does no more per call than `cat`'s does. Only
	 * while no {@link request} is waiting (replies are matched by order, not by id).
	 */
	requestFrame(frame: Buffer): Promise<string> {
		return new Promise((resolve) => {
			this.frameWaiters.push(resolve);
			this.child.stdin!.write(frame);
		});
	}

	/** initialize then loadLibrary, pipelined (both written at once, as a client that knows its libraries does). */
	async initializeAndLoad(library: string): Promise<void> {
		const init = this.request('initialize', { protocolVersion: PROTOCOL_VERSION, clientInfo: { name: 'bench' } });
		const load = this.request('loadLibrary', { path: library });
		await Promise.all([init, load]);
	}

	/** Kills the host and waits for it. */
	async kill(): Promise<void> {
		if (this.child.exitCode !== null || this.child.signalCode !== null) return;
		const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
		this.child.kill('SIGKILL');
		await exited;
	}

	/** Everything the host wrote to stderr. */
	get log(): string {
		return this.stderr;
	}

	private onData(chunk: Buffer): void {
		this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
		for (;;) {
			const end = this.buffer.indexOf('\r\n\r\n');
			if (end === -1) return;
			const match = /Content-Length: *(\d+)/i.exec(this.buffer.toString('latin1', 0, end));
			if (!match) throw new Error(`bad frame from the host: ${this.buffer.toString('latin1', 0, end)}`);
			const length = Number(match[1]);
			if (this.buffer.length < end + 4 + length) return;
			const text = this.buffer.toString('utf8', end + 4, end + 4 + length);
			this.buffer = this.buffer.subarray(end + 4 + length);
			const frameWaiter = this.frameWaiters.shift();
			if (frameWaiter !== undefined) {
				frameWaiter(text);
				continue;
			}
			const reply = JSON.parse(text) as { id: number; result?: unknown; error?: { message: string } };
			const waiter = this.replies.get(reply.id);
			this.replies.delete(reply.id);
			waiter?.(reply);
		}
	}
}
