/** Loading macro libraries and listing what they provide. */
import { ParameterStructures, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { LibraryLoadErrorData } from './errors.js';

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
}

/** Parameters for a {@link LoadLibraryRequest}. */
export interface LoadLibraryParams {
	/** Path of the shared library; relative paths resolve against the host's working directory. */
	path: string;
}

/** A loaded library, as {@link LoadLibraryRequest} and {@link ListMacrosRequest} return it. */
export interface LibraryInfo {
	/** The library's id: its canonical absolute path, stable across host restarts. */
	library: string;
	/** The ABI version the library reports (always ABI_VERSION once loaded). */
	abiVersion: number;
	/** "native" for a shared object, "wasm" for a WebAssembly module run in the host's sandbox. */
	sandbox: string;
	/** Whether the library exports mh_post_process. */
	hasPostProcess: boolean;
	/** Every macro it provides. */
	macros: MacroInfo[];
}

/**
 * Loads a library, or returns the one already loaded from that path (reloaded when the file changed).
 * Params: LoadLibraryParams; result: LibraryInfo; errors: LibraryLoadFailed, AbiMismatch.
 */
export namespace LoadLibraryRequest {
	export const method = 'loadLibrary' as const;
	export const type = new RequestType<LoadLibraryParams, LibraryInfo, LibraryLoadErrorData>(method, ParameterStructures.byName);
}

/** Result of a {@link ListMacrosRequest}. */
export interface ListMacrosResult {
	/** Every loaded library, in load order. */
	libraries: LibraryInfo[];
}

/** Lists everything loaded. No params; result: ListMacrosResult. */
export namespace ListMacrosRequest {
	export const method = 'listMacros' as const;
	export const type = new RequestType0<ListMacrosResult, void>(method);
}
