/**
 * The libraries loaded in this session, in load order, and the lookup of a macro call's name:
 * unknown names, names two libraries provide, and unknown library ids are MacroLookupErrors.
 */
import {
	MacroHostErrorCodes,
	type AmbiguousMacroData,
	type UnknownLibraryData,
	type UnknownMacroData,
} from '../protocol/errors.js';
import type { LibraryInfo, MacroKind } from '../protocol/library.js';
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

	/** Adds a library; a reloaded one (same id) takes the old one's place in the load order. */
	add(library: LoadedLibrary): void {
		const at = this.libraries.findIndex((l) => l.id === library.id);
		if (at === -1) this.libraries.push(library);
		else this.libraries[at] = library;
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
		const candidates = libraryId === undefined ? this.libraries : [this.library(libraryId)];
		const key = macroKey(kind, name);
		const found: MacroTarget[] = [];
		for (const library of candidates) {
			const macro = library.macros.get(key);
			if (macro) found.push({ library, macro });
		}
		if (found.length === 1) return found[0];
		if (found.length > 1) {
			const ids = found.map((f) => f.library.id);
			throw new MacroLookupError(
				`the ${kind} macro ${name} is provided by ${ids.length} libraries: ${ids.join(' and ')}; pass "library" to choose one`,
				MacroHostErrorCodes.AmbiguousMacro,
				{ name, libraries: ids },
			);
		}
		const where = libraryId === undefined ? 'no loaded library provides' : `the library ${libraryId} does not provide`;
		const data: UnknownMacroData = { name, kind };
		if (libraryId !== undefined) data.library = libraryId;
		throw new MacroLookupError(`${where} ${withArticle(kind)} macro named ${name}${this.hint(kind, name, candidates)}`, MacroHostErrorCodes.UnknownMacro, data);
	}

	/** Says where the name exists with another kind, or that nothing is loaded. */
	private hint(kind: MacroKind, name: string, candidates: readonly LoadedLibrary[]): string {
		if (this.libraries.length === 0) return ' (no library is loaded)';
		for (const library of candidates) {
			for (const other of ['inline', 'attribute', 'derive'] as const) {
				if (other !== kind && library.macros.has(macroKey(other, name))) {
					return ` (${library.id} provides ${name} as ${withArticle(other)} macro)`;
				}
			}
		}
		return '';
	}
}

/** "an inline", "an attribute", "a derive". */
function withArticle(kind: MacroKind): string {
	return kind === 'derive' ? 'a derive' : `an ${kind}`;
}
