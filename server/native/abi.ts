/**
 * The macro ABI v1 (sdk/c/macro_host.h) as koffi types and constants. Pointer fields are `void *`:
 * the host passes typed arrays and Buffers for them (koffi hands over their address, no copy) and
 * reads them back as addresses through koffi.view. The structs are anonymous and functions are
 * declared with type objects: koffi's type names are process-wide, and a second evaluation of this
 * module (as test runners do) must not collide with the first.
 */
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';

type TypeSpec = string | TypeObject;

type BoundFunction = ReturnType<LibraryHandle['func']>;

/** Size in bytes of one mh_token (six u32 fields). */
export const TOKEN_RECORD_BYTES = 24;

/** Required exports, in the order the loader checks them. */
export const REQUIRED_SYMBOLS = ['mh_abi_version', 'mh_manifest', 'mh_expand', 'mh_free_result'] as const;

/** The optional export. */
export const POST_PROCESS_SYMBOL = 'mh_post_process';

/** The optional export that names the outside inputs a library's output depends on (expansion cache). */
export const FINGERPRINT_SYMBOL = 'mh_fingerprint';

/** mh_str: pointer + length, not NUL-terminated. */
export const MhStr = koffi.struct({ ptr: 'void *', len: 'size_t' });
/** mh_span: source byte range. */
export const MhSpan = koffi.struct({ start: 'uint32_t', end: 'uint32_t' });
/** mh_token_stream: records + text. */
export const MhTokenStream = koffi.struct({
	tokens: 'void *',
	len: 'size_t',
	text: 'void *',
	text_len: 'size_t',
});
/** mh_request: one macro call. */
export const MhRequest = koffi.struct({
	kind: 'uint32_t',
	name: MhStr,
	args: MhTokenStream,
	item: MhTokenStream,
	call_site: MhSpan,
});
/** mh_diagnostic. */
export const MhDiagnostic = koffi.struct({ severity: 'uint32_t', span: MhSpan, message: MhStr });
/** mh_result. */
export const MhResult = koffi.struct({
	outcome: 'uint32_t',
	tokens: MhTokenStream,
	aux_data: MhStr,
	diagnostics: 'void *',
	diagnostics_len: 'size_t',
});

/** A native address as koffi returns it (null for NULL). */
export type Address = bigint | null;

/** An mh_str as koffi decodes it. */
export interface RawStr {
	ptr: Address;
	len: number | bigint;
}
/** An mh_span as koffi decodes it. */
export interface RawSpan {
	start: number;
	end: number;
}
/** An mh_token_stream as the host passes it in (typed arrays / Buffers) or reads it back (addresses). */
export interface RawTokenStream<P = Address> {
	tokens: P;
	len: number | bigint;
	text: P;
	text_len: number | bigint;
}
/** An mh_request as the host passes it in. */
export interface RawRequest {
	kind: number;
	name: { ptr: Buffer; len: number };
	args: RawTokenStream<Uint32Array | Uint8Array | null>;
	item: RawTokenStream<Uint32Array | Uint8Array | null>;
	call_site: RawSpan;
}
/** An mh_diagnostic as koffi decodes it. */
export interface RawDiagnostic {
	severity: number;
	span: RawSpan;
	message: RawStr;
}
/** An mh_result as koffi decodes it. */
export interface RawResult {
	outcome: number;
	tokens: RawTokenStream;
	aux_data: RawStr;
	diagnostics: Address;
	diagnostics_len: number | bigint;
}

/** The library's entry points, bound. */
export interface LibraryFunctions {
	abiVersion: () => number;
	manifest: () => RawStr;
	/** mh_expand on an mh_request written by call-memory.ts. */
	expand: (request: Uint8Array) => Address;
	freeResult: (result: Address) => void;
	/** Absent when the library does not export mh_post_process. */
	postProcess?: (auxJson: { ptr: Buffer | null; len: number }) => Address;
	/** Absent when the library does not export mh_fingerprint. */
	fingerprint?: () => bigint | number;
}

/** Result type and parameter types koffi binds for each symbol. */
const DECLARATIONS: Record<(typeof REQUIRED_SYMBOLS)[number] | typeof POST_PROCESS_SYMBOL | typeof FINGERPRINT_SYMBOL, [TypeSpec, TypeSpec[]]> = {
	mh_abi_version: ['uint32_t', []],
	mh_manifest: [MhStr, []],
	// The request is written as bytes (call-memory.ts), so it goes in as a plain pointer.
	mh_expand: ['void *', ['void *']],
	mh_free_result: ['void', ['void *']],
	mh_post_process: ['void *', [MhStr]],
	mh_fingerprint: ['uint64_t', []],
};

/** Binds the entry points of a loaded library, or names the first required symbol that is missing. */
export function bindFunctions(lib: LibraryHandle): LibraryFunctions | { missing: string } {
	const bound = new Map<string, BoundFunction>();
	for (const symbol of REQUIRED_SYMBOLS) {
		const fn = tryBind(lib, symbol, DECLARATIONS[symbol]);
		if (!fn) return { missing: symbol };
		bound.set(symbol, fn);
	}
	const postProcess = tryBind(lib, POST_PROCESS_SYMBOL, DECLARATIONS[POST_PROCESS_SYMBOL]);
	const fingerprint = tryBind(lib, FINGERPRINT_SYMBOL, DECLARATIONS[FINGERPRINT_SYMBOL]);
	return {
		abiVersion: bound.get('mh_abi_version') as unknown as LibraryFunctions['abiVersion'],
		manifest: bound.get('mh_manifest') as unknown as LibraryFunctions['manifest'],
		expand: bound.get('mh_expand') as unknown as LibraryFunctions['expand'],
		freeResult: bound.get('mh_free_result') as unknown as LibraryFunctions['freeResult'],
		postProcess: postProcess as unknown as LibraryFunctions['postProcess'],
		fingerprint: fingerprint as unknown as LibraryFunctions['fingerprint'],
	};
}

// koffi throws "Cannot find function" when the symbol is not exported.
function tryBind(lib: LibraryHandle, symbol: string, [result, params]: [TypeSpec, TypeSpec[]]): BoundFunction | undefined {
	try {
		return lib.func(symbol, result, params);
	} catch {
		return undefined;
	}
}

/** A size_t field as a JS number (sizes beyond 2^53 cannot be real allocations). */
export function toNumber(n: number | bigint): number {
	return typeof n === 'bigint' ? Number(n) : n;
}
