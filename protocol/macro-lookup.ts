/**
 * Which library provides macro X: the one lookup the host, the client and the driver share.
 *
 * Pure (no I/O, nothing but types imported): built once from the libraries' macro lists (a
 * LibraryInfo fits), it answers a kind and a name with the one library that provides it, every
 * library when several do (an ambiguity the caller reports), or none, with a hint when the name
 * exists as another kind of macro. Each caller keeps its own record per library and maps the id
 * back to it; each phrases its own error (a wire error in the host, a diagnostic in the driver).
 */
import type { MacroKind } from './library.js';

/** One library as the lookup needs it ({@link LibraryInfo} fits). */
export interface MacroSource {
	/** The library id. */
	readonly library: string;
	/** Every macro it provides. */
	readonly macros: readonly { readonly name: string; readonly kind: MacroKind }[];
}

/** What {@link MacroIndex.find} found. */
export type MacroLookupResult =
	/** Exactly one library provides the macro. */
	| { readonly found: 'one'; readonly library: string }
	/** Several do, in the order the lookup was given them. */
	| { readonly found: 'many'; readonly libraries: readonly string[] }
	/**
	 * None does. `hint` is empty or a parenthesised sentence with a leading space, ready to append to
	 * a message: ` (L provides name as an attribute macro)`, or ` (no library is loaded)`.
	 */
	| { readonly found: 'none'; readonly hint: string };

/** The macros of a list of libraries, by kind and name. */
export class MacroIndex {
	/** Library ids by `kind:name`, each id once, in the order the libraries came. */
	readonly #providers = new Map<string, string[]>();
	/** Every library id, in the order the libraries came. */
	readonly #libraries: string[] = [];

	constructor(libraries: readonly MacroSource[]) {
		for (const library of libraries) {
			if (!this.#libraries.includes(library.library)) this.#libraries.push(library.library);
			for (const macro of library.macros) {
				const key = macroKey(macro.kind, macro.name);
				const list = this.#providers.get(key);
				if (list === undefined) this.#providers.set(key, [library.library]);
				else if (!list.includes(library.library)) list.push(library.library);
			}
		}
	}

	/**
	 * Who provides macro `name` of `kind`; only the library `libraryId` is asked when given (the
	 * caller checks that such a library is loaded).
	 */
	find(kind: MacroKind, name: string, libraryId?: string): MacroLookupResult {
		const all = this.#providers.get(macroKey(kind, name)) ?? [];
		const providers = libraryId === undefined ? all : all.filter((id) => id === libraryId);
		if (providers.length === 1) return { found: 'one', library: providers[0] };
		if (providers.length > 1) return { found: 'many', libraries: providers };
		return { found: 'none', hint: this.#hint(kind, name, libraryId) };
	}

	/** True when some library provides macro `name` of `kind`. */
	has(kind: MacroKind, name: string): boolean {
		return this.#providers.has(macroKey(kind, name));
	}

	/** True when no library provides any macro. */
	get isEmpty(): boolean {
		return this.#providers.size === 0;
	}

	/** Says where the name exists with another kind (in `libraryId` when given), or that nothing is loaded. */
	#hint(kind: MacroKind, name: string, libraryId: string | undefined): string {
		if (this.#libraries.length === 0) return ' (no library is loaded)';
		for (const id of this.#libraries) {
			if (libraryId !== undefined && id !== libraryId) continue;
			for (const other of MACRO_KINDS) {
				if (other !== kind && this.#providers.get(macroKey(other, name))?.includes(id)) {
					return ` (${id} provides ${name} as ${kindWithArticle(other)} macro)`;
				}
			}
		}
		return '';
	}
}

/** "an inline", "an attribute", "a derive": a kind as a message names it. */
export function kindWithArticle(kind: MacroKind): string {
	return kind === 'derive' ? 'a derive' : `an ${kind}`;
}

// The kinds in the order the hint tries them (MacroKind.all would load vscode-jsonrpc with library.ts).
const MACRO_KINDS: readonly MacroKind[] = ['inline', 'attribute', 'derive'];

function macroKey(kind: MacroKind, name: string): string {
	return `${kind}:${name}`;
}
