/**
 * Small rewrites of a WebAssembly binary before it is compiled: cap the module's own memory at the
 * host's page limit (so growth past it fails inside the module instead of taking host memory),
 * and export every mutable global (so a memory snapshot can restore them too). Only the memory,
 * global and export sections are parsed; every other section is copied byte for byte.
 */

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
}

/** A binary the rewriter cannot parse; the message says where. */
export class WasmBinaryError extends Error {
	override readonly name = 'WasmBinaryError';
}

/** Prefix of the export names added for mutable globals (`$` cannot clash with a C symbol). */
export const GLOBAL_EXPORT_PREFIX = 'mh$global$';

const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;
const SECTION_GLOBAL = 6;
const SECTION_EXPORT = 7;
const EXPORT_KIND_GLOBAL = 3;
const IMPORT_KIND_GLOBAL = 3;

/** Rewrites `input` (a module already known to compile) with memory capped at `limitPages`. */
export function prepareWasmBinary(input: Uint8Array, limitPages: number): PreparedWasm {
	const sections = splitSections(input);
	const result: PreparedWasm = { bytes: input, mutableGlobalExports: [] };
	let importedGlobals = 0;
	const mutable: number[] = [];
	for (const section of sections) {
		if (section.id === SECTION_IMPORT) importedGlobals = countImportedGlobals(section.body);
	}
	const out: Uint8Array[] = [input.subarray(0, 8)];
	let sawExport = false;
	for (const section of sections) {
		let body = section.body;
		if (section.id === SECTION_MEMORY) {
			const capped = capMemory(body, limitPages);
			body = capped.body;
			result.initialPages = capped.initial;
			result.maxPages = capped.max;
		} else if (section.id === SECTION_GLOBAL) {
			for (const index of mutableGlobals(body)) mutable.push(importedGlobals + index);
		} else if (section.id === SECTION_EXPORT) {
			sawExport = true;
			result.mutableGlobalExports = mutable.map((i) => `${GLOBAL_EXPORT_PREFIX}${i}`);
			body = appendGlobalExports(body, mutable);
		}
		out.push(Uint8Array.of(section.id), leb(body.length), body);
	}
	if (!sawExport && mutable.length > 0) {
		// Rare (no exports means no mh_* symbols, which the loader rejects), but keep the rule simple.
		throw new WasmBinaryError('the module has mutable globals but no export section');
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

function countImportedGlobals(body: Uint8Array): number {
	const r = new Reader(body, 0);
	let globals = 0;
	for (let n = r.u32(); n > 0; n--) {
		r.skipName();
		r.skipName();
		const kind = r.byte();
		if (kind === 0) r.u32();
		else if (kind === 1) {
			r.byte();
			r.limits();
		} else if (kind === 2) r.limits();
		else if (kind === IMPORT_KIND_GLOBAL) {
			r.byte();
			r.byte();
			globals++;
		} else r.u32(); // tags and later kinds: one index
	}
	return globals;
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

function mutableGlobals(body: Uint8Array): number[] {
	const r = new Reader(body, 0);
	const found: number[] = [];
	const count = r.u32();
	for (let i = 0; i < count; i++) {
		r.byte(); // value type
		if (r.byte() === 1) found.push(i);
		r.skipConstExpr();
	}
	return found;
}

function appendGlobalExports(body: Uint8Array, globals: readonly number[]): Uint8Array {
	if (globals.length === 0) return body;
	const r = new Reader(body, 0);
	const count = r.u32();
	const entries: Uint8Array[] = [leb(count + globals.length), body.subarray(r.pos)];
	const encoder = new TextEncoder();
	for (const index of globals) {
		const name = encoder.encode(`${GLOBAL_EXPORT_PREFIX}${index}`);
		entries.push(leb(name.length), name, Uint8Array.of(EXPORT_KIND_GLOBAL), leb(index));
	}
	return concat(entries);
}

class Reader {
	constructor(
		private readonly bytes: Uint8Array,
		public pos: number,
	) {}

	byte(): number {
		if (this.pos >= this.bytes.length) throw new WasmBinaryError('unexpected end of a section');
		return this.bytes[this.pos++];
	}

	u32(): number {
		let result = 0;
		let shift = 0;
		for (;;) {
			const b = this.byte();
			result += (b & 0x7f) * 2 ** shift;
			if ((b & 0x80) === 0) return result;
			shift += 7;
			if (shift > 35) throw new WasmBinaryError('a LEB128 number is too long');
		}
	}

	skipName(): void {
		this.pos += this.u32();
	}

	limits(): void {
		const flags = this.byte();
		this.u32();
		if (flags & 1) this.u32();
	}

	/** Skips a constant expression up to and including its `end` (0x0b). */
	skipConstExpr(): void {
		for (;;) {
			const op = this.byte();
			if (op === 0x0b) return;
			if (op === 0x41 || op === 0x42 || op === 0x23 || op === 0xd2) this.signedLeb();
			else if (op === 0x43) this.pos += 4;
			else if (op === 0x44) this.pos += 8;
			else if (op === 0xd0) this.byte();
			else if (op === 0xfd) {
				this.u32();
				this.pos += 16;
			} else if (op === 0x6a || op === 0x6b || op === 0x6c || op === 0x7c || op === 0x7d || op === 0x7e) {
				// Extended constant expressions: arithmetic with no immediates.
			} else throw new WasmBinaryError(`unsupported opcode 0x${op.toString(16)} in a global's initializer`);
		}
	}

	private signedLeb(): void {
		while (this.byte() & 0x80);
	}
}

function leb(value: number): Uint8Array {
	const bytes: number[] = [];
	do {
		let b = value % 128;
		value = Math.floor(value / 128);
		if (value > 0) b |= 0x80;
		bytes.push(b);
	} while (value > 0);
	return Uint8Array.from(bytes);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
	let length = 0;
	for (const p of parts) length += p.length;
	const out = new Uint8Array(length);
	let at = 0;
	for (const p of parts) {
		out.set(p, at);
		at += p.length;
	}
	return out;
}
