/**
 * Which loaded library provides which macro: the driver asks it for every name it meets, and sends
 * each call to that library by id, so a name two packages share is reported rather than guessed.
 */
import type { MacroKind } from '../../protocol/library.js';

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

/** The macros of every loaded package, by kind and name. */
export class MacroRegistry {
	private readonly byKey = new Map<string, MacroProvider[]>();

	constructor(packages: readonly RegistryPackage[]) {
		for (const pkg of packages) {
			for (const macro of pkg.macros) {
				const key = `${macro.kind}:${macro.name}`;
				const list = this.byKey.get(key) ?? [];
				if (!list.some((p) => p.library === pkg.library)) list.push({ package: pkg.name, library: pkg.library });
				this.byKey.set(key, list);
			}
		}
	}

	/** Who provides macro `name` of `kind`. */
	lookup(kind: MacroKind, name: string): MacroLookup {
		const providers = this.byKey.get(`${kind}:${name}`);
		if (providers === undefined) return { found: 'none' };
		if (providers.length === 1) return { found: 'one', provider: providers[0] };
		return { found: 'many', providers };
	}

	/** True when some package provides macro `name` of `kind`. */
	has(kind: MacroKind, name: string): boolean {
		return this.byKey.has(`${kind}:${name}`);
	}

	/** True when no package provides any macro (nothing in a file can be a call site). */
	get isEmpty(): boolean {
		return this.byKey.size === 0;
	}
}
