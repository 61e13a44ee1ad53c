/**
 * The libraries a client loaded, in load order: replayed into every restarted host, and used to
 * name the library a crashed macro came from.
 */
import type { LibraryInfo, MacroKind } from '../protocol/index.js';

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

	/** Records a load; loading the same library again keeps its place and takes the new info. */
	remember(path: string, info: LibraryInfo): void {
		const known = this.#byId.get(info.library);
		this.#byId.set(info.library, { path: known?.path ?? path, info });
	}

	/** Forgets a library that could no longer be reloaded. */
	forget(library: string): void {
		this.#byId.delete(library);
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
		let found: string | undefined;
		for (const name of names) {
			const providers = [...this.#byId.values()].filter((lib) =>
				lib.info.macros.some((m) => m.kind === kind && m.name === name),
			);
			if (providers.length !== 1) return undefined;
			const id = providers[0].info.library;
			if (found !== undefined && found !== id) return undefined;
			found = id;
		}
		return found;
	}
}
