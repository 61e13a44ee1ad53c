/**
 * Error codes the host answers with, and the typed `data` each carries.
 *
 * JSON-RPC reserves -32768..-32000; our own codes live in -33099..-33000 so they never collide with
 * it or with LSP's range. Bad params use JSON-RPC's own InvalidParams (-32602).
 */

/** The host's error codes. */
export namespace MacroHostErrorCodes {
	/** No loaded library provides a macro of that name and kind. Data: UnknownMacroData. */
	export const UnknownMacro = -33001;
	/** Two or more loaded libraries provide the name and no `library` was given. Data: AmbiguousMacroData. */
	export const AmbiguousMacro = -33002;
	/** A library could not be loaded (missing file, not a shared library, missing symbol, bad manifest). Data: LibraryLoadErrorData. */
	export const LibraryLoadFailed = -33003;
	/** The library reports another ABI version than ABI_VERSION. Data: LibraryLoadErrorData. */
	export const AbiMismatch = -33004;
	/** The `library` id names no loaded library. Data: UnknownLibraryData. */
	export const UnknownLibrary = -33005;
	/** The client speaks another protocol version. Data: VersionMismatchData. */
	export const VersionMismatch = -33006;
	/** A request came before `initialize`, or after `shutdown`. */
	export const NotInitialized = -33007;
	/** JSON-RPC's invalid params, repeated here so all codes are in one place. */
	export const InvalidParams = -32602;
}
export type MacroHostErrorCode = (typeof MacroHostErrorCodes)[keyof typeof MacroHostErrorCodes];

/** Why a library failed to load. */
export type LibraryLoadFailure =
	| 'notFound'
	| 'notALibrary'
	| 'missingSymbol'
	| 'abiMismatch'
	| 'badManifest'
	/** A wasm module imports something (a wasm macro must import nothing). @since protocol version 1 */
	| 'forbiddenImport'
	/** A wasm module needs more memory than the host's page limit at start. @since protocol version 1 */
	| 'memoryLimit';

/** Data of a LibraryLoadFailed or AbiMismatch error. */
export interface LibraryLoadErrorData {
	/** The path as given in the request. */
	path: string;
	/** What went wrong. */
	reason: LibraryLoadFailure;
	/** For missingSymbol: the symbol that is absent. */
	symbol?: string;
	/** For abiMismatch: the version the library reports. */
	actualAbiVersion?: number;
	/** For abiMismatch: the version the host needs. */
	expectedAbiVersion?: number;
	/** For forbiddenImport: every import of the module, as `module.name`. @since protocol version 1 */
	imports?: string[];
}

/** Data of an UnknownMacro error. */
export interface UnknownMacroData {
	name: string;
	kind: string;
	/** The library the call was restricted to, if any. */
	library?: string;
}

/** Data of an AmbiguousMacro error. */
export interface AmbiguousMacroData {
	name: string;
	/** Every library id that provides the macro. */
	libraries: string[];
}

/** Data of an UnknownLibrary error. */
export interface UnknownLibraryData {
	library: string;
}

/** Data of a VersionMismatch error. */
export interface VersionMismatchData {
	expected: number;
	actual: unknown;
}
