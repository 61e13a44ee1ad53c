/**
 * Which loaded library provides which macro: the driver asks it for every name it meets, and sends
 * each call to that library by id, so a name two packages share is reported rather than guessed.
 */
import type { MacroKind } from '../protocol/library.js';
import { MacroIndex } from '../protocol/macro-lookup.js';
import { closestName } from './name-suggestions.js';

/** A macro package as the registry needs it (LoadedMacroPackage from client/packages fits). */
export interface RegistryPackage {
	/** The package name, for messages. */
	readonly name: string;
	/** The library id in the host. */
	readonly library: string;
	/** Its macros. */
	readonly macros: readonly { readonly name: string; readonly kind: MacroKind }[];
}

/** Where a macro comes from. */
export interface MacroProvider {
	/** The package that provides it. */
	readonly package: string;
	/** Its library id. */
	readonly library: string;
}

/** What a lookup found: nothing, one provider, or several (an ambiguity to report). */
export type MacroLookup =
	| { readonly found: 'none' }
	| { readonly found: 'one'; readonly provider: MacroProvider }
	| { readonly found: 'many'; readonly providers: readonly MacroProvider[] };

/** The macros of every loaded package, by kind and name (the shared {@link MacroIndex} underneath). */
export class MacroRegistry {
	private readonly index: MacroIndex;
	/** Each library's provider (the first package that names it), by library id. */
	private readonly providers = new Map<string, MacroProvider>();
	/** Every macro name of each kind, with the first package that provides it, in load order. */
	private readonly packagesByName = new Map<MacroKind, Map<string, string>>();

	constructor(packages: readonly RegistryPackage[]) {
		this.index = new MacroIndex(packages);
		for (const pkg of packages) {
			if (!this.providers.has(pkg.library)) this.providers.set(pkg.library, { package: pkg.name, library: pkg.library });
			for (const macro of pkg.macros) {
				const names = this.packagesByName.get(macro.kind) ?? new Map<string, string>();
				if (!names.has(macro.name)) names.set(macro.name, pkg.name);
				this.packagesByName.set(macro.kind, names);
			}
		}
	}

	/**
	 * The loaded macro of `kind` whose name is close to `name` (a likely typo: see name-suggestions.ts),
	 * with its package; undefined when none is close or `name` itself is provided.
	 */
	suggest(kind: MacroKind, name: string): { readonly name: string; readonly package: string } | undefined {
		const names = this.packagesByName.get(kind);
		if (names === undefined || names.has(name)) return undefined;
		const closest = closestName(name, names.keys());
		return closest === undefined ? undefined : { name: closest, package: names.get(closest)! };
	}

	/** Who provides macro `name` of `kind`. */
	lookup(kind: MacroKind, name: string): MacroLookup {
		const found = this.index.find(kind, name);
		if (found.found === 'one') return { found: 'one', provider: this.providers.get(found.library)! };
		if (found.found === 'many') return { found: 'many', providers: found.libraries.map((id) => this.providers.get(id)!) };
		return { found: 'none' };
	}

	/** True when some package provides macro `name` of `kind`. */
	has(kind: MacroKind, name: string): boolean {
		return this.index.has(kind, name);
	}

	/** True when no package provides any macro (nothing in a file can be a call site). */
	get isEmpty(): boolean {
		return this.index.isEmpty;
	}
}
