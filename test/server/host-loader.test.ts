/**
 * The host's start-up loader, dist/server/host.cjs (server/host-loader.cts): it runs the bundled host
 * from a V8 code cache, and every problem with that cache (missing, stale, corrupt, rejected,
 * unwritable, turned off) leaves a host that serves as before. Real host processes; the loader's
 * decisions are read from its startup log (MACRO_HOST_STARTUP_LOG=1).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { PROTOCOL_VERSION } from '../../dist/protocol/version.js';
import { fixture, IDENT, LITERAL, PUNCT, tokens } from './harness.js';

const require = createRequire(import.meta.url);
const SERVER_DIR = fileURLToPath(new URL('../../dist/server/', import.meta.url));
const ENTRY = join(SERVER_DIR, 'host.cjs');
const loader = require(join(SERVER_DIR, 'host-loader.cjs')) as typeof import('../../dist/server/host-loader.cjs');

const ARGS = tokens([IDENT, 'a', 5], [PUNCT, ',', 6], [LITERAL, '1', 8]);

/** A host started through the loader, with its startup log on. */
interface LoadedHost {
	child: ChildProcessWithoutNullStreams;
	connection: MessageConnection;
	/** Resolves with the first stderr line starting with `prefix` (seen or to come). */
	logLine(prefix: string): Promise<string>;
	stderr(): string;
	/** Sends a request; rejects with the host's stderr if the host dies first. */
	request(method: string, params?: unknown): Promise<unknown>;
	/** shutdown + exit; resolves with the exit code. */
	close(): Promise<number | null>;
}

const running: LoadedHost[] = [];
afterEach(() => {
	for (const host of running.splice(0)) host.child.kill('SIGKILL');
});

function startHost(options: { entry?: string; cacheFile?: string; nodeArgs?: string[] } = {}): LoadedHost {
	const env: NodeJS.ProcessEnv = { ...process.env, [loader.STARTUP_LOG_ENV]: '1' };
	if (options.cacheFile === undefined) delete env[loader.CACHE_ENV];
	else env[loader.CACHE_ENV] = options.cacheFile;
	const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.entry ?? ENTRY, '--encoding', 'json'], { env });
	child.stdin.on('error', () => undefined);
	let stderr = '';
	const waiters: Array<{ prefix: string; resolve: (line: string) => void }> = [];
	// Complete lines only: a line is reported once its newline has arrived.
	const findLine = (prefix: string) => stderr.slice(0, stderr.lastIndexOf('\n') + 1).split('\n').find((line) => line.startsWith(prefix));
	child.stderr.setEncoding('utf8').on('data', (text: string) => {
		stderr += text;
		for (const waiter of waiters.splice(0)) {
			const line = findLine(waiter.prefix);
			if (line === undefined) waiters.push(waiter);
			else waiter.resolve(line);
		}
	});
	const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
	const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
	connection.listen();
	const host: LoadedHost = {
		child,
		connection,
		stderr: () => stderr,
		request(method, params) {
			const died = exited.then((code) => {
				throw new Error(`the host exited (${code ?? child.signalCode}) before answering ${method}: ${stderr}`);
			});
			return Promise.race([connection.sendRequest(method, params), died]);
		},
		logLine(prefix) {
			const line = findLine(prefix);
			return line === undefined ? new Promise((resolve) => waiters.push({ prefix, resolve })) : Promise.resolve(line);
		},
		async close() {
			await connection.sendRequest('shutdown');
			await connection.sendNotification('exit');
			const code = await exited;
			connection.dispose();
			return code;
		},
	};
	running.push(host);
	return host;
}

/** initialize, loadLibrary and one expansion: what a client does first. */
async function expectServing(host: LoadedHost): Promise<void> {
	await host.request('initialize', { protocolVersion: PROTOCOL_VERSION, clientInfo: { name: 'test' } });
	await host.request('loadLibrary', { path: fixture('libc_basic.so') });
	expect(await host.request('expandInline', { name: 'wrap', args: ARGS })).toMatchObject({
		outcome: 'replace',
		tokens: { text: '(a,1)' },
	});
}

/** The id on the bundle's first line, which the cache header repeats. */
function bundleId(): string {
	const firstLine = readFileSync(join(SERVER_DIR, 'host-bundle.cjs'), 'utf8').split('\n')[0];
	expect(firstLine.startsWith(loader.BUNDLE_ID_PREFIX)).toBe(true);
	return firstLine.slice(loader.BUNDLE_ID_PREFIX.length);
}

let workDir: string;
/** Where the first host found no cache and wrote one. */
let freshCacheFile: string;
/** What that first host logged about its cache, in order. */
let freshCacheLog: string[];
/** The cache it wrote: valid for this bundle and this Node. */
let validCache: Buffer;

beforeAll(async () => {
	workDir = mkdtempSync(join(tmpdir(), 'macro-host-loader-'));
	freshCacheFile = join(workDir, 'fresh.v8cache');
	const first = startHost({ cacheFile: freshCacheFile });
	await expectServing(first);
	freshCacheLog = [await first.logLine('macro-host: code cache:'), await first.logLine('macro-host: code cache: written')];
	expect(await first.close()).toBe(0);
	validCache = readFileSync(freshCacheFile);
});
afterAll(() => {
	rmSync(workDir, { recursive: true, force: true });
});

describe('the code cache', () => {
	it('missing: the host serves, writes one after its first second, and the next host starts from it', async () => {
		// The first host ran in beforeAll (the other tests start from its cache).
		const cacheFile = freshCacheFile;
		expect(freshCacheLog).toEqual([`macro-host: code cache: missing ${cacheFile}`, `macro-host: code cache: written ${cacheFile}`]);
		const header = loader.cacheHeader(bundleId());
		expect(header).toBe(`${loader.CACHE_MAGIC} ${bundleId()} ${process.version} ${process.arch}\n`);
		expect(validCache.toString('latin1', 0, header.length)).toBe(header);
		expect(validCache.length).toBeGreaterThan(header.length + 1000);

		const second = startHost({ cacheFile });
		await expectServing(second);
		expect(await second.logLine('macro-host: code cache:')).toBe(`macro-host: code cache: accepted ${cacheFile}`);
		expect(await second.close()).toBe(0);
		// An accepted cache is not written again.
		expect(second.stderr()).not.toContain('code cache: written');
		expect(readFileSync(cacheFile).equals(validCache)).toBe(true);
	});

	it('corrupt: V8 rejects it by its checksum instead of crashing, the host serves, and rewrites it', async () => {
		const cacheFile = join(workDir, 'corrupt.v8cache');
		const corrupt = Buffer.from(validCache);
		const middle = corrupt.length >> 1;
		for (let i = middle; i < middle + 64; i++) corrupt[i] ^= 0x5a;
		writeFileSync(cacheFile, corrupt);

		const host = startHost({ cacheFile });
		await expectServing(host);
		expect(await host.logLine('macro-host: code cache:')).toBe(`macro-host: code cache: rejected ${cacheFile}`);
		expect(await host.logLine('macro-host: code cache: written')).toBe(`macro-host: code cache: written ${cacheFile}`);
		// Still serving after the write.
		expect(await host.request('expandInline', { name: 'wrap', args: ARGS })).toMatchObject({ outcome: 'replace' });
		expect(await host.close()).toBe(0);

		const next = startHost({ cacheFile });
		await expectServing(next);
		expect(await next.logLine('macro-host: code cache:')).toBe(`macro-host: code cache: accepted ${cacheFile}`);
		expect(await next.close()).toBe(0);
	});

	it('made under other V8 flags: V8 rejects it and the host serves', async () => {
		const cacheFile = join(workDir, 'flags.v8cache');
		writeFileSync(cacheFile, validCache);
		const host = startHost({ cacheFile, nodeArgs: ['--no-opt'] });
		await expectServing(host);
		expect(await host.logLine('macro-host: code cache:')).toBe(`macro-host: code cache: rejected ${cacheFile}`);
		expect(await host.close()).toBe(0);
	});

	const header = () => loader.cacheHeader(bundleId());
	const payload = () => validCache.subarray(header().length);
	it.each([
		['another bundle', () => Buffer.concat([Buffer.from(header().replace(bundleId(), 'f'.repeat(bundleId().length)), 'latin1'), payload()])],
		['another Node', () => Buffer.concat([Buffer.from(header().replace(process.version, 'v0.0.1'), 'latin1'), payload()])],
		['no header', () => payload()],
		['a truncated header', () => validCache.subarray(0, 10)],
		['an empty file', () => Buffer.alloc(0)],
	])('stale (%s): not given to V8 at all, and the host serves', async (_name, contents) => {
		const cacheFile = join(workDir, 'stale.v8cache');
		writeFileSync(cacheFile, contents());
		const host = startHost({ cacheFile });
		await expectServing(host);
		expect(await host.logLine('macro-host: code cache:')).toBe(`macro-host: code cache: stale ${cacheFile}`);
		expect(await host.close()).toBe(0);
	});

	it('unreadable (a directory): the host serves, and the failed write is only reported', async () => {
		const cacheFile = join(workDir, 'a-directory.v8cache');
		mkdirSync(cacheFile);
		const host = startHost({ cacheFile });
		await expectServing(host);
		expect(await host.logLine('macro-host: code cache:')).toBe(`macro-host: code cache: unreadable ${cacheFile}`);
		expect(await host.logLine('macro-host: code cache: not written')).toMatch(/^macro-host: code cache: not written \(.+\)$/);
		expect(await host.request('expandInline', { name: 'wrap', args: ARGS })).toMatchObject({ outcome: 'replace' });
		expect(await host.close()).toBe(0);
		expect(statSync(cacheFile).isDirectory()).toBe(true);
	});

	it('in a directory that does not exist: the host serves, and the failed write is only reported', async () => {
		const cacheFile = join(workDir, 'no', 'such', 'directory', 'cache.v8cache');
		const host = startHost({ cacheFile });
		await expectServing(host);
		expect(await host.logLine('macro-host: code cache:')).toBe(`macro-host: code cache: missing ${cacheFile}`);
		expect(await host.logLine('macro-host: code cache: not written')).toMatch(/^macro-host: code cache: not written \(ENOENT: .+\)$/);
		expect(await host.close()).toBe(0);
	});

	it('off: no cache is read or written', async () => {
		const host = startHost({ cacheFile: 'off' });
		await expectServing(host);
		expect(await host.logLine('macro-host: code cache:')).toBe('macro-host: code cache: off');
		expect(await host.close()).toBe(0);
	});

	it('the build leaves one beside the bundle, for this bundle and this Node', () => {
		const cache = readFileSync(loader.DEFAULT_CACHE_FILE);
		expect(cache.toString('latin1', 0, header().length)).toBe(header());
	});
});

describe("koffi's native addon", () => {
	it('is required directly from the path the build found', async () => {
		const host = startHost();
		await expectServing(host);
		expect(host.stderr()).toContain('macro-host: koffi: addon required directly\n');
		expect(await host.close()).toBe(0);
	});

	it('when that path does not exist from where the host runs, comes through the koffi package, and the host serves', async () => {
		// One level deeper than dist/server/: the build's relative path to the addon misses, while
		// require('koffi') still finds the repository's node_modules by walking up.
		const buildDir = fileURLToPath(new URL('../fixtures/build/', import.meta.url));
		mkdirSync(buildDir, { recursive: true });
		const copyDir = mkdtempSync(join(buildDir, 'host-loader-copy-'));
		try {
			for (const file of ['host.cjs', 'host-bundle.cjs']) copyFileSync(join(SERVER_DIR, file), join(copyDir, file));
			const cacheFile = join(copyDir, 'cache.v8cache');
			writeFileSync(cacheFile, validCache);
			const host = startHost({ entry: join(copyDir, 'host.cjs'), cacheFile });
			await expectServing(host);
			expect(await host.logLine('macro-host: koffi:')).toMatch(/^macro-host: koffi: through its package \(Cannot find module '.+koffi\.node'.*\)$/);
			// The cache is tied to the bundle's content, not to its place.
			expect(await host.logLine('macro-host: code cache:')).toBe(`macro-host: code cache: accepted ${cacheFile}`);
			expect(await host.close()).toBe(0);
		} finally {
			rmSync(copyDir, { recursive: true, force: true });
		}
	});
});
