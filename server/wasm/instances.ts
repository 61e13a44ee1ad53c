/**
 * One wasm module's instances inside the worker, and the rule that no state survives from one
 * expansion to the next. Two ways to get a clean instance (docs/wasm.md has the numbers):
 *
 * - "snapshot" (default): instantiate once, copy the memory, every mutable global and every
 *   table's entries right away, and before each later call write them back. When the memory or a
 *   table grew during a call the copy no longer fits (neither can shrink), so the grown instance is
 *   dropped right after that call (its memory is not held until the next one) and the module is
 *   instantiated again.
 * - "fresh": a new instance for every call; also the sandbox's choice for a module whose state a
 *   snapshot cannot restore (passive data or element segments, v128 globals: binary.ts).
 *
 * After a trap the instance is thrown away either way: its stack pointer is left mid-call.
 */
import type { WasmExports } from './abi.js';
import type { WriteRegions } from './binary.js';
import { WebAssemblyApi, type WasmGlobal, type WasmInstance, type WasmMemory, type WasmModule, type WasmTable } from './runtime.js';

/** Bytes allocated and freed once before a snapshot is taken (see instantiate). */
export const WARM_UP_BYTES = 256 * 1024;

/** How a clean instance is obtained for each call. */
export type WasmInstancing = 'snapshot' | 'fresh';

/** What the worker knows about one loaded module. */
export interface ModuleSpec {
	module: WasmModule;
	/** The memory page limit compiled into the module. */
	maxPages: number;
	/** Export names of the module's mutable globals (added by prepareWasmBinary). */
	globals: string[];
	/** Export names of the module's tables (added by prepareWasmBinary). */
	tables: string[];
	/** The globals of the ranges of memory a call wrote (added by prepareWasmBinary); undefined: not tracked. */
	writeRange?: WriteRegions;
	instancing: WasmInstancing;
}

/** Hands out clean instances of one module. */
export class ModuleInstances {
	private instance: WasmInstance | undefined;
	private memory: Uint8Array | undefined;
	private globalValues: (number | bigint)[] = [];
	private tableEntries: unknown[][] = [];
	private dirty = false;

	constructor(readonly spec: ModuleSpec) {}

	/** Exports of an instance in its just-instantiated state. */
	acquire(): WasmExports {
		if (this.spec.instancing === 'fresh' || !this.instance || (this.dirty && !this.restore())) this.instantiate();
		this.dirty = true;
		return (this.instance as WasmInstance).exports as unknown as WasmExports;
	}

	/**
	 * Records that the host wrote bytes [start, end) of the current instance's memory (a request
	 * placed in it): module code marks its own writes, the host's must be marked too.
	 */
	readonly markWritten = (start: number, end: number): void => {
		const range = this.spec.writeRange;
		if (!range || !this.instance) return;
		const region = Math.min(Math.floor(start / 2 ** range.shift), range.lo.length - 1);
		const lo = this.instance.exports[range.lo[region]] as WasmGlobal;
		const hi = this.instance.exports[range.hi[region]] as WasmGlobal;
		if (start < (Number(lo.value) >>> 0)) lo.value = start | 0;
		if (end > (Number(hi.value) >>> 0)) hi.value = end | 0;
	};

	/** The last instance, for reading what it left behind after a failure (panic message, memory size). */
	current(): WasmExports | undefined {
		return this.instance?.exports as unknown as WasmExports | undefined;
	}

	/** Forgets the current instance: the next call instantiates the module again. */
	discard(): void {
		this.instance = undefined;
	}

	/** After a call: drops an instance that grew past its snapshot (a copy cannot undo that), so its memory is freed now. */
	settle(): void {
		if (this.spec.instancing === 'fresh' || !this.instance || !this.fits(this.instance)) this.instance = undefined;
	}

	private instantiate(): void {
		const instance = new WebAssemblyApi.Instance(this.spec.module, {});
		this.instance = instance;
		this.dirty = false;
		if (this.spec.instancing === 'fresh') return;
		// Rust's allocator grows memory on its first allocation, and a snapshot taken before that
		// would never fit again. One block from mh_alloc, released at once, sets the allocator up
		// (no macro code runs) and leaves room for typical calls.
		const exports = instance.exports as unknown as WasmExports;
		const warm = exports.mh_alloc(WARM_UP_BYTES) >>> 0;
		if (warm !== 0) exports.mh_dealloc(warm, WARM_UP_BYTES);
		this.clearWritten(instance);
		// The module imports nothing, so every instance is in this same state now: one copy serves all.
		if (!this.memory) {
			this.memory = new Uint8Array((instance.exports.memory as WasmMemory).buffer.slice(0));
			this.globalValues = this.spec.globals.map((name) => (instance.exports[name] as WasmGlobal).value);
		}
		// Per instance: a table's functions belong to the instance that holds them (another
		// instance's would run on that instance's memory).
		this.tableEntries = this.spec.tables.map((name) => {
			const table = instance.exports[name] as WasmTable;
			return Array.from({ length: table.length }, (_, i) => table.get(i));
		});
	}

	/** Empties the written range (after instantiation and after each restore). */
	private clearWritten(instance: WasmInstance): void {
		const range = this.spec.writeRange;
		if (!range) return;
		for (let i = 0; i < range.lo.length; i++) {
			(instance.exports[range.lo[i]] as WasmGlobal).value = -1;
			(instance.exports[range.hi[i]] as WasmGlobal).value = 0;
		}
	}

	/** Whether the snapshot still fits an instance: neither its memory nor a table grew. */
	private fits(instance: WasmInstance): boolean {
		const exports = instance.exports;
		if (!this.memory || (exports.memory as WasmMemory).buffer.byteLength !== this.memory.byteLength) return false;
		return this.spec.tables.every((name, i) => (exports[name] as WasmTable).length === this.tableEntries[i].length);
	}

	/** Writes the snapshot back; false when it cannot (the memory or a table grew). */
	private restore(): boolean {
		const instance = this.instance as WasmInstance;
		if (!this.fits(instance)) return false;
		const exports = instance.exports;
		const live = new Uint8Array((exports.memory as WasmMemory).buffer);
		const snapshot = this.memory as Uint8Array;
		const range = this.spec.writeRange;
		if (range) {
			// Only what the call wrote: the rest of memory still equals the snapshot.
			for (let i = 0; i < range.lo.length; i++) {
				const lo = Number((exports[range.lo[i]] as WasmGlobal).value) >>> 0;
				const hi = Math.min(Number((exports[range.hi[i]] as WasmGlobal).value) >>> 0, snapshot.length);
				if (lo < hi) live.set(snapshot.subarray(lo, hi), lo);
			}
			this.clearWritten(instance);
		} else {
			live.set(snapshot);
		}
		this.spec.globals.forEach((name, i) => ((exports[name] as WasmGlobal).value = this.globalValues[i]));
		this.spec.tables.forEach((name, t) => {
			const table = exports[name] as WasmTable;
			const entries = this.tableEntries[t];
			for (let i = 0; i < entries.length; i++) table.set(i, entries[i]);
		});
		return true;
	}
}
