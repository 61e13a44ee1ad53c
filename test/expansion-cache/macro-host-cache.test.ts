/**
 * The `expansionCache` option of MacroHost (and so of every HostPool host), with a real host and the
 * cache-macros library: a repeated call is answered from the cache with its spans moved to the new
 * call and its aux data kept; a library's `mh_fingerprint` reaches LibraryInfo.fingerprint; bad
 * option values are refused with a message naming them.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MacroHost, SPAN_CALL_SITE } from '../../dist/client/index.js';
import { buildProject } from '../../dist/client/packages/build-project.js';
import { CACHE_DIR, CACHE_MACROS, FP_MACROS, removeTempDirs, tempDir, writeCacheProject } from './support.js';

let cacheMacros: string;
let fpMacros: string;
const hosts: MacroHost[] = [];

beforeAll(async () => {
	const built = await buildProject(writeCacheProject({ cache_macros: CACHE_MACROS, fp_macros: FP_MACROS }, {}), { cacheDir: CACHE_DIR });
	cacheMacros = built.packages.find((p) => p.name === 'cache_macros')!.libraryPath;
	fpMacros = built.packages.find((p) => p.name === 'fp_macros')!.libraryPath;
});
afterEach(async () => {
	await Promise.all(hosts.splice(0).map((h) => h.close()));
});
afterAll(removeTempDirs);

async function start(options: Parameters<typeof MacroHost.start>[0]): Promise<MacroHost> {
	const host = await MacroHost.start({ warmStandby: false, ...options });
	hosts.push(host);
	return host;
}

/** `fn f ( ) { }` with its spans starting at `at`. */
function item(at: number): { text: string; records: number[] } {
	const texts = ['fn', 'f', '(', ')', '{', '}'];
	const records: number[] = [];
	let offset = 0;
	let span = at;
	for (const t of texts) {
		records.push(t === 'fn' || t === 'f' ? 0 : 1, 0, offset, t.length, span, span + t.length);
		offset += t.length;
		span += t.length + 1;
	}
	return { text: texts.join(''), records };
}

describe('MacroHost with expansionCache', () => {
	it('answers a repeated call from the cache, spans moved to the new call and aux data kept', async () => {
		const host = await start({ expansionCache: { dir: tempDir('host-cache') } });
		await host.loadLibrary(cacheMacros);
		const call = (at: number) => host.expandAttribute({ name: 'tagged', args: { text: '', records: [] }, item: item(at + 10), callSite: { start: at, end: at + 9 } });
		const first = await call(100);
		expect(host.expansionCacheStats).toEqual({ hits: 0, remoteHits: 0, misses: 1, stored: 1, fileHits: 0 });
		const second = await call(5000);
		expect(host.expansionCacheStats).toEqual({ hits: 1, remoteHits: 0, misses: 1, stored: 1, fileHits: 0 });
		expect(second.outcome).toBe('replace');
		expect(second.auxData).toEqual(first.auxData);
		expect(second.auxData).toEqual({ tokens: 6 });
		// The item's spans came back, moved by the same 4,900 bytes as the call.
		const spans = (r: typeof first): number[] => Array.from(r.tokens!.records).filter((_, i) => i % 6 === 4);
		expect(spans(second)).toEqual(spans(first).map((s) => (s === SPAN_CALL_SITE ? s : s + 4900)));
		expect(spans(first)[0]).toBe(110);
	});

	it('never caches a failed call', async () => {
		const host = await start({ expansionCache: { dir: tempDir('host-cache') } });
		await host.loadLibrary(cacheMacros);
		for (let i = 0; i < 2; i++) {
			const result = await host.expandInline({ name: 'refuse', args: { text: '', records: [] }, callSite: { start: 0, end: 9 } });
			expect(result.outcome).toBe('bail');
		}
		expect(host.expansionCacheStats).toEqual({ hits: 0, remoteHits: 0, misses: 2, stored: 0, fileHits: 0 });
	});

	it('is off by default', async () => {
		const host = await start({});
		expect(host.expansionCacheStats).toBeUndefined();
	});

	it('reports a library’s mh_fingerprint in LibraryInfo.fingerprint, as a u64 in decimal, and none for a library without', async () => {
		const host = await start({ env: { FP_MACROS_INPUT: 'x' } });
		const withFingerprint = await host.loadLibrary(fpMacros);
		expect(withFingerprint.fingerprint).toMatch(/^\d+$/);
		expect(BigInt(withFingerprint.fingerprint!) < 2n ** 64n).toBe(true);
		const without = await host.loadLibrary(cacheMacros);
		expect(without.fingerprint).toBeUndefined();
		const other = await start({ env: { FP_MACROS_INPUT: 'y' } });
		expect((await other.loadLibrary(fpMacros)).fingerprint).not.toBe(withFingerprint.fingerprint);
	});

	it('refuses bad option values, naming them', async () => {
		await expect(MacroHost.start({ expansionCache: true as never })).rejects.toThrow('The `expansionCache` option must be false or an object, but received true (boolean).');
		await expect(MacroHost.start({ expansionCache: { remote: { url: 'ftp://x' } } })).rejects.toThrow(
			'The remote cache URL must be an http:// or https:// URL, got "ftp://x"',
		);
		await expect(MacroHost.start({ expansionCache: { dirr: '/tmp' } as never })).rejects.toThrow('Unknown expansionCache option `dirr`; known options are: dir, remote.');
	});
});
