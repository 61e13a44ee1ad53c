/**
 * The libraries a client loaded, in load order: replayed into every restarted host, and used to
 * name the library a crashed macro came from.
 */
import type { LibraryInfo, MacroKind } from '../protocol/library.js';
import { MacroIndex } from '../protocol/macro-lookup.js';
import type { HostExit } from './host-exit.js';

/** The package a library was built from, named in messages instead of the library's path. */
export interface LibraryPackage {
	/** The package name (from its Scarb.toml). */
	readonly name: string;
	/** The package version (from its Scarb.toml). */
	readonly version: string;
}

/** Options of `MacroHost.loadLibrary`. */
export interface LoadLibraryOptions {
	/**
	 * The package the library was built from, when known: crash, timeout and quarantine messages then name
	 * it ("from package foo 1.2.0") instead of the library's path, which for a built package is a cache path.
	 */
	readonly package?: LibraryPackage;
}

/** One remembered library: the path it was loaded from, and what the host said about it. */
export interface LoadedLibrary {
	/** The path as passed to loadLibrary (reloaded from the same path after a restart). */
	readonly path: string;
	/** The host's answer; `info.library` is the id. */
	readonly info: LibraryInfo;
	/** The package it was built from, when the loader said. */
	readonly package?: LibraryPackage;
}

/** Loaded libraries by id, in load order. */
export class LibraryRegistry {
	readonly #byId = new Map<string, LoadedLibrary>();
	/** Libraries dropped because loading them crashed a host, with that crash: not replayed, still resolved. */
	readonly #dropped = new Map<string, HostExit>();
	/** The macros of the libraries, built on the first lookup after a change. */
	#index: MacroIndex | undefined;

	/** Records a load; loading the same library again keeps its place and takes the new info. */
	remember(path: string, info: LibraryInfo, pkg?: LibraryPackage): void {
		const known = this.#byId.get(info.library);
		this.#byId.set(info.library, { path: known?.path ?? path, info, package: pkg ?? known?.package });
		this.#dropped.delete(info.library);
		this.#index = undefined;
	}

	/**
	 * Drops a library whose loading crashed a host (`exit` says how that host ended): it is no longer loaded
	 * into new hosts, but its macros still resolve to it, so that their calls can be answered with why.
	 */
	drop(library: string, exit: HostExit): void {
		if (this.#byId.has(library)) this.#dropped.set(library, exit);
	}

	/** True when some library was dropped (a cheap check before {@link droppedFor}). */
	get hasDropped(): boolean {
		return this.#dropped.size > 0;
	}

	/** How the host ended whose crash dropped library `id`, or undefined when it was not dropped. */
	droppedFor(id: string | undefined): HostExit | undefined {
		return id === undefined ? undefined : this.#dropped.get(id);
	}

	/** Forgets a library that could no longer be reloaded. */
	forget(library: string): void {
		this.#byId.delete(library);
		this.#dropped.delete(library);
		this.#index = undefined;
	}

	/** The package library `id` was built from, when its loader said. */
	packageOf(id: string | undefined): LibraryPackage | undefined {
		return id === undefined ? undefined : this.#byId.get(id)?.package;
	}

	/** Every library to load into a new host, in load order (dropped ones left out). */
	entries(): LoadedLibrary[] {
		const all = [...this.#byId.values()];
		return this.#dropped.size === 0 ? all : all.filter((entry) => !this.#dropped.has(entry.info.library));
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
