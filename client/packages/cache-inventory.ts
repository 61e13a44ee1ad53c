/**
 * What is in the build cache and when each entry was last used. An entry is one `libs/<key>` directory; its use stamp
 * is that directory's mtime, which a build refreshes on every cache hit ({@link markEntryUsed}) and which publishing a
 * library into it sets anyway. The files an entry owns elsewhere (its generated Cargo.toml in `build/`, its outputs in
 * cargo's shared `target/`) carry the first 16 hex digits of its key in their names, so they can be found again.
 */
import { lstatSync, readdirSync, statSync, utimesSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/** One cached library: a `libs/<key>` directory. */
export interface CacheEntry {
	/** The full cache key (64 hex digits). */
	key: string;
	/** The crate name from the library's file name (`add_macro`); undefined when the directory holds no library. */
	crate: string | undefined;
	/** `native` for a shared library, `wasm` for a `.wasm` module; undefined when the directory holds no library. */
	kind: 'native' | 'wasm' | undefined;
	/** Absolute path of the `libs/<key>` directory. */
	dir: string;
	/** When a build last used (or published) it: the directory's mtime, in ms since the epoch. */
	lastUsedMs: number;
	/** Bytes that removing it frees: the library, its generated manifest and its outputs in cargo's target dir. */
	size: number;
}

/** The whole cache directory, read once. */
export interface CacheInventory {
	/** Absolute path of the cache directory. */
	cacheDir: string;
	/** Every entry, most recently used first. */
	entries: CacheEntry[];
	/** Bytes of everything in the cache directory (a file with several hard links counts once). */
	totalSize: number;
	/**
	 * Bytes of what belongs to no entry: the SDK compiled in cargo's target dir and for wasm, the cached `rustc -vV`
	 * answers, leftovers of interrupted builds.
	 */
	sharedSize: number;
}

/** A cache key: the sha256 hex of {@link computeCacheKey}. */
export const CACHE_KEY_PATTERN = /^[0-9a-f]{64}$/;

/** The length of the key prefix in the names of an entry's build directory and cargo outputs. */
export const KEY_PREFIX_LENGTH = 16;

/**
 * Refreshes the use stamp of the entry `libDir` (one utimes call). Returns false when the directory does not exist,
 * so a caller can treat that as a cache miss without another system call.
 */
export function markEntryUsed(libDir: string): boolean {
	const now = new Date();
	try {
		utimesSync(libDir, now, now);
		return true;
	} catch {
		// Missing (a miss, or an entry a prune just took away), or not ours to touch: either way not a usable hit.
		return false;
	}
}

/** The stats of `path`, or undefined when it does not exist. */
export function statOrUndefined(path: string): Stats | undefined {
	try {
		return statSync(path);
	} catch {
		return undefined;
	}
}

/** Reads the cache in `cacheDir` (which must exist): its entries with their sizes and use stamps, and the totals. */
export function readCacheInventory(cacheDir: string): CacheInventory {
	const seen = new Set<string>();
	const totalSize = treeSize(cacheDir, seen);
	// A second pass with its own set: the entry sizes must not depend on which path the total met first.
	const owned = new Set<string>();
	const target = readTargetFiles(cacheDir);
	const entries: CacheEntry[] = [];
	for (const name of listDir(join(cacheDir, 'libs'))) {
		if (!CACHE_KEY_PATTERN.test(name)) continue;
		const dir = join(cacheDir, 'libs', name);
		const stats = statOrUndefined(dir);
		if (!stats?.isDirectory()) continue;
		const library = identifyLibrary(dir);
		const files = [dir, ...(library.crate ? ownedPaths(cacheDir, library.crate, name.slice(0, KEY_PREFIX_LENGTH), target) : [])];
		const size = files.reduce((sum, path) => sum + treeSize(path, owned), 0);
		entries.push({ key: name, ...library, dir, lastUsedMs: stats.mtimeMs, size });
	}
	entries.sort((a, b) => b.lastUsedMs - a.lastUsedMs);
	const entriesSize = entries.reduce((sum, e) => sum + e.size, 0);
	return { cacheDir, entries, totalSize, sharedSize: Math.max(0, totalSize - entriesSize) };
}

/** The names in cargo's release output directories, read once per inventory or prune. */
export interface TargetFiles {
	release: string[];
	deps: string[];
	/** Fingerprint directory name → the names of the files in it. */
	fingerprints: Map<string, string[]>;
}

/** Reads the names in `target/release`, `target/release/deps` and `target/release/.fingerprint/*`. */
export function readTargetFiles(cacheDir: string): TargetFiles {
	const release = join(cacheDir, 'target', 'release');
	const fingerprints = new Map<string, string[]>();
	for (const name of listDir(join(release, '.fingerprint'))) fingerprints.set(name, listDir(join(release, '.fingerprint', name)));
	return { release: listDir(release), deps: listDir(join(release, 'deps')), fingerprints };
}

/**
 * The paths outside `libs/` that belong to the build of `crate` with key prefix `keyPrefix`: its outputs in cargo's
 * target dir (the library target's name is `<crate>_<keyPrefix>`) and its build directory. Fingerprints come first:
 * removed in this order, an interrupted removal leaves outputs without a fingerprint, which cargo rebuilds, never a
 * fingerprint whose outputs are gone.
 */
export function ownedPaths(cacheDir: string, crate: string, keyPrefix: string, target: TargetFiles): string[] {
	const libName = `${crate}_${keyPrefix}`;
	const release = join(cacheDir, 'target', 'release');
	const isOutput = (name: string): boolean => name.startsWith(`${libName}.`) || name.startsWith(`lib${libName}.`) || name.startsWith(`${libName}-`) || name.startsWith(`lib${libName}-`);
	const paths: string[] = [];
	for (const [dir, files] of target.fingerprints) {
		if (files.some((f) => f === `lib-${libName}` || f.startsWith(`lib-${libName}.`))) paths.push(join(release, '.fingerprint', dir));
	}
	for (const name of target.release.filter(isOutput)) paths.push(join(release, name));
	for (const name of target.deps.filter(isOutput)) paths.push(join(release, 'deps', name));
	paths.push(join(cacheDir, 'build', `${crate}-${keyPrefix}`));
	return paths;
}

/** The crate name and kind of the library in an entry directory, from its file name. */
function identifyLibrary(dir: string): Pick<CacheEntry, 'crate' | 'kind'> {
	for (const name of listDir(dir)) {
		if (name.endsWith('.tmp')) continue;
		const wasm = /^(.+)\.wasm$/.exec(name);
		if (wasm) return { crate: wasm[1], kind: 'wasm' };
		const native = /^lib(.+)\.(so|dylib)$/.exec(name) ?? /^(.+)\.dll$/.exec(name);
		if (native) return { crate: native[1], kind: 'native' };
	}
	return { crate: undefined, kind: undefined };
}

/** The names in a directory; none when it does not exist or is not a directory. */
export function listDir(dir: string): string[] {
	try {
		return readdirSync(dir);
	} catch {
		return [];
	}
}

/**
 * Bytes of the files in the tree at `path` (not following symlinks), counting each inode not yet in `seen` once.
 * Directories themselves count nothing: their sizes differ between file systems, file contents do not.
 */
export function treeSize(path: string, seen: Set<string>): number {
	let stats: Stats;
	try {
		stats = lstatSync(path);
	} catch {
		return 0;
	}
	const id = `${stats.dev}:${stats.ino}`;
	if (seen.has(id)) return 0;
	seen.add(id);
	if (!stats.isDirectory()) return stats.size;
	let size = 0;
	for (const name of listDir(path)) size += treeSize(join(path, name), seen);
	return size;
}
