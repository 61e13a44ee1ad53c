/** Loading macro libraries and listing what they provide. */

/** The three kinds of procedural macro. */
export type MacroKind = 'inline' | 'attribute' | 'derive';
export namespace MacroKind {
	export const inline: MacroKind = 'inline';
	export const attribute: MacroKind = 'attribute';
	export const derive: MacroKind = 'derive';
	export const all: readonly MacroKind[] = [inline, attribute, derive];
	export function is(value: unknown): value is MacroKind {
		return value === inline || value === attribute || value === derive;
	}
	/** The MH_KIND_* number of a kind. */
	export function toAbi(kind: MacroKind): number {
		return kind === inline ? 0 : kind === attribute ? 1 : 2;
	}
}

/** One macro a library provides, as its manifest says. */
export interface MacroInfo {
	/** The name a call uses: `add` for `add!(…)`, `instrument` for `#[instrument]`, `ToValue` for `#[derive(ToValue)]`. */
	name: string;
	kind: MacroKind;
	/** Free text from the author; empty when none. */
	doc: string;
	/** Set on a Scarb executable attribute (`__exec_attr_` in the library): it marks an item and leaves it as it is. */
	executable?: boolean;
}

/** Parameters for a {@link LoadLibraryRequest}. */
export interface LoadLibraryParams {
	/** Path of the shared library; relative paths resolve against the host's working directory. */
	path: string;
}

/** The ABI a library speaks: ours (sdk/c/macro_host.h), or Scarb's stable ABI v1 or v2 (cairo-lang-macro 0.1 / 0.2). */
export type LibraryAbi = 'macro-host' | 'scarb-v1' | 'scarb-v2';
export namespace LibraryAbi {
	export const macroHost: LibraryAbi = 'macro-host';
	export const scarbV1: LibraryAbi = 'scarb-v1';
	export const scarbV2: LibraryAbi = 'scarb-v2';
}

/** A loaded library, as {@link LoadLibraryRequest} and {@link ListMacrosRequest} return it. */
export interface LibraryInfo {
	/** The library's id: its canonical absolute path, stable across host restarts. */
	library: string;
	/** The ABI the library speaks. @since protocol version 1 (added with Scarb libraries; absent from older hosts) */
	abi: LibraryAbi;
	/** The version the library reports within its ABI (ABI_VERSION for ours; 1 or 2 for Scarb's). */
	abiVersion: number;
	/** "native" for a shared object, "wasm" for a WebAssembly module run in the host's sandbox. */
	sandbox: string;
	/** Whether the library exports mh_post_process. */
	hasPostProcess: boolean;
	/** Every macro it provides. */
	macros: MacroInfo[];
	/**
	 * What the library says of the outside inputs its output depends on (our ABI's optional `mh_fingerprint`,
	 * Scarb v2's `fingerprint_v2`), a u64 as a decimal string; absent when the library has none. The
	 * expansion cache puts it in every key (docs/caching.md).
	 */
	fingerprint?: string;
}

/** Result of a {@link ListMacrosRequest}. */
export interface ListMacrosResult {
	/** Every loaded library, in load order. */
	libraries: LibraryInfo[];
}
