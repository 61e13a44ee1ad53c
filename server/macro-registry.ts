/**
 * The libraries loaded in this session, in load order, and the lookup of a macro call's name
 * (protocol/macro-lookup.ts, shared with the client): unknown names, names two libraries provide,
 * and unknown library ids are MacroLookupErrors.
 */
import {
	MacroHostErrorCodes,
	type AmbiguousMacroData,
	type UnknownLibraryData,
	type UnknownMacroData,
} from '../protocol/errors.js';
import type { LibraryInfo, MacroKind } from '../protocol/library.js';
import { kindWithArticle, MacroIndex } from '../protocol/macro-lookup.js';
import { macroKey, type LoadedLibrary, type MacroTarget } from './library-model.js';

/** A macro call named something the loaded libraries cannot answer. */
export class MacroLookupError extends Error {
	override readonly name = 'MacroLookupError';
	constructor(
		message: string,
		/** UnknownMacro, AmbiguousMacro or UnknownLibrary. */
		readonly code: number,
		readonly data: UnknownMacroData | AmbiguousMacroData | UnknownLibraryData,
	) {
		super(message);
	}
}

/** The session's loaded libraries. */
export class MacroRegistry {
	private readonly libraries: LoadedLibrary[] = [];
	private index = new MacroIndex([]);

	/** Adds a library; a reloaded one (same id) takes the old one's place in the load order. */
	add(library: LoadedLibrary): void {
		const at = this.libraries.findIndex((l) => l.id === library.id);
		if (at === -1) this.libraries.push(library);
		else this.libraries[at] = library;
		this.index = new MacroIndex(this.list());
	}

	/** Every loaded library, in load order. */
	list(): LibraryInfo[] {
		return this.libraries.map((l) => l.info);
	}

	/** The library with this id, or an UnknownLibrary error. */
	library(id: string): LoadedLibrary {
		const library = this.libraries.find((l) => l.id === id);
		if (library) return library;
		const loaded = this.libraries.length ? `loaded: ${this.libraries.map((l) => l.id).join(', ')}` : 'no library is loaded';
		throw new MacroLookupError(`no loaded library has the id ${id} (${loaded})`, MacroHostErrorCodes.UnknownLibrary, {
			library: id,
		});
	}

	/** Finds the one library that provides `name` as a `kind` macro (only in `libraryId` when given). */
	resolve(kind: MacroKind, name: string, libraryId?: string): MacroTarget {
		if (libraryId !== undefined) this.library(libraryId);
		const found = this.index.find(kind, name, libraryId);
		if (found.found === 'one') {
			const library = this.library(found.library);
			return { library, macro: library.macros.get(macroKey(kind, name))! };
		}
		if (found.found === 'many') {
			const ids = found.libraries;
			throw new MacroLookupError(
				`the ${kind} macro ${name} is provided by ${ids.length} libraries: ${ids.join(' and ')}; pass "library" to choose one`,
				MacroHostErrorCodes.AmbiguousMacro,
				{ name, libraries: [...ids] },
			);
		}
		const where = libraryId === undefined ? 'no loaded library provides' : `the library ${libraryId} does not provide`;
		const data: UnknownMacroData = { name, kind };
		if (libraryId !== undefined) data.library = libraryId;
		throw new MacroLookupError(`${where} ${kindWithArticle(kind)} macro named ${name}${found.hint}`, MacroHostErrorCodes.UnknownMacro, data);
	}
}
