/**
 * One wasm module's instances inside the worker, and the rule that no state survives from one
 * expansion to the next. Two ways to get a clean instance (docs/wasm.md has the numbers):
 *
 * - "snapshot" (default): instantiate once, copy the memory and every mutable global right away,
 *   and before each later call write them back. When the memory grew during a call the copy no
 *   longer fits (wasm memory cannot shrink), so the module is instantiated again instead.
 * - "fresh": a new instance for every call.
 *
 * After a trap the instance is thrown away either way: its stack pointer is left mid-call.
 */
import type { WasmExports } from './abi.js';
import { WebAssemblyApi, type WasmGlobal, type WasmInstance, type WasmMemory, type WasmModule } from './runtime.js';

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
	instancing: WasmInstancing;
}

/** Hands out clean instances of one module. */
export class ModuleInstances {
	private instance: WasmInstance | undefined;
	private memory: Uint8Array | undefined;
	private globalValues: (number | bigint)[] = [];
	private dirty = false;

	constructor(readonly spec: ModuleSpec) {}

	/** Exports of an instance in its just-instantiated state. */
	acquire(): WasmExports {
		if (this.spec.instancing === 'fresh' || !this.instance || (this.dirty && !this.restore())) this.instantiate();
		this.dirty = true;
		return (this.instance as WasmInstance).exports as unknown as WasmExports;
	}

	/** The last instance, for reading what it left behind after a failure (panic message, memory size). */
	current(): WasmExports | undefined {
		return this.instance?.exports as unknown as WasmExports | undefined;
	}

	/** Forgets the current instance: the next call instantiates the module again. */
	discard(): void {
		this.instance = undefined;
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
		// The module imports nothing, so every instance is in this same state now: one copy serves all.
		if (!this.memory) {
			this.memory = new Uint8Array((instance.exports.memory as WasmMemory).buffer.slice(0));
			this.globalValues = this.spec.globals.map((name) => (instance.exports[name] as WasmGlobal).value);
		}
	}

	/** Writes the snapshot back; false when it cannot (the memory grew). */
	private restore(): boolean {
		const exports = (this.instance as WasmInstance).exports;
		const buffer = (exports.memory as WasmMemory).buffer;
		if (!this.memory || buffer.byteLength !== this.memory.byteLength) return false;
		new Uint8Array(buffer).set(this.memory);
		this.spec.globals.forEach((name, i) => ((exports[name] as WasmGlobal).value = this.globalValues[i]));
		return true;
	}
}
