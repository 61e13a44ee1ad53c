/**
 * The loaded-library model every part of the host shares: what a loaded library is, what one call
 * takes and gives back, and the one interface each kind of library (a backend: server/native/,
 * server/wasm/, ...) implements. A leaf: it imports protocol types only, so no backend, loader or
 * router can close an import circle through it.
 */
import type { BulkRef } from '../protocol/bulk.js';
import type { Diagnostic, Outcome, Span } from '../protocol/expand.js';
import type { LibraryInfo, MacroKind } from '../protocol/library.js';
import type { TokenStream } from '../protocol/token-stream.js';
import type { LibraryHandle } from 'koffi';
import type { LoadFailure } from './load-errors.js';

/** A value now, or later. */
export type MaybePromise<T> = T | Promise<T>;

/** Applies `f` to a value now or later (not named `then`: a module exporting `then` is itself thenable). */
export function mapMaybe<T, R>(value: MaybePromise<T>, f: (value: T) => R): MaybePromise<R> {
	return value instanceof Promise ? value.then(f) : f(value);
}

/** One macro of a loaded library, ready to call. */
export interface MacroEntry {
	/** The name a call uses (for a Scarb derive, the UpperCamel name Cairo code writes). */
	name: string;
	kind: MacroKind;
	doc: string;
	/** MH_KIND_* of `kind`. */
	abiKind: number;
	/** The name the library itself knows the macro by, as UTF-8, encoded once and passed to every call. */
	nameBytes: Buffer;
}

/** A token stream as a backend returns it: records always a Uint32Array. */
export interface FlatTokenStream extends TokenStream {
	records: Uint32Array;
}

/** A stream whose text is already UTF-8 bytes (a bulk stream read in place): marshalled without encoding `text`. */
export interface MappedTokenStream extends TokenStream {
	records: Uint32Array;
	readonly utf8: Uint8Array;
}

/** The inputs of one call. Absent streams are empty. */
export interface ExpandInput {
	args?: TokenStream;
	item?: TokenStream;
	callSite?: Span;
}

/** The answer to one expansion (the wire's ExpandResult, with typed records). */
export interface Expansion {
	outcome: Outcome;
	/** The output, for outcome "replace". */
	tokens?: FlatTokenStream;
	diagnostics: Diagnostic[];
	/** Aux data the macro attached; absent when none. */
	auxData?: unknown;
	/** Where a {@link TokenSink} wrote the output instead (then `tokens` is absent). */
	written?: BulkRef;
}

/**
 * Takes a large output straight from library memory, before the library frees it: the host's bulk
 * slots (bulk-slots.ts) copy it into the request's slot, so it never passes through the JS heap.
 * Called only with records and text already checked.
 */
export interface TokenSink {
	/** Outputs smaller than this (records plus text bytes) are copied out as usual. */
	readonly minBytes: number;
	/** Writes the output; undefined when it could not, and the output is then copied out as usual. */
	write(records: Uint32Array, text: Uint8Array): BulkRef | undefined;
}

/**
 * What every kind of library implements. A backend answers a macro's failure (a Bail, a result the
 * host cannot trust, a wasm trap) as an Expansion with outcome "bail", never by throwing.
 */
export interface LibraryBackend {
	/** Expands one call of `macro`: an inline call, an attribute, or one derive on `input.item`. */
	expand(macro: MacroEntry, input: ExpandInput, sink?: TokenSink): MaybePromise<Expansion>;
	/** Runs the library's post-process step over the aux data its macros produced; its diagnostics. */
	postProcess(auxData: readonly unknown[]): MaybePromise<Diagnostic[]>;
}

/** A library that passed every load check. */
export interface LoadedLibrary {
	/** Canonical absolute path: the library id on the wire. */
	id: string;
	/** What loadLibrary and listMacros report. */
	info: LibraryInfo;
	/** Macros keyed by {@link macroKey}. */
	macros: Map<string, MacroEntry>;
	/** Identity of the file this copy was loaded from; another value means the file changed. */
	fingerprint: string;
	/** Calls into the library, whatever its kind. */
	backend: LibraryBackend;
}

/** A macro resolved to the library that provides it. */
export interface MacroTarget {
	library: LoadedLibrary;
	macro: MacroEntry;
}

/** The key of a macro in {@link LoadedLibrary.macros}: names are unique per kind. */
export function macroKey(kind: MacroKind, name: string): string {
	return `${kind}:${name}`;
}

/** "the inline macro add (/path/lib.so)": names a macro of the library `libraryId` in diagnostics. */
export function describeMacro(macro: Pick<MacroEntry, 'kind' | 'name'>, libraryId: string): string {
	return `the ${macro.kind} macro ${macro.name} (${libraryId})`;
}

/** What a library kind's loader is given: one path, already checked to be a regular file. */
export interface LoadRequest {
	/** Canonical absolute path: the library id. */
	id: string;
	/** Identity of the file (and of the limits it was loaded under): the new library's `fingerprint`. */
	fingerprint: string;
	/** Throws the load error of this path. */
	fail: LoadFailure;
}

/**
 * One ABI a shared object may speak. `probe` answers the library when the shared object speaks this
 * ABI, a few words on what it lacks when it does not ("no mh_abi_version"), and fails through
 * `load.fail` when it speaks this ABI but does not pass its checks.
 */
export interface SharedObjectAbi {
	/** How load errors and `macro-host list` name it. */
	readonly name: string;
	probe(lib: LibraryHandle, load: LoadRequest): LoadedLibrary | string;
}
