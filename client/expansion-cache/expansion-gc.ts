/**
 * Housekeeping of the expansion cache inside a build cache directory (`<cache>/expansions/`), for
 * `macro-host cache list|prune|clean`: how many entries it holds and their size, and the prune of
 * entries unused for some days, then of the least recently used until a size budget fits. An entry's
 * mtime is its use stamp (local-store.ts refreshes it on a hit).
 *
 * Removing an entry file is safe while builds run: a build that opened it reads it whole, a later one
 * misses and computes it again. Entries used within the grace period are kept all the same, as the
 * build cache's are.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempOwner } from '../packages/atomic-file.js';
import { listDir as names, statOrUndefined } from '../packages/cache-inventory.js';
import { isProcessRunning } from '../process-liveness.js';
import { EXPANSIONS_DIR } from './expansion-cache.js';
import { ENTRIES_DIR, LIBRARIES_DIR } from './local-store.js';

/** One file of the expansion cache. */
interface ExpansionFile {
	path: string;
	size: number;
	lastUsedMs: number;
}

/** What the expansion cache of a build cache directory holds. */
export interface ExpansionInventory {
	/** The expansion cache directory. */
	dir: string;
	/** Cached call results. */
	entries: number;
	/** Library records. */
	libraries: number;
	/** Bytes of every file. */
	size: number;
	/** When a build last used an entry (ms since the epoch); undefined when there is none. */
	lastUsedMs: number | undefined;
}

/** Result of {@link pruneExpansions}. */
export interface ExpansionPruneResult {
	/** Entries removed (or that would be). */
	removed: number;
	/** Their bytes, plus the leftover temporary files'. */
	freedBytes: number;
	/** Entries the rules chose that were used within the grace period: kept. */
	keptRecent: number;
	/** The size of the expansion cache afterwards (or that it would have). */
	sizeAfter: number;
}

/** The expansion cache directory of a build cache directory. */
export function expansionsDirOf(cacheDir: string): string {
	return join(cacheDir, EXPANSIONS_DIR);
}

/** Counts the expansion cache in `cacheDir`. */
export function readExpansionInventory(cacheDir: string): ExpansionInventory {
	const dir = expansionsDirOf(cacheDir);
	const { entries, libraries, temps } = listFiles(dir);
	const size = [...entries, ...libraries, ...temps].reduce((sum, f) => sum + f.size, 0);
	const lastUsedMs = entries.length === 0 ? undefined : Math.max(...entries.map((e) => e.lastUsedMs));
	return { dir, entries: entries.length, libraries: libraries.length, size, lastUsedMs };
}

/**
 * Removes expansion entries unused since `ageCutoffMs`, then the least recently used until the expansion cache takes
 * at most `maxSizeBytes`, never one used after `graceEndMs`; and temporary files of writers that are gone. Library
 * records go with age only (they are tiny, and a build needs them to start no host).
 */
export function pruneExpansions(cacheDir: string, rules: { ageCutoffMs: number; graceEndMs: number; maxSizeBytes?: number; dryRun: boolean }): ExpansionPruneResult {
	const { entries, libraries, temps } = listFiles(expansionsDirOf(cacheDir));
	const doomed: ExpansionFile[] = temps.filter((t) => t.lastUsedMs < rules.graceEndMs && !isProcessRunning(tempOwner(t.path) ?? process.pid));
	let size = [...entries, ...libraries, ...temps].reduce((sum, f) => sum + f.size, 0) - doomed.reduce((sum, f) => sum + f.size, 0);
	let removed = 0;
	let keptRecent = 0;
	for (const file of [...libraries].filter((l) => l.lastUsedMs < Math.min(rules.ageCutoffMs, rules.graceEndMs))) {
		doomed.push(file);
		size -= file.size;
	}
	// Oldest use first: the order of both rules.
	for (const entry of [...entries].sort((a, b) => a.lastUsedMs - b.lastUsedMs)) {
		const byAge = entry.lastUsedMs < rules.ageCutoffMs;
		const bySize = !byAge && rules.maxSizeBytes !== undefined && size > rules.maxSizeBytes;
		if (!byAge && !bySize) continue;
		if (entry.lastUsedMs >= rules.graceEndMs) {
			keptRecent++;
			continue;
		}
		doomed.push(entry);
		size -= entry.size;
		removed++;
	}
	if (!rules.dryRun) for (const file of doomed) rmSync(file.path, { force: true });
	return { removed, freedBytes: doomed.reduce((sum, f) => sum + f.size, 0), keptRecent, sizeAfter: Math.max(0, size) };
}

function listFiles(dir: string): { entries: ExpansionFile[]; libraries: ExpansionFile[]; temps: ExpansionFile[] } {
	const entries: ExpansionFile[] = [];
	const libraries: ExpansionFile[] = [];
	const temps: ExpansionFile[] = [];
	const add = (path: string, name: string, into: ExpansionFile[]): void => {
		const stats = statOrUndefined(path);
		if (stats === undefined || !stats.isFile()) return;
		(name.endsWith('.tmp') ? temps : into).push({ path, size: stats.size, lastUsedMs: stats.mtimeMs });
	};
	for (const shard of names(join(dir, ENTRIES_DIR))) {
		for (const name of names(join(dir, ENTRIES_DIR, shard))) add(join(dir, ENTRIES_DIR, shard, name), name, entries);
	}
	for (const name of names(join(dir, LIBRARIES_DIR))) add(join(dir, LIBRARIES_DIR, name), name, libraries);
	return { entries, libraries, temps };
}

