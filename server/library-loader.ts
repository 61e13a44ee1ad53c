/**
 * Loads macro libraries of every kind (library-kinds.ts): the file exists and is a regular file, then
 * its kind's loader checks the rest. Each failure is a LibraryLoadError naming the path and what is
 * wrong. Loaded libraries are cached by canonical path and file identity (device, inode, size, mtime,
 * plus what the kind adds); a changed file is loaded afresh.
 */
import { realpathSync, statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { LIBRARY_KINDS, type LoadContext } from './library-kinds.js';
import { failToStat, loadFailure } from './load-errors.js';
import { mapMaybe, type LoadedLibrary, type MaybePromise } from './library-model.js';

/** Loads libraries and keeps each loaded one for as long as the host lives. */
export class LibraryLoader {
	private readonly loaded = new Map<string, LoadedLibrary>();
	/**
	 * The working directory the host started in, taken before any library runs: relative paths resolve
	 * here, so a macro that calls chdir cannot move the libraries loaded after it.
	 */
	private readonly baseDir = process.cwd();

	constructor(private readonly context: LoadContext) {}

	/** Loads `path` (relative to the host's start directory), or returns the cached library when the file is unchanged. */
	load(path: string): MaybePromise<LoadedLibrary> {
		const fail = loadFailure(path);
		const absolute = resolve(this.baseDir, path);
		const kind = LIBRARY_KINDS.find((k) => k.claims(absolute))!;
		let stats: Stats;
		try {
			stats = statSync(absolute);
		} catch (error) {
			return failToStat(fail, error);
		}
		if (!stats.isFile()) return fail('notALibrary', `not ${kind.what} (it is not a regular file)`);
		const id = realpathSync(absolute);
		const extra = kind.cacheKey(this.context);
		const fingerprint = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}${extra ? `:${extra}` : ''}`;
		const cached = this.loaded.get(id);
		if (cached && cached.fingerprint === fingerprint) return cached;
		return mapMaybe(kind.load({ id, fingerprint, fail }, this.context), (library) => {
			this.loaded.set(id, library);
			return library;
		});
	}
}
