/**
 * The remote expansion cache, over HTTP in the layout of Bazel's remote caches, so that any of them
 * (bazel-remote, nginx with WebDAV PUT, a bucket behind a proxy) serves it:
 *
 *   GET/PUT <url>/ac/<key>      the action record: `{"v":1,"sha256":H,"size":N}` plus the value itself
 *                               (base64, `"inline"`) when it is small
 *   GET/PUT <url>/cas/<H>       a large value, under the sha256 of its bytes
 *
 * Every value is checked on read against its sha256. The remote can never fail or stall a build:
 * each request has a time limit, and the first request that fails to reach the server (refused,
 * timed out, a 5xx answer) turns the remote off for the rest of the session with one warning, so
 * the build goes on with local work. A corrupted entry is a warning and a miss. A refused upload
 * (say, 403 from a read-only server) turns uploads off, with one warning, and leaves reads on.
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequestRaw } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** Values up to this size travel inside the action record; larger ones go to the CAS. */
export const INLINE_VALUE_LIMIT = 16 * 1024;

/**
 * Requests in flight at once, reads and uploads apart: a build asks for thousands of keys together, more than a
 * server takes connections, and a lookup the build waits for must never queue behind background uploads.
 */
export const MAX_REMOTE_READS = 32;
export const MAX_REMOTE_UPLOADS = 32;

/** The default time limit of one remote request, in milliseconds. */
export const DEFAULT_REMOTE_TIMEOUT_MS = 2_000;

/** Options of a {@link RemoteExpansionStore}. */
export interface RemoteStoreOptions {
	/** Base URL (http or https): entries are at `<url>/ac/…` and `<url>/cas/…`. */
	readonly url: string;
	/** Upload entries this client computed. @default true */
	readonly upload?: boolean;
	/** Time limit of one request, in milliseconds. @default DEFAULT_REMOTE_TIMEOUT_MS */
	readonly timeoutMs?: number;
	/** Receives each warning (server unreachable, corrupted entry, upload refused), once per kind. */
	readonly onWarning: (message: string) => void;
}

/** Thrown inside this module when the server cannot be reached or answers 5xx. */
class RemoteUnavailable extends Error {}

/** The remote store; see the module comment. */
export class RemoteExpansionStore {
	readonly #base: string;
	readonly #timeoutMs: number;
	readonly #onWarning: (message: string) => void;
	#upload: boolean;
	#isOff = false;
	#warnedCorrupt = false;
	readonly #uploads = new Set<Promise<void>>();
	readonly #agent: HttpAgent;
	readonly #readSlots = new Slots(MAX_REMOTE_READS);
	readonly #uploadSlots = new Slots(MAX_REMOTE_UPLOADS);

	constructor(options: RemoteStoreOptions) {
		let url: URL;
		try {
			url = new URL(options.url);
		} catch {
			throw new TypeError(`The remote cache URL must be an http:// or https:// URL, got ${JSON.stringify(options.url)}`);
		}
		if (url.protocol !== 'http:' && url.protocol !== 'https:') {
			throw new TypeError(`The remote cache URL must be an http:// or https:// URL, got ${JSON.stringify(options.url)}`);
		}
		this.#base = url.href.replace(/\/+$/, '');
		this.#timeoutMs = options.timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS;
		this.#upload = options.upload ?? true;
		this.#onWarning = options.onWarning;
		// node:http with kept-alive connections: a third of the time of fetch per small request (measured on nginx).
		const Agent = url.protocol === 'https:' ? HttpsAgent : HttpAgent;
		this.#agent = new Agent({ keepAlive: true, maxSockets: MAX_REMOTE_READS + MAX_REMOTE_UPLOADS });
	}

	/** The base URL, without a trailing slash. */
	get url(): string {
		return this.#base;
	}

	/** False once the server could not be reached. */
	get isAvailable(): boolean {
		return !this.#isOff;
	}

	/** The value stored under `key`, checked against its hash; undefined on a miss, a corrupted entry or an unreachable server. */
	async read(key: string): Promise<Buffer | undefined> {
		if (this.#isOff) return undefined;
		try {
			const record = await this.#get(`ac/${key}`);
			if (record === undefined) return undefined;
			const parsed = parseRecord(record);
			if (typeof parsed === 'string') return this.#corrupt(`ac/${key}`, parsed);
			const value = parsed.inline ?? (await this.#get(`cas/${parsed.sha256}`));
			if (value === undefined) return undefined;
			if (value.byteLength !== parsed.size || sha256(value) !== parsed.sha256) {
				return this.#corrupt(parsed.inline === undefined ? `cas/${parsed.sha256}` : `ac/${key}`, 'its bytes do not match their sha256');
			}
			return value;
		} catch (error) {
			this.#turnOff(error);
			return undefined;
		}
	}

	/** Uploads an entry in the background (when uploads are on); {@link flush} waits for the uploads. */
	write(key: string, value: Uint8Array): void {
		if (this.#isOff || !this.#upload) return;
		const upload = this.#putEntry(key, Buffer.from(value)).finally(() => this.#uploads.delete(upload));
		this.#uploads.add(upload);
	}

	/** Waits for every upload started so far (each bounded by the time limit). */
	async flush(): Promise<void> {
		while (this.#uploads.size > 0) await Promise.all([...this.#uploads]);
	}

	/** Waits for the uploads, then closes the kept-alive connections. */
	async close(): Promise<void> {
		await this.flush();
		this.#agent.destroy();
	}

	async #putEntry(key: string, value: Buffer): Promise<void> {
		try {
			const hash = sha256(value);
			const record: Record<string, unknown> = { v: 1, sha256: hash, size: value.byteLength };
			if (value.byteLength <= INLINE_VALUE_LIMIT) record.inline = value.toString('base64');
			else if (!(await this.#put(`cas/${hash}`, value))) return;
			await this.#put(`ac/${key}`, Buffer.from(JSON.stringify(record)));
		} catch (error) {
			this.#turnOff(error);
		}
	}

	/** GET; undefined on 404. Throws RemoteUnavailable when the server cannot answer. */
	async #get(path: string): Promise<Buffer | undefined> {
		const answer = await this.#request(path, 'GET');
		if (answer.status === 404) return undefined;
		if (answer.status !== 200) throw new RemoteUnavailable(`GET ${this.#base}/${path} answered ${answer.status} ${answer.statusText}`);
		return answer.body;
	}

	/** PUT; false (and uploads off, with a warning) when the server refuses it. */
	async #put(path: string, body: Buffer): Promise<boolean> {
		const answer = await this.#request(path, 'PUT', body);
		if (answer.status >= 200 && answer.status < 300) return true;
		if (answer.status >= 500) throw new RemoteUnavailable(`PUT ${this.#base}/${path} answered ${answer.status} ${answer.statusText}`);
		if (this.#upload) {
			this.#upload = false;
			this.#onWarning(`the remote cache ${this.#base} refused an upload (PUT ${path}: ${answer.status} ${answer.statusText}); uploads are off for this build, reads go on`);
		}
		return false;
	}

	/** One request; throws RemoteUnavailable when the server cannot be reached in time. */
	async #request(path: string, method: 'GET' | 'PUT', body?: Buffer): Promise<HttpAnswer> {
		const slots = method === 'GET' ? this.#readSlots : this.#uploadSlots;
		await slots.take();
		try {
			if (this.#isOff) throw new RemoteUnavailable('the remote cache was turned off meanwhile');
			// The time limit starts when the request does, not while it waits for its turn.
			return await httpRequest(this.#agent, `${this.#base}/${path}`, method, body, this.#timeoutMs);
		} finally {
			slots.give();
		}
	}

	#corrupt(path: string, why: string): undefined {
		if (!this.#warnedCorrupt) {
			this.#warnedCorrupt = true;
			this.#onWarning(`the remote cache entry ${this.#base}/${path} is corrupted (${why}); it is ignored and the call expanded here`);
		}
		return undefined;
	}

	#turnOff(error: unknown): void {
		if (this.#isOff) return;
		this.#isOff = true;
		const why = error instanceof RemoteUnavailable ? error.message : String((error as Error)?.message ?? error);
		this.#onWarning(`the remote cache ${this.#base} is unavailable (${why}); this build goes on without it`);
	}
}

/** At most `size` holders at once; the others wait in arrival order. */
class Slots {
	#free: number;
	readonly #waiting: (() => void)[] = [];

	constructor(size: number) {
		this.#free = size;
	}

	async take(): Promise<void> {
		if (this.#free > 0) {
			this.#free--;
			return;
		}
		await new Promise<void>((resolve) => this.#waiting.push(resolve));
	}

	give(): void {
		const next = this.#waiting.shift();
		if (next !== undefined) next();
		else this.#free++;
	}
}

/** The sha256 (hex) of some bytes. */
export function sha256(bytes: Uint8Array): string {
	return createHash('sha256').update(bytes).digest('hex');
}

/** A checked action record, or a sentence saying what is wrong with it. */
function parseRecord(bytes: Buffer): { sha256: string; size: number; inline?: Buffer } | string {
	let record: { v?: unknown; sha256?: unknown; size?: unknown; inline?: unknown };
	try {
		record = JSON.parse(bytes.toString('utf8'));
	} catch {
		return 'the action record is not JSON';
	}
	if (record === null || typeof record !== 'object' || record.v !== 1) return 'the action record is not of version 1';
	if (typeof record.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(record.sha256)) return 'the action record has no sha256';
	if (typeof record.size !== 'number' || !Number.isSafeInteger(record.size) || record.size < 0) return 'the action record has no size';
	if (record.inline !== undefined && typeof record.inline !== 'string') return 'the action record has a malformed value';
	return { sha256: record.sha256, size: record.size, ...(record.inline === undefined ? {} : { inline: Buffer.from(record.inline, 'base64') }) };
}

/** What a server answered. */
interface HttpAnswer {
	status: number;
	statusText: string;
	body: Buffer;
}

/** One HTTP request with a time limit over all of it; rejects with RemoteUnavailable naming what failed. */
function httpRequest(agent: HttpAgent, url: string, method: 'GET' | 'PUT', body: Buffer | undefined, timeoutMs: number): Promise<HttpAnswer> {
	const what = `${method} ${url}`;
	return new Promise<HttpAnswer>((resolve, reject) => {
		const send = url.startsWith('https:') ? httpsRequest : httpRequestRaw;
		const headers = body === undefined ? {} : { 'content-type': 'application/octet-stream', 'content-length': String(body.byteLength) };
		const request = send(url, { method, agent, headers }, (response) => {
			const chunks: Buffer[] = [];
			response.on('data', (chunk: Buffer) => chunks.push(chunk));
			response.on('end', () => {
				clearTimeout(timer);
				resolve({ status: response.statusCode ?? 0, statusText: response.statusMessage ?? '', body: Buffer.concat(chunks) });
			});
			response.on('error', (error) => fail(`${what} failed: ${error.message}`));
		});
		const fail = (message: string): void => {
			clearTimeout(timer);
			request.destroy();
			reject(new RemoteUnavailable(message));
		};
		const timer = setTimeout(() => fail(`${what} took longer than ${timeoutMs} ms`), timeoutMs);
		request.on('error', (error: NodeJS.ErrnoException) => fail(`${what} failed: ${error.code ?? error.message}`));
		request.end(body);
	});
}
