/**
 * Removing things from the build cache while builds may run: `pruneCache` (entries unused for some days, then the
 * least recently used until the cache fits a size) and `cleanCache` (everything). An entry is first renamed to a
 * temporary name beside it, so a build sees either the complete entry or none, never half of one; an entry used
 * after the prune picked it is put back; an entry used within {@link PRUNE_GRACE_MS} is never pruned.
 */
import { renameSync, rmdirSync, rmSync } from 'node:fs';
import { join, sep } from 'node:path';
import { tempName, tempOwner } from './atomic-file.js';
import {
	KEY_PREFIX_LENGTH,
	listDir,
	ownedPaths,
	readCacheInventory,
	readTargetFiles,
	statOrUndefined,
	treeSize,
	type CacheEntry,
	type CacheInventory,
} from './cache-inventory.js';
import { isProcessRunning } from '../process-liveness.js';
import { EXPANSIONS_DIR } from '../expansion-cache/expansion-cache.js';
import { pruneExpansions, readExpansionInventory, type ExpansionPruneResult } from '../expansion-cache/expansion-gc.js';

/** Entries used within this time are never pruned: a build that hit one may be about to load it. */
export const PRUNE_GRACE_MS = 10 * 60 * 1000;

/** The default of {@link PruneOptions.olderThanDays}. */
export const DEFAULT_PRUNE_DAYS = 30;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Options of {@link pruneCache}. */
export interface PruneOptions {
	/**
	 * Remove the entries no build has used for this many days (fractions allowed; 0 removes every entry outside the
	 * grace period).
	 * @default 30
	 */
	readonly olderThanDays?: number;
	/** Then remove the least recently used entries until the whole cache takes at most this many bytes. */
	readonly maxSizeBytes?: number;
	/**
	 * Only report what would be removed.
	 * @default false
	 */
	readonly dryRun?: boolean;
}

/** Why {@link pruneCache} chose an entry. */
export type PruneReason = 'age' | 'size';

/** An entry {@link pruneCache} removed (or, in a dry run, would remove). */
export interface PrunedEntry extends CacheEntry {
	reason: PruneReason;
}

/** Result of {@link pruneCache}. */
export interface PruneResult {
	/** The cache as it was before. */
	before: CacheInventory;
	/** The entries removed (or that would be), oldest use first. */
	removed: PrunedEntry[];
	/** Entries that a build used while the prune was removing them: put back, not removed. */
	keptInUse: CacheEntry[];
	/** Entries that the rules chose but that were used within {@link PRUNE_GRACE_MS}: kept. */
	keptRecent: CacheEntry[];
	/** Leftovers of interrupted builds and removals that were removed (or would be): paths. */
	leftovers: string[];
	/** Bytes freed (or that would be). */
	freedBytes: number;
	/** The size of the cache afterwards (or that it would have). */
	sizeAfter: number;
	/** False when `maxSizeBytes` was given and the cache is still larger. */
	fitsMaxSize: boolean;
	/** What the prune did in the expansion cache (`expansions/`); its entries go first under `maxSizeBytes`. */
	expansions: ExpansionPruneResult;
}

/** Validates the prune options; messages name the option, what it expects and what it got. */
export function validatePruneOptions(options: PruneOptions): void {
	const { olderThanDays, maxSizeBytes } = options;
	if (olderThanDays !== undefined && !(typeof olderThanDays === 'number' && Number.isFinite(olderThanDays) && olderThanDays >= 0)) {
		throw new TypeError(`The "olderThanDays" option must be a number of days (0 or more), got ${String(olderThanDays)} (${typeof olderThanDays})`);
	}
	if (maxSizeBytes !== undefined && !(typeof maxSizeBytes === 'number' && Number.isFinite(maxSizeBytes) && maxSizeBytes >= 0)) {
		throw new TypeError(`The "maxSizeBytes" option must be a number of bytes (0 or more), got ${String(maxSizeBytes)} (${typeof maxSizeBytes})`);
	}
}

/**
 * Prunes the cache in `cacheDir` (which must exist): entries unused for `olderThanDays`, then, with `maxSizeBytes`,
 * the least recently used until the cache fits, never one used within {@link PRUNE_GRACE_MS}; also the leftovers of
 * builds and removals whose process is gone, and the build directories of builds that never published.
 */
export function pruneCache(cacheDir: string, options: PruneOptions = {}): PruneResult {
	validatePruneOptions(options);
	const { olderThanDays = DEFAULT_PRUNE_DAYS, maxSizeBytes, dryRun = false } = options;
	const now = Date.now();
	const graceEnd = now - PRUNE_GRACE_MS;
	// Unclamped, so that an entry the age rule picks inside the grace period is reported as kept.
	const ageCutoff = now - olderThanDays * DAY_MS;
	const before = readCacheInventory(cacheDir);

	// ---- Expansion cache (client/expansion-cache/expansion-gc.ts): its entries are the cheapest to redo, so they go first ----
	const expansionsSize = readExpansionInventory(cacheDir).size;
	const expansions = pruneExpansions(cacheDir, {
		ageCutoffMs: ageCutoff,
		graceEndMs: graceEnd,
		maxSizeBytes: maxSizeBytes === undefined ? undefined : Math.max(0, maxSizeBytes - (before.totalSize - expansionsSize)),
		dryRun,
	});
	// Leftovers go first, so the size rule counts the cache without them.
	const allLeftovers = findLeftovers(cacheDir, before.entries, graceEnd, Math.min(ageCutoff, graceEnd));
	const leftoverSize = (paths: string[]): number => paths.reduce((sum, path) => sum + treeSize(path, new Set()), 0);
	const removed: PrunedEntry[] = [];
	const keptRecent: CacheEntry[] = [];
	// Oldest use first: the order of both rules.
	const candidates = [...before.entries].reverse();
	let size = before.totalSize - leftoverSize(allLeftovers) - (expansionsSize - expansions.sizeAfter);
	for (const entry of candidates) {
		const byAge = entry.lastUsedMs < ageCutoff;
		const bySize = !byAge && maxSizeBytes !== undefined && size > maxSizeBytes;
		if (!byAge && !bySize) continue;
		if (entry.lastUsedMs >= graceEnd) {
			keptRecent.push(entry);
			continue;
		}
		removed.push({ ...entry, reason: byAge ? 'age' : 'size' });
		size -= entry.size;
	}
	// A temporary file inside a removed entry goes with the entry (and counts in its size).
	const leftovers = allLeftovers.filter((path) => !removed.some((e) => path.startsWith(`${e.dir}${sep}`)));
	const leftoverBytes = leftoverSize(leftovers);
	// Those were subtracted twice: once as leftovers, once in their entry's size.
	size += leftoverSize(allLeftovers) - leftoverBytes;
	const keptInUse: CacheEntry[] = [];
	if (!dryRun) {
		const target = readTargetFiles(cacheDir);
		for (const entry of [...removed]) {
			if (removeCacheEntry(cacheDir, entry, target) === 'in-use') {
				removed.splice(removed.indexOf(entry), 1);
				keptInUse.push(entry);
				size += entry.size;
			}
		}
		for (const path of leftovers) rmSync(path, { recursive: true, force: true });
	}
	const freedBytes = removed.reduce((sum, e) => sum + e.size, 0) + leftoverBytes + expansions.freedBytes;
	const sizeAfter = Math.max(0, size);
	return { before, removed, keptInUse, keptRecent, leftovers, freedBytes, sizeAfter, fitsMaxSize: maxSizeBytes === undefined || sizeAfter <= maxSizeBytes, expansions };
}

/** What {@link removeCacheEntry} did. */
export type RemoveOutcome = 'removed' | 'in-use' | 'gone';

/**
 * Removes one entry so that no build can take a half-removed entry for a hit: its `libs/<key>` directory is renamed
 * to a temporary name first (a build then sees a miss), and if its use stamp has moved since `entry` was read (a
 * build used it after the caller decided), it is renamed back and kept. Its build directory and its outputs in
 * cargo's target dir go too. `target` is the listing of cargo's target dir (read once per prune).
 */
export function removeCacheEntry(cacheDir: string, entry: CacheEntry, target = readTargetFiles(cacheDir)): RemoveOutcome {
	const trash = tempName(entry.dir);
	try {
		renameSync(entry.dir, trash);
	} catch {
		// Already removed by a concurrent prune or clean.
		return 'gone';
	}
	// A build stamps the entry before it checks for the library: a stamp that moved means a build now holds its path.
	if (statOrUndefined(trash)?.mtimeMs !== entry.lastUsedMs) {
		try {
			renameSync(trash, entry.dir);
			return 'in-use';
		} catch {
			// A build republished the entry meanwhile: that copy is complete, this one can go.
		}
	}
	if (entry.crate) {
		for (const path of ownedPaths(cacheDir, entry.crate, entry.key.slice(0, KEY_PREFIX_LENGTH), target)) rmSync(path, { recursive: true, force: true });
	}
	rmSync(trash, { recursive: true, force: true });
	return 'removed';
}

/** The names {@link cleanCache} removes from a cache directory: what macro-host puts there, nothing else. */
export const CACHE_TOP_LEVEL_NAMES: readonly string[] = ['libs', 'build', 'target', 'wasm-sdk', 'rustc-info.json', 'wasm-rustc-info.json', EXPANSIONS_DIR];

/** Result of {@link cleanCache}. */
export interface CleanResult {
	/** The cache as it was before. */
	before: CacheInventory;
	/** The paths removed (or that would be). */
	removed: string[];
	/** Bytes freed (or that would be). */
	freedBytes: number;
	/** Whether the cache directory itself was removed (false when other files are in it, or in a dry run). */
	removedCacheDir: boolean;
}

/**
 * Removes everything macro-host keeps in `cacheDir` (which must exist): the libraries, the generated manifests,
 * cargo's target dir, the wasm SDK builds and the cached `rustc -vV` answers; then the directory itself when nothing
 * else is in it. Files macro-host did not put there are left alone, so a mistyped `--cache-dir` cannot wipe a folder.
 * Each part is renamed away before it is deleted, so a build running meanwhile sees a miss, never a half-deleted entry
 * (it may fail if its cargo's target dir goes, and succeeds when run again).
 */
export function cleanCache(cacheDir: string, options: { readonly dryRun?: boolean } = {}): CleanResult {
	const before = readCacheInventory(cacheDir);
	const ours = listDir(cacheDir).filter((name) => CACHE_TOP_LEVEL_NAMES.includes(name) || isLeftoverOf(name, CACHE_TOP_LEVEL_NAMES));
	const removed = ours.map((name) => join(cacheDir, name));
	const seen = new Set<string>();
	const freedBytes = removed.reduce((sum, path) => sum + treeSize(path, seen), 0);
	if (options.dryRun) return { before, removed, freedBytes, removedCacheDir: false };
	for (const path of removed) {
		const trash = tempName(path);
		try {
			renameSync(path, trash);
		} catch {
			// Gone already (a concurrent clean).
			continue;
		}
		rmSync(trash, { recursive: true, force: true });
	}
	let removedCacheDir = false;
	try {
		rmdirSync(cacheDir);
		removedCacheDir = true;
	} catch {
		// Not empty: someone else's files, or a build that started meanwhile.
	}
	return { before, removed, freedBytes, removedCacheDir };
}

/**
 * Leftovers: temporary files and directories (`<name>.<pid>.<random>.tmp`) whose process is gone, in the cache's top
 * level, `libs/`, each entry and `build/`; and build directories that no entry owns (a failed or interrupted
 * build) unused since `ageCutoff`. Nothing touched within the grace period counts.
 */
function findLeftovers(cacheDir: string, entries: CacheEntry[], graceEnd: number, ageCutoff: number): string[] {
	const leftovers: string[] = [];
	const isStale = (path: string, cutoff: number): boolean => (statOrUndefined(path)?.mtimeMs ?? Infinity) < cutoff;
	const tempsIn = (dir: string): void => {
		for (const name of listDir(dir)) {
			const pid = tempOwner(name);
			if (pid !== undefined && !isProcessRunning(pid) && isStale(join(dir, name), graceEnd)) leftovers.push(join(dir, name));
		}
	};
	tempsIn(cacheDir);
	tempsIn(join(cacheDir, 'libs'));
	for (const entry of entries) tempsIn(entry.dir);
	tempsIn(join(cacheDir, 'build'));

	const owned = new Set(entries.filter((e) => e.crate).map((e) => `${e.crate}-${e.key.slice(0, KEY_PREFIX_LENGTH)}`));
	const target = readTargetFiles(cacheDir);
	for (const name of listDir(join(cacheDir, 'build'))) {
		const match = /^(.+)-([0-9a-f]{16})$/.exec(name);
		if (!match || owned.has(name) || !isStale(join(cacheDir, 'build', name), ageCutoff)) continue;
		leftovers.push(...ownedPaths(cacheDir, match[1]!, match[2]!, target));
	}
	return leftovers;
}

/** Whether `name` is a temporary name made beside one of `names`. */
function isLeftoverOf(name: string, names: readonly string[]): boolean {
	return tempOwner(name) !== undefined && names.some((n) => name.startsWith(`${n}.`));
}
