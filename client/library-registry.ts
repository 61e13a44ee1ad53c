/**
 * The libraries a client loaded, in load order: replayed into every restarted host, and used to
 * name the library a crashed macro came from.
 */
import type { LibraryInfo, MacroKind } from '../protocol/library.js';
import { MacroIndex } from '../protocol/macro-lookup.js';

/** One remembered library: the path it was loaded from, and what the host said about it. */
export interface LoadedLibrary {
	/** The path as passed to loadLibrary (reloaded from the same path after a restart). */
	readonly path: string;
	/** The host's answer; `info.library` is the id. */
	readonly info: LibraryInfo;
}

/** Loaded libraries by id, in load order. */
export class LibraryRegistry {
	readonly #byId = new Map<string, LoadedLibrary>();
	/** The macros of the libraries, built on the first lookup after a change. */
	#index: MacroIndex | undefined;

	/** Records a load; loading the same library again keeps its place and takes the new info. */
	remember(path: string, info: LibraryInfo): void {
		const known = this.#byId.get(info.library);
		this.#byId.set(info.library, { path: known?.path ?? path, info });
		this.#index = undefined;
	}

	/** Forgets a library that could no longer be reloaded. */
	forget(library: string): void {
		this.#byId.delete(library);
		this.#index = undefined;
	}

	/** Every library, in load order. */
	entries(): LoadedLibrary[] {
		return [...this.#byId.values()];
	}

	/**
	 * The id of the one library that provides every name as a macro of `kind` (or `explicit` when the
	 * call names its library); undefined when none or several do, in which case the host answers the
	 * call with an error of its own.
	 */
	resolve(kind: MacroKind, names: readonly string[], explicit?: string): string | undefined {
		if (typeof explicit === 'string') return explicit;
		this.#index ??= new MacroIndex([...this.#byId.values()].map((entry) => entry.info));
		let found: string | undefined;
		for (const name of names) {
			const lookup = this.#index.find(kind, name);
			if (lookup.found !== 'one' || (found !== undefined && found !== lookup.library)) return undefined;
			found = lookup.library;
		}
		return found;
	}
}
