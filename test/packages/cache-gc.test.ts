/**
 * The build cache's use stamps, inventory, prune and clean, on a cache filled by real cargo builds of two small macro
 * packages (one cache dir for the file, so the SDK compiles once). Ages are made by setting the entries' mtimes.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProject } from '../../dist/client/packages/build-project.js';
import { cleanCache, PRUNE_GRACE_MS, pruneCache, removeCacheEntry, validatePruneOptions } from '../../dist/client/packages/cache-gc.js';
import { markEntryUsed, readCacheInventory, type CacheEntry } from '../../dist/client/packages/cache-inventory.js';
import { failingCargo, removeTempDirs, tempDir, writeCairoPackage, writeMacroPackage } from './helpers.js';

afterAll(removeTempDirs);

const DAY = 24 * 60 * 60 * 1000;

let root: string;
let cacheDir: string;
/** Projects using one macro package each: alpha_macro and beta_macro. */
const apps: Record<'alpha' | 'beta', string> = { alpha: '', beta: '' };
const keys: Record<'alpha' | 'beta', string> = { alpha: '', beta: '' };

beforeAll(async () => {
	root = tempDir('cache-gc');
	cacheDir = join(root, 'cache');
	for (const name of ['alpha', 'beta'] as const) {
		writeMacroPackage(join(root, name), { name: `${name}_macro` });
		apps[name] = writeCairoPackage(join(root, `${name}-app`), `${name}_app`, { [`${name}_macro`]: `{ path = "../${name}", version = "0.1.0" }` });
		const built = await buildProject(apps[name], { cacheDir });
		keys[name] = built.packages[0]!.cacheKey!;
	}
}, 240_000);

/** Sets an entry's use stamp to `msAgo` before now. */
function age(name: 'alpha' | 'beta', msAgo: number): void {
	const when = new Date(Date.now() - msAgo);
	utimesSync(join(cacheDir, 'libs', keys[name]), when, when);
}

function entry(name: 'alpha' | 'beta'): CacheEntry {
	return readCacheInventory(cacheDir).entries.find((e) => e.key === keys[name])!;
}

/** The paths in the cache that name `crate_<key16>` (cargo's outputs) or `crate-<key16>` (the build dir). */
function ownedFiles(name: 'alpha' | 'beta'): string[] {
	const key16 = keys[name].slice(0, 16);
	const release = join(cacheDir, 'target', 'release');
	const found: string[] = [];
	for (const dir of [release, join(release, 'deps')]) for (const f of readdirSync(dir)) if (f.includes(`${name}_macro_${key16}`)) found.push(join(dir, f));
	for (const fp of readdirSync(join(release, '.fingerprint'))) {
		if (readdirSync(join(release, '.fingerprint', fp)).some((f) => f.includes(`${name}_macro_${key16}`))) found.push(join(release, '.fingerprint', fp));
	}
	if (existsSync(join(cacheDir, 'build', `${name}_macro-${key16}`))) found.push(join(cacheDir, 'build', `${name}_macro-${key16}`));
	return found;
}

/** Bytes of the files under `path`, each inode once: what du would say, counted independently of the code under test. */
function du(path: string, seen = new Set<number>()): number {
	const stats = lstatSync(path);
	if (seen.has(stats.ino)) return 0;
	seen.add(stats.ino);
	if (!stats.isDirectory()) return stats.size;
	return readdirSync(path).reduce((sum, name) => sum + du(join(path, name), seen), 0);
}

function tempsIn(dir: string): string[] {
	return readdirSync(dir).filter((name) => name.endsWith('.tmp'));
}

describe('use stamps', () => {
	it('a cache hit refreshes the entry\'s stamp (and starts no cargo)', async () => {
		age('alpha', 40 * DAY);
		const before = statSync(join(cacheDir, 'libs', keys.alpha)).mtimeMs;
		const { cargo, marker } = failingCargo(join(root, 'fake-bin'));
		const hit = await buildProject(apps.alpha, { cacheDir, cargo });
		expect(hit.packages[0]!.source).toBe('cache');
		expect(existsSync(marker)).toBe(false);
		const after = statSync(join(cacheDir, 'libs', keys.alpha)).mtimeMs;
		expect(after).toBeGreaterThan(before + 39 * DAY);
	});

	it('markEntryUsed says whether the entry exists', () => {
		expect(markEntryUsed(join(cacheDir, 'libs', keys.beta))).toBe(true);
		expect(markEntryUsed(join(cacheDir, 'libs', '0'.repeat(64)))).toBe(false);
	});
});

describe('readCacheInventory', () => {
	it('lists the entries, most recently used first, with crate, kind and the bytes each owns', () => {
		age('alpha', 2 * DAY);
		age('beta', 1 * DAY);
		const inventory = readCacheInventory(cacheDir);
		expect(inventory.cacheDir).toBe(cacheDir);
		expect(inventory.entries.map((e) => [e.key, e.crate, e.kind])).toEqual([
			[keys.beta, 'beta_macro', 'native'],
			[keys.alpha, 'alpha_macro', 'native'],
		]);
		const alpha = inventory.entries[1]!;
		expect(alpha.dir).toBe(join(cacheDir, 'libs', keys.alpha));
		expect(alpha.lastUsedMs).toBe(statSync(alpha.dir).mtimeMs);
		// The library, plus its cargo outputs and its build dir, each file once.
		const seen = new Set<number>();
		expect(alpha.size).toBe([alpha.dir, ...ownedFiles('alpha')].reduce((sum, p) => sum + du(p, seen), 0));
		expect(alpha.size).toBeGreaterThan(2 * statSync(join(alpha.dir, 'libalpha_macro.so')).size);
		expect(inventory.totalSize).toBe(du(cacheDir));
		expect(inventory.sharedSize).toBe(inventory.totalSize - alpha.size - inventory.entries[0]!.size);
		// The SDK, compiled once for both, is shared.
		expect(readdirSync(join(cacheDir, 'target', 'release', 'deps')).some((f) => f.startsWith('libmacro_host_sdk-'))).toBe(true);
	});
});

describe('pruneCache', () => {
	it('a dry run reports the entries unused for 30 days and removes nothing', () => {
		age('alpha', 31 * DAY);
		age('beta', 29 * DAY);
		const result = pruneCache(cacheDir, { dryRun: true });
		expect(result.removed.map((e) => [e.key, e.reason])).toEqual([[keys.alpha, 'age']]);
		expect(result.freedBytes).toBe(entry('alpha').size);
		expect(result.sizeAfter).toBe(result.before.totalSize - entry('alpha').size);
		expect(existsSync(join(cacheDir, 'libs', keys.alpha, 'libalpha_macro.so'))).toBe(true);
		expect(ownedFiles('alpha').length).toBeGreaterThanOrEqual(4);
	});

	it('keeps what was used within the grace period, whatever the rules say', () => {
		age('alpha', PRUNE_GRACE_MS / 2);
		age('beta', PRUNE_GRACE_MS / 3);
		const result = pruneCache(cacheDir, { olderThanDays: 0, maxSizeBytes: 0, dryRun: true });
		expect(result.removed).toEqual([]);
		expect(result.keptRecent.map((e) => e.key)).toEqual([keys.alpha, keys.beta]);
		expect(result.fitsMaxSize).toBe(false);
	});

	it('with --max-size removes the least recently used until the cache fits', () => {
		age('alpha', 3 * DAY);
		age('beta', 2 * DAY);
		const { totalSize } = readCacheInventory(cacheDir);
		const result = pruneCache(cacheDir, { maxSizeBytes: totalSize - entry('alpha').size, dryRun: true });
		expect(result.removed.map((e) => [e.crate, e.reason])).toEqual([['alpha_macro', 'size']]);
		expect(result.fitsMaxSize).toBe(true);
		const smaller = pruneCache(cacheDir, { maxSizeBytes: totalSize - entry('alpha').size - 1, dryRun: true });
		expect(smaller.removed.map((e) => e.crate)).toEqual(['alpha_macro', 'beta_macro']);
	});

	it('removes an old entry with its cargo outputs and build dir, keeps the rest, and a later build rebuilds it', { timeout: 240_000 }, async () => {
		age('alpha', 31 * DAY);
		age('beta', 1 * DAY);
		const expectedFree = entry('alpha').size;
		const result = pruneCache(cacheDir);
		expect(result.removed.map((e) => e.key)).toEqual([keys.alpha]);
		expect(result.freedBytes).toBe(expectedFree);
		expect(existsSync(join(cacheDir, 'libs', keys.alpha))).toBe(false);
		expect(ownedFiles('alpha')).toEqual([]);
		expect(tempsIn(join(cacheDir, 'libs'))).toEqual([]);
		expect(result.sizeAfter).toBe(du(cacheDir));
		// beta and the shared SDK stay.
		expect(existsSync(join(cacheDir, 'libs', keys.beta, 'libbeta_macro.so'))).toBe(true);
		expect(ownedFiles('beta').length).toBeGreaterThanOrEqual(4);
		expect(readdirSync(join(cacheDir, 'target', 'release', 'deps')).some((f) => f.startsWith('libmacro_host_sdk-'))).toBe(true);

		const rebuilt = await buildProject(apps.alpha, { cacheDir });
		expect(rebuilt.cargoRuns).toBe(1);
		expect(rebuilt.packages[0]).toMatchObject({ source: 'built', cacheKey: keys.alpha });
		expect(readFileSync(rebuilt.packages[0]!.libraryPath).subarray(0, 4)).toEqual(Buffer.from('\x7fELF', 'latin1'));
	});

	it('removes leftovers whose process is gone and build dirs no entry owns, but not a live build\'s', () => {
		const old = new Date(Date.now() - 2 * PRUNE_GRACE_MS);
		// pid 999999999 is above Linux's pid_max: no process has it.
		const deadTrash = join(cacheDir, 'libs', `${'a'.repeat(64)}.999999999.x1.tmp`);
		const liveTemp = join(cacheDir, 'libs', `${'b'.repeat(64)}.${process.pid}.x2.tmp`);
		const failedBuild = join(cacheDir, 'build', 'gone_macro-0123456789abcdef');
		const runningBuild = join(cacheDir, 'build', 'busy_macro-fedcba9876543210');
		for (const dir of [deadTrash, liveTemp, failedBuild, runningBuild]) {
			mkdirSync(dir, { recursive: true });
			writeFileSync(join(dir, 'Cargo.toml'), '# leftover\n');
		}
		// A copy a killed publish left inside an entry.
		const deadCopy = join(cacheDir, 'libs', keys.alpha, 'libalpha_macro.so.999999999.x3.tmp');
		writeFileSync(deadCopy, 'half a library');
		for (const path of [deadTrash, liveTemp, deadCopy]) utimesSync(path, old, old);
		const stale = new Date(Date.now() - 40 * DAY);
		utimesSync(failedBuild, stale, stale);
		// A build that is running stamps its build dir, as build-project does.
		markEntryUsed(runningBuild);

		const result = pruneCache(cacheDir);
		expect(result.removed).toEqual([]);
		expect(result.leftovers.sort()).toEqual([failedBuild, deadTrash, deadCopy].sort());
		expect(result.freedBytes).toBe(2 * '# leftover\n'.length + 'half a library'.length);
		expect(result.sizeAfter).toBe(du(cacheDir));
		expect(existsSync(deadTrash)).toBe(false);
		expect(readdirSync(join(cacheDir, 'libs', keys.alpha))).toEqual(['libalpha_macro.so']);
		expect(existsSync(failedBuild)).toBe(false);
		expect(existsSync(liveTemp)).toBe(true);
		expect(existsSync(runningBuild)).toBe(true);
	});
});

describe('removeCacheEntry', () => {
	it('puts back an entry that a build used after the prune read it, whole', () => {
		age('beta', 40 * DAY);
		const stale = entry('beta');
		// What a build's cache hit does between the prune's decision and its rename.
		expect(markEntryUsed(stale.dir)).toBe(true);
		expect(removeCacheEntry(cacheDir, stale)).toBe('in-use');
		expect(readdirSync(stale.dir)).toEqual(['libbeta_macro.so']);
		expect(ownedFiles('beta').length).toBeGreaterThanOrEqual(4);
		expect(tempsIn(join(cacheDir, 'libs')).filter((n) => n.startsWith(keys.beta))).toEqual([]);
	});

	it('removes an entry nobody used since it was read, and says gone when it is already gone', () => {
		age('beta', 40 * DAY);
		const stale = entry('beta');
		expect(removeCacheEntry(cacheDir, stale)).toBe('removed');
		expect(existsSync(stale.dir)).toBe(false);
		expect(ownedFiles('beta')).toEqual([]);
		expect(removeCacheEntry(cacheDir, stale)).toBe('gone');
	});
});

describe('validatePruneOptions', () => {
	it('names the option, what it expects and what it got', () => {
		expect(() => validatePruneOptions({ olderThanDays: -1 })).toThrow(new TypeError('The "olderThanDays" option must be a number of days (0 or more), got -1 (number)'));
		expect(() => validatePruneOptions({ olderThanDays: '3' as unknown as number })).toThrow(
			new TypeError('The "olderThanDays" option must be a number of days (0 or more), got 3 (string)'),
		);
		expect(() => validatePruneOptions({ maxSizeBytes: Number.NaN })).toThrow(new TypeError('The "maxSizeBytes" option must be a number of bytes (0 or more), got NaN (number)'));
		expect(() => pruneCache(cacheDir, { maxSizeBytes: -5 })).toThrow('The "maxSizeBytes" option must be a number of bytes (0 or more), got -5 (number)');
	});
});

describe('cleanCache', () => {
	it('a dry run lists what it would remove; then everything macro-host put there goes, and foreign files stay', () => {
		writeFileSync(join(cacheDir, 'notes.txt'), 'mine\n');
		const dry = cleanCache(cacheDir, { dryRun: true });
		expect(dry.removed.sort()).toEqual(['build', 'libs', 'rustc-info.json', 'target'].map((n) => join(cacheDir, n)));
		expect(dry.freedBytes).toBe(du(cacheDir) - 'mine\n'.length);
		expect(existsSync(join(cacheDir, 'libs', keys.alpha))).toBe(true);

		const result = cleanCache(cacheDir);
		expect(result.removedCacheDir).toBe(false);
		expect(readdirSync(cacheDir)).toEqual(['notes.txt']);
	});

	it('removes the directory itself when nothing else is in it', async () => {
		const own = join(root, 'own-cache');
		await buildProject(apps.beta, { cacheDir: own });
		const result = cleanCache(own);
		expect(result.removedCacheDir).toBe(true);
		expect(result.before.entries.map((e) => e.crate)).toEqual(['beta_macro']);
		expect(existsSync(own)).toBe(false);
	}, 240_000);
});
