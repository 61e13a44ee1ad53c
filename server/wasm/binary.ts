/**
 * Small rewrites of a WebAssembly binary before it is compiled, and the limits checked on the way:
 * - cap the module's own memory at the host's page limit (so growth past it fails inside the module
 *   instead of taking host memory), and each table at {@link MAX_TABLE_ENTRIES} (the same for
 *   `table.grow`); a table or element segment that starts above the cap is a {@link WasmLimitError};
 * - export every mutable global and every table under names no export of the module uses, so a
 *   snapshot can restore them too;
 * - make every float operation's NaN the canonical one (nan-canonical.ts);
 * - tell the instances what a snapshot cannot restore (passive data or element segments, which
 *   `data.drop` / `elem.drop` empty for good; v128 globals, which JS cannot read): such a module
 *   gets a new instance for every call.
 * Only the sections named here are parsed; every other section is copied byte for byte.
 */

import { concat, leb, Reader, WasmBinaryError } from './binary-reader.js';
import { functionTypeParams, functionTypes, markFunctionBody, rewriteCode } from './code-rewrite.js';

export { WasmBinaryError };

/**
 * Memory cut into regions of 2^shift bytes, each with the range [lo, hi) a call wrote in it (a
 * write is counted in the region where it starts), held in globals exported as `lo[i]`, `hi[i]`.
 */
export interface WriteRegions {
	shift: number;
	lo: string[];
	hi: string[];
}

/** How many regions the written range is kept in, at most. */
export const WRITE_REGIONS = 64;

/** The most entries a table of a wasm macro may have (and grow to), and the most one element segment may hold. */
export const MAX_TABLE_ENTRIES = 65_536;

/** Bytes of host memory one table entry is counted at in the host's wasm budget (a tagged pointer). */
export const TABLE_ENTRY_BYTES = 8;

/** What {@link prepareWasmBinary} found and changed. */
export interface PreparedWasm {
	/** The rewritten binary. */
	bytes: Uint8Array;
	/** Initial pages of the module's memory; undefined when it defines none. */
	initialPages?: number;
	/** The maximum now in effect: the smaller of the module's own maximum and the host's limit. */
	maxPages?: number;
	/** Export names given to the module's mutable globals, in global index order. */
	mutableGlobalExports: string[];
	/** Export names given to the module's tables, in table index order. */
	tableExports: string[];
	/** The most entries all tables together can hold (each at its capped maximum). */
	tableEntries: number;
	/** Where the current call wrote, when writes are tracked. */
	writeRange?: WriteRegions;
	/** Why a snapshot cannot give this module a clean state (then every call gets a new instance); undefined when it can. */
	notRestorable?: string;
}

/** A module over one of the sandbox's limits (a table or element segment too large); the message names it and the limit. */
export class WasmLimitError extends WasmBinaryError {}

/** Prefix of the export names added for mutable globals (`$` cannot clash with a C symbol). */
export const GLOBAL_EXPORT_PREFIX = 'mh$global$';

/** Prefix of the export names added for the written range's globals. */
export const WRITE_RANGE_EXPORT_PREFIX = 'mh$written$';

/** Prefix of the export names added for tables. */
export const TABLE_EXPORT_PREFIX = 'mh$table$';

const SECTION_TYPE = 1;
const SECTION_IMPORT = 2;
const SECTION_FUNCTION = 3;
const SECTION_CODE = 10;
const SECTION_TABLE = 4;
const SECTION_MEMORY = 5;
const SECTION_GLOBAL = 6;
const SECTION_EXPORT = 7;
const SECTION_ELEMENT = 9;
const SECTION_DATA = 11;
const EXPORT_KIND_TABLE = 1;
const EXPORT_KIND_GLOBAL = 3;
const IMPORT_KIND_TABLE = 1;
const IMPORT_KIND_GLOBAL = 3;
const TYPE_V128 = 0x7b;
const REF_FUNC = 0x70;
const REF_EXTERN = 0x6f;

/** Rewrites `input` (a module already known to compile) with memory capped at `limitPages`. */
export function prepareWasmBinary(input: Uint8Array, limitPages: number): PreparedWasm {
	const sections = splitSections(input);
	const result: PreparedWasm = { bytes: input, mutableGlobalExports: [], tableExports: [], tableEntries: 0 };
	const imported = { globals: 0, tables: 0, functions: 0 };
	let ownGlobals = 0;
	const mutable: number[] = [];
	const tables: number[] = [];
	let exportNames = new Set<string>();
	let typeParams: number[] = [];
	let functionTypeIndices: number[] = [];
	for (const section of sections) {
		if (section.id === SECTION_TYPE) typeParams = functionTypeParams(section.body);
		if (section.id === SECTION_FUNCTION) functionTypeIndices = functionTypes(section.body);
		if (section.id === SECTION_IMPORT) countImports(section.body, imported);
		if (section.id === SECTION_EXPORT) exportNames = readExportNames(section.body);
		if (section.id === SECTION_GLOBAL) ownGlobals = new Reader(section.body, 0).u32();
	}
	// Added for the written range: a type (i32, i32) -> (), the function `mark` of that type, and globals lo and hi.
	const markType = typeParams.length;
	const markFunction = imported.functions + functionTypeIndices.length;
	const memoryBytes = Math.min(maxMemoryPages(sections) ?? limitPages, limitPages) * 65536;
	const shift = Math.max(16, Math.ceil(Math.log2(memoryBytes / WRITE_REGIONS)));
	const regions = Math.max(1, Math.ceil(memoryBytes / 2 ** shift));
	const firstRangeGlobal = imported.globals + ownGlobals;
	const lo = Array.from({ length: regions }, (_, i) => firstRangeGlobal + 2 * i);
	const hi = lo.map((index) => index + 1);
	const rangePrefix = unusedPrefix(WRITE_RANGE_EXPORT_PREFIX, exportNames);
	// Mutable i32 pairs: lo = -1 (all ones), hi = 0, an empty range.
	const rangeGlobals = lo.flatMap(() => [Uint8Array.of(0x7f, 1, 0x41, 0x7f, 0x0b), Uint8Array.of(0x7f, 1, 0x41, 0x00, 0x0b)]);
	const rangeExports = lo.flatMap((index, i) => [
		{ name: `${rangePrefix}lo${i}`, kind: EXPORT_KIND_GLOBAL, index },
		{ name: `${rangePrefix}hi${i}`, kind: EXPORT_KIND_GLOBAL, index: hi[i] },
	]);
	let sawGlobal = false;
	const globalPrefix = unusedPrefix(GLOBAL_EXPORT_PREFIX, exportNames);
	const tablePrefix = unusedPrefix(TABLE_EXPORT_PREFIX, exportNames);
	const out: Uint8Array[] = [input.subarray(0, 8)];
	let sawExport = false;
	for (const section of sections) {
		let body = section.body;
		if (section.id === SECTION_EXPORT && !sawGlobal) out.push(Uint8Array.of(SECTION_GLOBAL), ...sized(appendToVector(leb(0), rangeGlobals)));
		if (section.id === SECTION_TYPE) {
			body = appendToVector(body, [Uint8Array.of(0x60, 2, 0x7f, 0x7f, 0)]);
		} else if (section.id === SECTION_FUNCTION) {
			body = appendToVector(body, [leb(markType)]);
		} else if (section.id === SECTION_MEMORY) {
			const capped = capMemory(body, limitPages);
			body = capped.body;
			result.initialPages = capped.initial;
			result.maxPages = capped.max;
		} else if (section.id === SECTION_TABLE) {
			const capped = capTables(body, imported.tables);
			body = capped.body;
			result.tableEntries = capped.entries;
			for (let i = 0; i < capped.count; i++) tables.push(imported.tables + i);
			if (capped.notRestorable) result.notRestorable ??= capped.notRestorable;
		} else if (section.id === SECTION_GLOBAL) {
			sawGlobal = true;
			body = appendToVector(body, rangeGlobals);
			for (const global of mutableGlobals(section.body)) {
				if (global.type === TYPE_V128) result.notRestorable ??= `its mutable global ${imported.globals + global.index} is a v128, which JavaScript cannot read`;
				else mutable.push(imported.globals + global.index);
			}
		} else if (section.id === SECTION_ELEMENT) {
			const passive = checkElements(body);
			if (passive !== undefined) result.notRestorable ??= `its element segment ${passive} is passive (elem.drop empties it for good)`;
		} else if (section.id === SECTION_DATA) {
			const passive = passiveDataSegment(body);
			if (passive !== undefined) result.notRestorable ??= `its data segment ${passive} is passive (data.drop empties it for good)`;
		} else if (section.id === SECTION_CODE) {
			const rewritten = rewriteCode(body, functionTypeIndices.map((t) => typeParams[t] ?? 0), { markFunction }, [markFunctionBody(shift, lo, hi)]);
			body = rewritten.body;
			if (rewritten.tracksWrites) {
				result.writeRange = { shift, lo: lo.map((_, i) => `${rangePrefix}lo${i}`), hi: lo.map((_, i) => `${rangePrefix}hi${i}`) };
			}
		} else if (section.id === SECTION_EXPORT) {
			sawExport = true;
			result.mutableGlobalExports = mutable.map((i) => `${globalPrefix}${i}`);
			result.tableExports = tables.map((i) => `${tablePrefix}${i}`);
			body = appendExports(body, [
				...mutable.map((index) => ({ name: `${globalPrefix}${index}`, kind: EXPORT_KIND_GLOBAL, index })),
				...tables.map((index) => ({ name: `${tablePrefix}${index}`, kind: EXPORT_KIND_TABLE, index })),
				...rangeExports,
			]);
		}
		out.push(Uint8Array.of(section.id), ...sized(body));
	}
	if (!sawExport) {
		// Rare (no exports means no mh_* symbols, which the loader rejects), but keep the rule simple.
		throw new WasmBinaryError('the module has no export section');
	}
	result.bytes = concat(out);
	return result;
}

interface Section {
	id: number;
	body: Uint8Array;
}

function splitSections(bytes: Uint8Array): Section[] {
	const sections: Section[] = [];
	const reader = new Reader(bytes, 8);
	while (reader.pos < bytes.length) {
		const id = reader.byte();
		const size = reader.u32();
		if (reader.pos + size > bytes.length) throw new WasmBinaryError(`section ${id} runs past the end of the file`);
		sections.push({ id, body: bytes.subarray(reader.pos, reader.pos + size) });
		reader.pos += size;
	}
	return sections;
}

function countImports(body: Uint8Array, counts: { globals: number; tables: number; functions: number }): void {
	const r = new Reader(body, 0);
	for (let n = r.u32(); n > 0; n--) {
		r.skipName();
		r.skipName();
		const kind = r.byte();
		if (kind === 0) {
			r.u32();
			counts.functions++;
		} else if (kind === IMPORT_KIND_TABLE) {
			r.refType();
			r.limits();
			counts.tables++;
		} else if (kind === 2) r.limits();
		else if (kind === IMPORT_KIND_GLOBAL) {
			r.valueType();
			r.byte();
			counts.globals++;
		} else r.u32(); // tags and later kinds: one index
	}
}

function readExportNames(body: Uint8Array): Set<string> {
	const r = new Reader(body, 0);
	const names = new Set<string>();
	const decoder = new TextDecoder();
	for (let n = r.u32(); n > 0; n--) {
		const length = r.u32();
		names.add(decoder.decode(body.subarray(r.pos, r.pos + length)));
		r.pos += length;
		r.byte();
		r.u32();
	}
	return names;
}

/** `prefix`, with `$` added until no export of the module starts with it. */
function unusedPrefix(prefix: string, names: ReadonlySet<string>): string {
	while ([...names].some((name) => name.startsWith(prefix))) prefix += '$';
	return prefix;
}

/** The maximum pages of the module's memory as it declares it, if it declares one. */
function maxMemoryPages(sections: readonly Section[]): number | undefined {
	const memory = sections.find((section) => section.id === SECTION_MEMORY);
	if (!memory) return undefined;
	const r = new Reader(memory.body, 0);
	r.u32(); // the count (capMemory checks it is 1)
	const flags = r.byte();
	r.u32();
	return flags & 1 ? r.u32() : undefined;
}

function capMemory(body: Uint8Array, limitPages: number): { body: Uint8Array; initial: number; max: number } {
	const r = new Reader(body, 0);
	const count = r.u32();
	if (count !== 1) throw new WasmBinaryError(`the module defines ${count} memories; a wasm macro has exactly one`);
	const flags = r.byte();
	if (flags & ~1) throw new WasmBinaryError(`the module's memory has flags 0x${flags.toString(16)} (shared or 64-bit memory is not supported)`);
	const initial = r.u32();
	const ownMax = flags & 1 ? r.u32() : Infinity;
	const max = Math.min(ownMax, limitPages);
	return { body: concat([leb(1), Uint8Array.of(1), leb(initial), leb(max), body.subarray(r.pos)]), initial, max };
}

/** Caps every table's maximum at MAX_TABLE_ENTRIES; a table that starts above it is a WasmLimitError. */
function capTables(body: Uint8Array, importedTables: number): { body: Uint8Array; count: number; entries: number; notRestorable?: string } {
	const r = new Reader(body, 0);
	const count = r.u32();
	const parts: Uint8Array[] = [leb(count)];
	let entries = 0;
	let notRestorable: string | undefined;
	for (let i = 0; i < count; i++) {
		const index = importedTables + i;
		const from = r.pos;
		// A table with an initialiser expression: 0x40 0x00 reftype limits expr.
		const withInit = body[r.pos] === 0x40;
		if (withInit) {
			r.byte();
			r.byte();
		}
		const typeStart = r.pos;
		const type = r.refType();
		const typeBytes = body.subarray(typeStart, r.pos);
		if (type !== REF_FUNC && type !== REF_EXTERN) notRestorable ??= `its table ${index} holds references of type 0x${type.toString(16)}, which a snapshot cannot copy`;
		const flags = r.byte();
		if (flags & ~1) throw new WasmBinaryError(`table ${index} has limit flags 0x${flags.toString(16)} (64-bit or shared tables are not supported)`);
		const initial = r.u32();
		const ownMax = flags & 1 ? r.u32() : Infinity;
		if (initial > MAX_TABLE_ENTRIES) {
			throw new WasmLimitError(`its table ${index} starts at ${initial} entries, more than the limit for wasm macros of ${MAX_TABLE_ENTRIES} entries per table`);
		}
		const max = Math.min(ownMax, MAX_TABLE_ENTRIES);
		entries += max;
		const exprStart = r.pos;
		if (withInit) r.skipConstExpr();
		parts.push(body.subarray(from, typeStart), typeBytes, Uint8Array.of(1), leb(initial), leb(max), body.subarray(exprStart, r.pos));
	}
	parts.push(body.subarray(r.pos));
	return { body: concat(parts), count, entries, notRestorable };
}

function mutableGlobals(body: Uint8Array): { index: number; type: number }[] {
	const r = new Reader(body, 0);
	const found: { index: number; type: number }[] = [];
	const count = r.u32();
	for (let i = 0; i < count; i++) {
		const type = r.valueType();
		if (r.byte() === 1) found.push({ index: i, type });
		r.skipConstExpr();
	}
	return found;
}

/**
 * Checks every element segment's length against MAX_TABLE_ENTRIES (a WasmLimitError names the
 * first too long); returns the index of the first passive segment, if any.
 */
function checkElements(body: Uint8Array): number | undefined {
	const r = new Reader(body, 0);
	let passive: number | undefined;
	const count = r.u32();
	for (let i = 0; i < count; i++) {
		const flags = r.u32();
		if (flags > 7) throw new WasmBinaryError(`element segment ${i} has unknown flags ${flags}`);
		if ((flags & 3) === 1) passive ??= i;
		if (flags === 2 || flags === 6) r.u32(); // table index
		if ((flags & 1) === 0) r.skipConstExpr(); // offset of an active segment
		if (flags & 3) {
			// Declares the kind (0x00 = funcref) for index lists, a reference type for expressions.
			if (flags & 4) r.refType();
			else r.byte();
		}
		const entries = r.u32();
		if (entries > MAX_TABLE_ENTRIES) {
			throw new WasmLimitError(`its element segment ${i} has ${entries} entries, more than the limit for wasm macros of ${MAX_TABLE_ENTRIES} entries per segment`);
		}
		for (let e = 0; e < entries; e++) {
			if (flags & 4) r.skipConstExpr();
			else r.u32();
		}
	}
	return passive;
}

/** The index of the first passive data segment, if any. */
function passiveDataSegment(body: Uint8Array): number | undefined {
	const r = new Reader(body, 0);
	const count = r.u32();
	for (let i = 0; i < count; i++) {
		const flags = r.u32();
		if (flags === 1) return i;
		if (flags === 2) r.u32();
		if (flags !== 1) r.skipConstExpr();
		r.skipName(); // the bytes: a length and that many bytes, as a name is
	}
	return undefined;
}

/** A section body or vector `body` (a count, then entries) with `entries` added at its end. */
function appendToVector(body: Uint8Array, entries: readonly Uint8Array[]): Uint8Array {
	const r = new Reader(body, 0);
	const count = r.u32();
	return concat([leb(count + entries.length), body.subarray(r.pos), ...entries]);
}

/** A section body's size and the body. */
function sized(body: Uint8Array): Uint8Array[] {
	return [leb(body.length), body];
}

function appendExports(body: Uint8Array, added: readonly { name: string; kind: number; index: number }[]): Uint8Array {
	if (added.length === 0) return body;
	const r = new Reader(body, 0);
	const count = r.u32();
	const entries: Uint8Array[] = [leb(count + added.length), body.subarray(r.pos)];
	const encoder = new TextEncoder();
	for (const { name, kind, index } of added) {
		const bytes = encoder.encode(name);
		entries.push(leb(bytes.length), bytes, Uint8Array.of(kind), leb(index));
	}
	return concat(entries);
}
