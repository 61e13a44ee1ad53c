/**
 * Scarb's stable macro ABI, v1 (`cairo-lang-macro-stable` 1.0) and v2 (2.0), as koffi types, and the
 * symbols each version exports. Layouts follow upstream's `#[repr(C)]` structs field for field
 * (plugins/cairo-lang-macro-stable/src/{lib,ffi}.rs at each release); {@link STABLE_LAYOUT_SIZES}
 * holds the x86-64 sizes, checked by a test.
 *
 * Every pointer field is `uintptr_t`: koffi then reads addresses back as plain numbers and takes
 * them as numbers, so a result can be handed back to the library's free function as it was decoded,
 * and the host writes the addresses of its own buffers (koffi.address) into the input it builds.
 * On every ABI koffi supports a pointer and a `uintptr_t` travel the same way. Structs are anonymous,
 * as in server/native/abi.ts: koffi's type names are process-wide.
 */
import koffi, { type LibraryHandle } from 'koffi';

type BoundFunction = ReturnType<LibraryHandle['func']>;

/** The data symbol that names the API version (a NonZeroU8: 2 in cairo-lang-macro 0.2); v1 libraries lack it. */
export const API_VERSION_SYMBOL = 'CAIRO_LANG_MACRO_API_VERSION';

/** The expansion-name prefix upstream's contract reserves for executable attributes. */
export const EXEC_ATTR_PREFIX = '__exec_attr_';

/** StableExpansionKind values (a NonZeroU8; upstream reads unknown values as Inline). */
export namespace StableExpansionKind {
	export const attr = 1;
	export const derive = 2;
	export const inline = 3;
}

/** StableSeverity values (a NonZeroU8; upstream reads unknown values as Warning). */
export namespace StableSeverity {
	export const error = 1;
	export const warning = 2;
}

const ptr = 'uintptr_t';

/** StableSlice<T>: pointer + length; freed by the side that allocated it. */
const Slice = koffi.struct({ ptr, len: 'size_t' });
/** StableTextSpan. */
const TextSpan = koffi.struct({ start: 'uint32_t', end: 'uint32_t' });
/** StableExpansion: name C string + kind. */
const Expansion = koffi.struct({ name: ptr, kind: 'uint8_t' });
/** StableFullPathMarker. */
const FullPathMarker = koffi.struct({ key: ptr, full_path: ptr });
/** StablePostProcessContext: a slice of StableAuxData and a slice of StableFullPathMarker. */
const PostProcessContext = koffi.struct({ aux_data: Slice, full_path_markers: Slice });

// v2 (cairo-lang-macro-stable 2.0.0)
/** StableTokenTree::Ident(StableToken): a C-int tag (0), then the token at offset 8. */
const TokenTreeV2 = koffi.struct({ tag: 'uint32_t', token: koffi.struct({ span: TextSpan, ptr, len: 'size_t' }) });
const MetadataV2 = koffi.struct({ original_file_path: ptr, file_id: ptr, edition: ptr });
const TokenStreamV2 = koffi.struct({ tokens: Slice, metadata: MetadataV2, size_hint: 'size_t' });
const DiagnosticV2 = koffi.struct({ message: ptr, severity: 'uint8_t', spans: Slice });
/** StableOption<StableSlice<u8>>, `repr(C, u8)`: a u8 tag. */
const AuxDataV2 = koffi.struct({ tag: 'uint8_t', value: Slice });
const ResultV2 = koffi.struct({ token_stream: TokenStreamV2, diagnostics: Slice, aux_data: AuxDataV2, full_path_markers: Slice });
const ResultWrapperV2 = koffi.struct({ input: TokenStreamV2, input_attr: TokenStreamV2, output: ResultV2 });

// v1 (cairo-lang-macro-stable 1.0.0)
const MetadataV1 = koffi.struct({ original_file_path: ptr, file_id: ptr });
const TokenStreamV1 = koffi.struct({ value: ptr, metadata: MetadataV1 });
const DiagnosticV1 = koffi.struct({ message: ptr, severity: 'uint8_t' });
/** StableOption<StableSlice<u8>>, plain `repr(C)`: a C-int tag. */
const AuxDataV1 = koffi.struct({ tag: 'uint32_t', value: Slice });
const ResultV1 = koffi.struct({ token_stream: TokenStreamV1, diagnostics: Slice, aux_data: AuxDataV1, full_path_markers: Slice });
const ResultWrapperV1 = koffi.struct({ input: TokenStreamV1, input_attr: TokenStreamV1, output: ResultV1 });

/** The koffi types, by upstream name, for both versions (the layout test reads them). */
export const StableTypes = {
	StableSlice: Slice,
	StableTextSpan: TextSpan,
	StableExpansion: Expansion,
	StableFullPathMarker: FullPathMarker,
	StablePostProcessContext: PostProcessContext,
	v2: {
		StableTokenTree: TokenTreeV2,
		StableTokenStreamMetadata: MetadataV2,
		StableTokenStream: TokenStreamV2,
		StableDiagnostic: DiagnosticV2,
		StableAuxData: AuxDataV2,
		StableProcMacroResult: ResultV2,
		StableResultWrapper: ResultWrapperV2,
	},
	v1: {
		StableTokenStreamMetadata: MetadataV1,
		StableTokenStream: TokenStreamV1,
		StableDiagnostic: DiagnosticV1,
		StableAuxData: AuxDataV1,
		StableProcMacroResult: ResultV1,
		StableResultWrapper: ResultWrapperV1,
	},
} as const;

/** Sizes in bytes on x86-64, as rustc lays out upstream's structs (../shared notes §2.4). */
export const STABLE_LAYOUT_SIZES = {
	StableSlice: 16,
	StableTextSpan: 8,
	StableExpansion: 16,
	StableFullPathMarker: 16,
	StablePostProcessContext: 32,
	v2: {
		StableTokenTree: 32,
		StableTokenStreamMetadata: 24,
		StableTokenStream: 48,
		StableDiagnostic: 32,
		StableAuxData: 24,
		StableProcMacroResult: 104,
		StableResultWrapper: 200,
	},
	v1: {
		StableTokenStreamMetadata: 16,
		StableTokenStream: 24,
		StableDiagnostic: 16,
		StableAuxData: 24,
		StableProcMacroResult: 80,
		StableResultWrapper: 128,
	},
} as const;

/** Byte size of one StableTokenTree (v2): the stride of the token array the host builds. */
export const TOKEN_TREE_BYTES = 32;

/**
 * A StableTokenTree (v2) read as u32 words, as the host writes its input and reads the output in
 * place: the tag (0, Ident), padding, the span's start and end, the text's address and its length,
 * each a u64 in two halves, low first (x86-64 and every little-endian ABI koffi supports).
 */
export namespace TokenTreeWord {
	export const tag = 0;
	export const spanStart = 2;
	export const spanEnd = 3;
	export const addressLow = 4;
	export const addressHigh = 5;
	export const lengthLow = 6;
	export const lengthHigh = 7;
	/** Words per tree: the stride of a token array in words. */
	export const count = TOKEN_TREE_BYTES / 4;
}

/** A StableSlice as koffi decodes it. */
export interface RawSlice {
	ptr: number;
	len: number;
}
/** A StableAuxData (either version) as koffi decodes it. */
export interface RawAuxData {
	tag: number;
	value: RawSlice;
}
/** A v2 StableTokenStream, as the host passes it in and reads it back. */
export interface RawTokenStreamV2 {
	tokens: RawSlice;
	metadata: { original_file_path: number; file_id: number; edition: number };
	size_hint: number;
}
/** A v1 StableTokenStream. */
export interface RawTokenStreamV1 {
	value: number;
	metadata: { original_file_path: number; file_id: number };
}
/** A StableProcMacroResult of either version, as koffi decodes it (and takes it back to free it). */
export interface RawResult<S> {
	token_stream: S;
	diagnostics: RawSlice;
	aux_data: RawAuxData;
	full_path_markers: RawSlice;
}
/** A StableResultWrapper: the host's input streams come back beside the output. */
export interface RawResultWrapper<S> {
	input: S;
	input_attr: S;
	output: RawResult<S>;
}
/** A StablePostProcessContext. */
export interface RawPostProcessContext {
	aux_data: RawSlice;
	full_path_markers: RawSlice;
}

/** The entry points both versions share (v1 names without the suffix, v2 with `_v2`). */
export interface StableFunctions<S> {
	listExpansions(): RawSlice;
	freeExpansionsList(list: RawSlice): void;
	freeResult(result: RawResult<S>): void;
	postProcessCallback(context: RawPostProcessContext): RawPostProcessContext;
	/** Takes a NUL-terminated name; returns a C string (0 for none) the library frees in freeDoc. */
	doc(name: Buffer): number;
	freeDoc(doc: number): void;
}
/** v2's entry points. */
export interface StableFunctionsV2 extends StableFunctions<RawTokenStreamV2> {
	expand(name: Buffer, callSite: { start: number; end: number }, attr: RawTokenStreamV2, item: RawTokenStreamV2): RawResultWrapper<RawTokenStreamV2>;
	/** Absent when the library does not export fingerprint_v2 (upstream then counts 0). */
	fingerprint?: () => number | bigint;
}
/** v1's entry points. */
export interface StableFunctionsV1 extends StableFunctions<RawTokenStreamV1> {
	expand(name: Buffer, attr: RawTokenStreamV1, item: RawTokenStreamV1): RawResultWrapper<RawTokenStreamV1>;
}

type Declarations = Record<string, [result: unknown, params: unknown[]]>;

const V2_DECLARATIONS: Declarations = {
	list_expansions_v2: [Slice, []],
	free_expansions_list_v2: ['void', [Slice]],
	expand_v2: [ResultWrapperV2, ['uint8_t *', TextSpan, TokenStreamV2, TokenStreamV2]],
	free_result_v2: ['void', [ResultV2]],
	post_process_callback_v2: [PostProcessContext, [PostProcessContext]],
	doc_v2: [ptr, ['uint8_t *']],
	free_doc_v2: ['void', [ptr]],
};
const V1_DECLARATIONS: Declarations = {
	list_expansions: [Slice, []],
	free_expansions_list: ['void', [Slice]],
	expand: [ResultWrapperV1, ['uint8_t *', TokenStreamV1, TokenStreamV1]],
	free_result: ['void', [ResultV1]],
	post_process_callback: [PostProcessContext, [PostProcessContext]],
	doc: [ptr, ['uint8_t *']],
	free_doc: ['void', [ptr]],
};

/** The symbols a v2 library must export (fingerprint_v2 is optional). */
export const V2_REQUIRED_SYMBOLS = Object.keys(V2_DECLARATIONS);
/** The symbols a v1 library must export. */
export const V1_REQUIRED_SYMBOLS = Object.keys(V1_DECLARATIONS);

/** The value of CAIRO_LANG_MACRO_API_VERSION, or undefined when the library does not export it. */
export function readApiVersion(lib: LibraryHandle): number | undefined {
	let address: unknown;
	try {
		address = lib.symbol(API_VERSION_SYMBOL);
	} catch {
		// koffi throws "Cannot find symbol" when it is not exported.
		return undefined;
	}
	return koffi.decode(address, 'uint8_t') as number;
}

/** The required symbols of `symbols` the library does not export, in order. */
export function missingSymbols(lib: LibraryHandle, symbols: readonly string[]): string[] {
	return symbols.filter((symbol) => {
		try {
			lib.symbol(symbol);
			return false;
		} catch {
			return true;
		}
	});
}

/** Binds v2's entry points; call only once {@link missingSymbols} found none missing. */
export function bindV2(lib: LibraryHandle): StableFunctionsV2 {
	const f = bindAll(lib, V2_DECLARATIONS);
	let fingerprint: BoundFunction | undefined;
	try {
		fingerprint = lib.func('fingerprint_v2', 'uint64_t', []);
	} catch {
		// Optional: upstream's host reads a missing fingerprint_v2 as 0.
	}
	return {
		listExpansions: f.list_expansions_v2,
		freeExpansionsList: f.free_expansions_list_v2,
		expand: f.expand_v2,
		freeResult: f.free_result_v2,
		postProcessCallback: f.post_process_callback_v2,
		doc: f.doc_v2,
		freeDoc: f.free_doc_v2,
		fingerprint: fingerprint as StableFunctionsV2['fingerprint'],
	} as StableFunctionsV2;
}

/** Binds v1's entry points; call only once {@link missingSymbols} found none missing. */
export function bindV1(lib: LibraryHandle): StableFunctionsV1 {
	const f = bindAll(lib, V1_DECLARATIONS);
	return {
		listExpansions: f.list_expansions,
		freeExpansionsList: f.free_expansions_list,
		expand: f.expand,
		freeResult: f.free_result,
		postProcessCallback: f.post_process_callback,
		doc: f.doc,
		freeDoc: f.free_doc,
	} as StableFunctionsV1;
}

function bindAll(lib: LibraryHandle, declarations: Declarations): Record<string, BoundFunction> {
	const bound: Record<string, BoundFunction> = {};
	for (const [symbol, [result, params]] of Object.entries(declarations)) {
		bound[symbol] = lib.func(symbol, result as never, params as never[]);
	}
	return bound;
}
