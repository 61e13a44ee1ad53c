/**
 * The remote expansion cache against a real nginx (WebDAV PUT) on a loopback port: a build uploads
 * its entries in Bazel's layout (`ac/<key>`, `cas/<sha256>` for large values); a second machine
 * (a fresh cache directory) hits them remotely and writes them locally; a read-only client uploads
 * nothing; a server that is down, one that never answers, and a corrupted entry each cost a warning
 * and local work, never the build.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProject } from '../../dist/client/packages/build-project.js';
import { INLINE_VALUE_LIMIT, RemoteExpansionStore } from '../../dist/client/expansion-cache/index.js';
import { freePort, startNginx, type Nginx } from '../../dist/bench/nginx.js';
import { CACHE_DIR, CACHE_MACROS, expand, output, removeTempDirs, tempDir, writeCacheProject } from './support.js';

let nginx: Nginx;

beforeAll(async () => {
	await buildProject(writeCacheProject({ cache_macros: CACHE_MACROS }, {}), { cacheDir: CACHE_DIR });
	nginx = await startNginx(tempDir('nginx'));
});
afterAll(async () => {
	await nginx?.stop();
	removeTempDirs();
});

const SOURCES = {
	'src/lib.cairo': '#[derive(Drop, Named)]\nstruct Point {\n    x: felt252,\n}\n\nfn one() -> felt252 {\n    double!(1)\n}\n',
	'src/math.cairo': 'fn two(a: felt252) -> felt252 {\n    double!(a) * double!(loud)\n}\n',
};

/** A remote cache root of its own under nginx, so the tests do not see each other's entries. */
function remoteUrl(name: string): { url: string; root: string } {
	// One name for both: two clock reads a millisecond apart named two different roots.
	const dir = `${name}-${Date.now()}`;
	return { url: `${nginx.url}/${dir}`, root: join(nginx.cacheRoot, dir) };
}

function files(dir: string): string[] {
	return existsSync(dir) ? readdirSync(dir).sort() : [];
}

describe('a remote cache on nginx', () => {
	it('receives a build’s entries; a second machine hits them all and keeps them locally', async () => {
		const project = writeCacheProject({ cache_macros: CACHE_MACROS }, SOURCES);
		const remote = remoteUrl('shared');
		const first = await expand(project, tempDir('machine-a'), { expansionCache: { remote: remote.url } });
		expect(first.cache).toEqual({ hits: 0, remoteHits: 0, misses: 4, stored: 4, fileHits: 0 });
		expect(first.diagnostics.filter((d) => d.code === 'expansion-cache')).toEqual([]);
		// Four calls, the two files whole, and the library's record (its macros), so that the next machine needs no
		// host to learn them.
		const uploaded = files(join(remote.root, 'ac'));
		expect(uploaded).toHaveLength(7);
		for (const key of uploaded) expect(key).toMatch(/^[0-9a-f]{64}$/);

		const machineB = tempDir('machine-b');
		const second = await expand(project, machineB, { expansionCache: { remote: remote.url } });
		expect(second.cache).toEqual({ hits: 0, remoteHits: 4, misses: 0, stored: 0, fileHits: 2 });
		expect(second.hostsStarted).toBe(0);
		for (const file of ['src/lib.cairo', 'src/math.cairo']) expect(output(second, file)).toBe(output(first, file));
		expect(second.diagnostics.map((d) => d.message)).toEqual(first.diagnostics.map((d) => d.message));
		// Written locally: a third build on machine B needs neither the remote nor a host.
		const third = await expand(project, machineB);
		expect(third.cache).toEqual({ hits: 4, remoteHits: 0, misses: 0, stored: 0, fileHits: 2 });
		expect(third.hostsStarted).toBe(0);
	});

	it('a read-only client (upload false) reads but uploads nothing', async () => {
		const project = writeCacheProject({ cache_macros: CACHE_MACROS }, SOURCES);
		const remote = remoteUrl('read-only');
		const run = await expand(project, tempDir('laptop'), { expansionCache: { remote: { url: remote.url, upload: false } } });
		expect(run.cache).toEqual({ hits: 0, remoteHits: 0, misses: 4, stored: 4, fileHits: 0 });
		expect(files(join(remote.root, 'ac'))).toEqual([]);
	});

	it('large values go to the CAS under their sha256, and come back whole', async () => {
		const remote = remoteUrl('large');
		const warnings: string[] = [];
		const store = new RemoteExpansionStore({ url: remote.url, onWarning: (w) => warnings.push(w) });
		const big = Buffer.alloc(INLINE_VALUE_LIMIT * 3, 'x');
		store.write('a'.repeat(64), big);
		store.write('b'.repeat(64), Buffer.from('small'));
		await store.flush();
		expect(files(join(remote.root, 'cas'))).toHaveLength(1);
		expect(files(join(remote.root, 'ac'))).toEqual(['a'.repeat(64), 'b'.repeat(64)]);
		expect((await store.read('a'.repeat(64)))?.equals(big)).toBe(true);
		expect((await store.read('b'.repeat(64)))?.toString()).toBe('small');
		expect(await store.read('c'.repeat(64))).toBeUndefined();
		expect(warnings).toEqual([]);
		// Garbage where an action record should be: a warning and a miss.
		writeFileSync(join(remote.root, 'ac', 'd'.repeat(64)), '<html>not a record</html>');
		expect(await store.read('d'.repeat(64))).toBeUndefined();
		expect(warnings).toEqual([`the remote cache entry ${remote.url}/ac/${'d'.repeat(64)} is corrupted (the action record is not JSON); it is ignored and the call expanded here`]);
		expect(store.isAvailable).toBe(true);
	});

	it('a corrupted entry is a warning and a miss; the call is expanded here', async () => {
		const project = writeCacheProject({ cache_macros: CACHE_MACROS }, { 'src/lib.cairo': 'fn f() -> felt252 { double!(7) }\n' });
		const remote = remoteUrl('corrupt');
		await expand(project, tempDir('writer'), { expansionCache: { remote: remote.url } });
		// The call's entry, not the library record beside it.
		const recordOf = (k: string) => JSON.parse(readFileSync(join(remote.root, 'ac', k), 'utf8'));
		const valueOf = (k: string) => Buffer.from(recordOf(k).inline, 'base64').toString();
		const key = files(join(remote.root, 'ac')).find((k) => valueOf(k).includes('"outcome"'));
		// The file's whole entry goes, so that the call is looked up on its own.
		const fileKey = files(join(remote.root, 'ac')).find((k) => valueOf(k).includes('"kind":"file"'));
		rmSync(join(remote.root, 'ac', fileKey!));
		const record = recordOf(key!);
		// Same size, other bytes: only the hash check can tell.
		const value = Buffer.from(record.inline, 'base64');
		value[value.length - 2] ^= 1;
		writeFileSync(join(remote.root, 'ac', key!), JSON.stringify({ ...record, inline: value.toString('base64') }));

		const run = await expand(project, tempDir('reader'), { expansionCache: { remote: { url: remote.url, upload: false } } });
		expect(run.cache).toEqual({ hits: 0, remoteHits: 0, misses: 1, stored: 1, fileHits: 0 });
		expect(output(run, 'src/lib.cairo')).toBe('fn f() -> felt252 { (7) + (7) }\n');
		expect(run.diagnostics.map((d) => `${d.code} ${d.severity} ${d.message}`)).toEqual([
			`expansion-cache warning the remote cache entry ${remote.url}/ac/${key} is corrupted (its bytes do not match their sha256); it is ignored and the call expanded here`,
		]);
		expect(run.summary.errors).toBe(0);
	});
});

describe('a remote cache that cannot serve', () => {
	it('down (nothing listens): one warning, and the build finishes with local work', async () => {
		const project = writeCacheProject({ cache_macros: CACHE_MACROS }, SOURCES);
		const url = `http://127.0.0.1:${await freePort()}/cache`;
		const run = await expand(project, tempDir('offline'), { expansionCache: { remote: url } });
		expect(run.cache).toEqual({ hits: 0, remoteHits: 0, misses: 4, stored: 4, fileHits: 0 });
		expect(output(run, 'src/math.cairo')).toContain('((a) + (a)) * ((loud) + (loud))');
		const warnings = run.diagnostics.filter((d) => d.code === 'expansion-cache').map((d) => d.message);
		expect(warnings).toEqual([expect.stringMatching(new RegExp(`^the remote cache ${url} is unavailable \\(GET ${url}/ac/[0-9a-f]{64} failed: ECONNREFUSED\\); this build goes on without it$`))]);
	});

	it('slow (accepts and never answers): the time limit ends the wait, one warning, and the build finishes', async () => {
		const sockets: Socket[] = [];
		const server: Server = createServer((socket) => sockets.push(socket));
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/cache`;
		try {
			const project = writeCacheProject({ cache_macros: CACHE_MACROS }, SOURCES);
			const started = Date.now();
			const run = await expand(project, tempDir('slow'), { expansionCache: { remote: { url, timeoutMs: 300 } } });
			expect(run.cache).toEqual({ hits: 0, remoteHits: 0, misses: 4, stored: 4, fileHits: 0 });
			const warnings = run.diagnostics.filter((d) => d.code === 'expansion-cache').map((d) => d.message);
			expect(warnings).toEqual([expect.stringMatching(/is unavailable \(GET .* took longer than 300 ms\); this build goes on without it$/)]);
			// Every lookup waited at most once for the limit, all at the same time: nowhere near 4 × 300 ms in a row plus uploads.
			expect(Date.now() - started).toBeLessThan(20_000);
		} finally {
			for (const socket of sockets) socket.destroy();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		}
	});
});
