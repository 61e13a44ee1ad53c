/**
 * The macro ABI v1 in wasm32: the same records and structs as sdk/c/macro_host.h with 4-byte
 * pointers and size_t (offsets below, docs/abi.md has the tables), plus the calls that move a
 * request into a module's memory and a result out of it. Runs inside the wasm worker; knows
 * nothing of workers, timeouts or the wire.
 *
 * Calling conventions, as rustc and clang emit them for wasm32-unknown-unknown:
 * - `mh_manifest` returns its 8-byte mh_str through a pointer the caller passes (sret);
 * - `mh_post_process` takes its mh_str either split into (ptr, len) (rustc's wasm32-unknown-unknown
 *   ABI) or as a pointer to it (clang's C ABI); the host tells them apart by the export's arity.
 */
import { Outcome, type Diagnostic, type Span } from '../../protocol/expand.js';
import { RECORD_WIDTH, SPAN_CALL_SITE, type TokenStream } from '../../protocol/token-stream.js';
import type { Expansion, FlatTokenStream } from '../library-model.js';
import { checkDiagnostics, checkOutput, checkResultSize, checkStringSize, decodeResultText, MAX_RESULT_TOKENS, parseAuxData, type TextRead } from '../result-checks.js';
import type { WasmMemory } from './runtime.js';

/** Byte sizes and field offsets of the ABI structs on wasm32. */
export namespace Wasm32Layout {
	export const TOKEN = 24;
	export const STR = 8;
	export const STREAM = 16;
	/** mh_request: kind@0, name@4, args@12, item@28, call_site@44. */
	export const REQUEST = 52;
	export const REQUEST_NAME = 4;
	export const REQUEST_ARGS = 12;
	export const REQUEST_ITEM = 28;
	export const REQUEST_CALL_SITE = 44;
	/** mh_diagnostic: severity@0, span@4, message@12. */
	export const DIAGNOSTIC = 20;
	/** mh_result: outcome@0, tokens@4, aux_data@20, diagnostics@28, diagnostics_len@32. */
	export const RESULT = 36;
	export const RESULT_TOKENS = 4;
	export const RESULT_AUX = 20;
	export const RESULT_DIAGNOSTICS = 28;
	export const RESULT_DIAGNOSTICS_LEN = 32;
}

/** Exports every wasm macro module has (besides the global `memory`). */
export const WASM_REQUIRED_FUNCTIONS = ['mh_abi_version', 'mh_manifest', 'mh_expand', 'mh_free_result', 'mh_alloc', 'mh_dealloc'] as const;

/** The module's exports the host calls, as JS functions. */
export interface WasmExports {
	memory: WasmMemory;
	mh_abi_version(): number;
	mh_manifest(...args: number[]): unknown;
	mh_expand(request: number): number;
	mh_free_result(result: number): void;
	mh_alloc(size: number): number;
	mh_dealloc(ptr: number, size: number): void;
	mh_post_process?: (...args: number[]) => number;
	/** SDK extra: the panic message recorded before a trap (pointer to mh_str), or 0. */
	mh_panic_message?: () => number;
	/** SDK extra: the size of the allocation that failed, or 0. */
	mh_alloc_failure?: () => number;
}

/** One macro call for {@link callExpand}. */
export interface WasmExpandRequest {
	/** MH_KIND_*. */
	kind: number;
	name: string;
	args?: TokenStream;
	item?: TokenStream;
	callSite?: Span;
}

/** Told of every range [start, end) of module memory the host writes (instances.ts restores only written bytes). */
export type WrittenRange = (start: number, end: number) => void;

const NOTHING_WRITTEN: WrittenRange = () => undefined;

/** A call the module answered with something the host cannot trust: becomes a bad-result bail. */
export class WasmBadResult extends Error {}

const MH_OUTCOME_REPLACE = 1;
const encoder = new TextEncoder();

/** Calls mh_abi_version and mh_manifest; returns the manifest text (or throws WasmBadResult). */
export function callManifest(exports: WasmExports, written: WrittenRange = NOTHING_WRITTEN): { abiVersion: number; manifest: string } {
	const abiVersion = exports.mh_abi_version() >>> 0;
	if (abiVersion !== 1) return { abiVersion, manifest: '' };
	let ptr: number;
	let len: number;
	if (exports.mh_manifest.length === 0) {
		// Multi-value return: [ptr, len].
		const pair = exports.mh_manifest() as number[];
		[ptr, len] = [pair[0] >>> 0, pair[1] >>> 0];
	} else {
		const out = alloc(exports, Wasm32Layout.STR, 'its manifest (mh_manifest)', written);
		exports.mh_manifest(out);
		const view = new DataView(exports.memory.buffer);
		[ptr, len] = [view.getUint32(out, true), view.getUint32(out + 4, true)];
	}
	return { abiVersion, manifest: readString(exports, ptr, len, 'its manifest (mh_manifest)') };
}

/** Places the request in module memory, calls mh_expand, copies the result out and frees it. */
export function callExpand(exports: WasmExports, request: WasmExpandRequest, who: string, written: WrittenRange = NOTHING_WRITTEN): Expansion {
	const name = encoder.encode(request.name);
	const args = streamSizes(request.args);
	const item = streamSizes(request.item);
	// One block: the request, both record arrays (4-byte aligned after the 52-byte request), then the bytes.
	const size = Wasm32Layout.REQUEST + args.recordBytes + item.recordBytes + name.length + args.textBytes + item.textBytes;
	const base = alloc(exports, size, who, written);
	const bytes = new Uint8Array(exports.memory.buffer);
	const view = new DataView(exports.memory.buffer);
	let at = base + Wasm32Layout.REQUEST;
	const argsRecords = at;
	at = writeRecords(bytes, at, request.args);
	const itemRecords = at;
	at = writeRecords(bytes, at, request.item);
	const namePtr = at;
	bytes.set(name, at);
	at += name.length;
	const argsText = at;
	at += writeText(bytes, at, request.args, args.textBytes);
	const itemText = at;
	writeText(bytes, at, request.item, item.textBytes);

	view.setUint32(base, request.kind, true);
	view.setUint32(base + Wasm32Layout.REQUEST_NAME, namePtr, true);
	view.setUint32(base + Wasm32Layout.REQUEST_NAME + 4, name.length, true);
	writeStream(view, base + Wasm32Layout.REQUEST_ARGS, argsRecords, args, argsText);
	writeStream(view, base + Wasm32Layout.REQUEST_ITEM, itemRecords, item, itemText);
	view.setUint32(base + Wasm32Layout.REQUEST_CALL_SITE, request.callSite?.start ?? SPAN_CALL_SITE, true);
	view.setUint32(base + Wasm32Layout.REQUEST_CALL_SITE + 4, request.callSite?.end ?? SPAN_CALL_SITE, true);

	const result = exports.mh_expand(base) >>> 0;
	const expansion = readResult(exports, result, who);
	exports.mh_dealloc(base, size);
	return expansion;
}

/** Calls mh_post_process with the JSON array text; absent export means no diagnostics. */
export function callPostProcess(exports: WasmExports, auxJson: string, who: string, written: WrittenRange = NOTHING_WRITTEN): Expansion {
	const fn = exports.mh_post_process;
	if (!fn) return { outcome: 'leave', diagnostics: [] };
	const json = encoder.encode(auxJson);
	const size = Wasm32Layout.STR + json.length;
	const base = alloc(exports, size, who, written);
	new Uint8Array(exports.memory.buffer).set(json, base + Wasm32Layout.STR);
	const view = new DataView(exports.memory.buffer);
	view.setUint32(base, base + Wasm32Layout.STR, true);
	view.setUint32(base + 4, json.length, true);
	const result = (fn.length >= 2 ? fn(base + Wasm32Layout.STR, json.length) : fn(base)) >>> 0;
	const expansion = readResult(exports, result, who);
	exports.mh_dealloc(base, size);
	return expansion;
}

/** The message the SDK recorded for a panic before the trap, if any. */
export function recordedPanic(exports: WasmExports): string | undefined {
	const ptr = exports.mh_panic_message?.() ?? 0;
	if (ptr === 0) return undefined;
	const view = new DataView(exports.memory.buffer);
	return readString(exports, view.getUint32(ptr, true), view.getUint32(ptr + 4, true), 'the panic message');
}

/** A block of `size` bytes from the module's mh_alloc, for the inputs of `who`'s call; `written` is told the host fills it. */
function alloc(exports: WasmExports, size: number, who: string, written: WrittenRange): number {
	const ptr = exports.mh_alloc(Math.max(size, 1)) >>> 0;
	if (ptr === 0) throw new WasmBadResult(`${who}: mh_alloc(${size}) returned NULL: the module has no memory left for the inputs`);
	const memoryBytes = exports.memory.buffer.byteLength;
	if (ptr + size > memoryBytes) {
		throw new WasmBadResult(`${who}: mh_alloc(${size}) returned the block at ${ptr}, which ends past the module's memory (${memoryBytes} bytes)`);
	}
	written(ptr, ptr + size);
	return ptr;
}

function streamSizes(stream: TokenStream | undefined): { count: number; recordBytes: number; textBytes: number } {
	if (!stream) return { count: 0, recordBytes: 0, textBytes: 0 };
	const count = stream.records.length / RECORD_WIDTH;
	return { count, recordBytes: count * Wasm32Layout.TOKEN, textBytes: Buffer.byteLength(stream.text, 'utf8') };
}

function writeRecords(bytes: Uint8Array, at: number, stream: TokenStream | undefined): number {
	if (!stream || stream.records.length === 0) return at;
	// Wasm is little-endian, as are the hosts Node runs on: the records go in as raw bytes.
	const records = stream.records instanceof Uint32Array ? stream.records : Uint32Array.from(stream.records);
	bytes.set(new Uint8Array(records.buffer, records.byteOffset, records.byteLength), at);
	return at + records.byteLength;
}

function writeText(bytes: Uint8Array, at: number, stream: TokenStream | undefined, textBytes: number): number {
	if (!stream || textBytes === 0) return 0;
	encoder.encodeInto(stream.text, bytes.subarray(at, at + textBytes));
	return textBytes;
}

function writeStream(view: DataView, at: number, records: number, sizes: { count: number; textBytes: number }, text: number): void {
	view.setUint32(at, sizes.count ? records : 0, true);
	view.setUint32(at + 4, sizes.count, true);
	view.setUint32(at + 8, sizes.textBytes ? text : 0, true);
	view.setUint32(at + 12, sizes.textBytes, true);
}

/**
 * Copies what the host needs out of a result, checks it with the same checks, limits and messages
 * as a native result (server/result-checks.ts), and frees it.
 */
function readResult(exports: WasmExports, pointer: number, who: string): Expansion {
	if (pointer === 0) throw new WasmBadResult(`${who} returned no result (NULL)`);
	try {
		const memory = exports.memory.buffer;
		if (pointer + Wasm32Layout.RESULT > memory.byteLength) throw new WasmBadResult(`${who} returned a result pointer outside its memory`);
		const view = new DataView(memory);
		const u32 = (offset: number): number => view.getUint32(pointer + offset, true);
		const outcome = Outcome.fromAbi[u32(0)];
		if (outcome === undefined) throw new WasmBadResult(`${who} returned unknown outcome ${u32(0)}`);
		const expansion: Expansion = { outcome, diagnostics: readDiagnostics(exports, u32(Wasm32Layout.RESULT_DIAGNOSTICS), u32(Wasm32Layout.RESULT_DIAGNOSTICS_LEN), who) };
		if (u32(0) === MH_OUTCOME_REPLACE) {
			const t = Wasm32Layout.RESULT_TOKENS;
			expansion.tokens = readTokens(exports, u32(t), u32(t + 4), u32(t + 8), u32(t + 12), who);
		}
		const auxPtr = u32(Wasm32Layout.RESULT_AUX);
		if (auxPtr !== 0) {
			const aux = readString(exports, auxPtr, u32(Wasm32Layout.RESULT_AUX + 4), `${who} aux data`);
			const parsed = parseAuxData(aux, who);
			if (typeof parsed === 'string') throw new WasmBadResult(parsed);
			expansion.auxData = parsed.value;
		}
		return expansion;
	} finally {
		exports.mh_free_result(pointer);
	}
}

function readTokens(exports: WasmExports, ptr: number, len: number, textPtr: number, textLen: number, who: string): FlatTokenStream {
	if (len > 0 && ptr === 0) throw new WasmBadResult(`${who} returned ${len} output tokens at a NULL pointer`);
	const tooMany = checkResultSize(`${who} output`, len, 'tokens', MAX_RESULT_TOKENS);
	if (tooMany !== undefined) throw new WasmBadResult(tooMany);
	const records = new Uint32Array(len * RECORD_WIDTH);
	if (len > 0) new Uint8Array(records.buffer).set(memoryBytes(exports, ptr, len * Wasm32Layout.TOKEN, `${who} output tokens`));
	const text = readString(exports, textPtr, textLen, `${who} output text`);
	const problem = checkOutput(records, textLen, who);
	if (problem) throw new WasmBadResult(problem);
	return { text, records };
}

function readDiagnostics(exports: WasmExports, ptr: number, count: number, who: string): Diagnostic[] {
	const view = new DataView(exports.memory.buffer);
	const diagnostics = checkDiagnostics(count, ptr === 0, who, (i) => {
		// On the first read, which comes after the count was checked: the whole array lies in memory.
		if (i === 0) memoryBytes(exports, ptr, count * Wasm32Layout.DIAGNOSTIC, `${who} diagnostics`);
		const at = ptr + i * Wasm32Layout.DIAGNOSTIC;
		const messagePtr = view.getUint32(at + 12, true);
		const messageLength = view.getUint32(at + 16, true);
		return {
			severity: view.getUint32(at, true),
			start: view.getUint32(at + 4, true),
			end: view.getUint32(at + 8, true),
			messageLength,
			readMessage: (what) => readText(exports, messagePtr, messageLength, what),
		};
	});
	if (typeof diagnostics === 'string') throw new WasmBadResult(diagnostics);
	return diagnostics;
}

/** The bytes at `ptr` in module memory (no copy); a range past its end is a bad result. */
function memoryBytes(exports: WasmExports, ptr: number, len: number, what: string): Uint8Array {
	const buffer = exports.memory.buffer;
	if (ptr + len > buffer.byteLength) throw new WasmBadResult(`${what} points outside the module's memory (${len} bytes at ${ptr}, memory is ${buffer.byteLength} bytes)`);
	return new Uint8Array(buffer, ptr, len);
}

function readText(exports: WasmExports, ptr: number, len: number, what: string): TextRead {
	if (len === 0) return { text: '' };
	const problem = checkStringSize(ptr === 0, len, what);
	if (problem !== undefined) return { error: problem };
	return decodeResultText(memoryBytes(exports, ptr, len, what), what);
}

function readString(exports: WasmExports, ptr: number, len: number, what: string): string {
	const read = readText(exports, ptr, len, what);
	if (read.error !== undefined) throw new WasmBadResult(read.error);
	return read.text;
}
