/**
 * The parts of the WebAssembly JS API the host uses, typed here: the project compiles with lib
 * ES2022 and @types/node, neither of which declares the `WebAssembly` global.
 */

/** A compiled module; can be posted to a worker. */
export interface WasmModule {
	readonly __wasmModule?: never;
}

/** An instance's exports: functions, memories and globals by name. */
export type WasmInstanceExports = Record<string, unknown>;

/** An instance of a module. */
export interface WasmInstance {
	readonly exports: WasmInstanceExports;
}

/** A linear memory. */
export interface WasmMemory {
	readonly buffer: ArrayBuffer;
	grow(pages: number): number;
}

/** A table of references. */
export interface WasmTable {
	readonly length: number;
	get(index: number): unknown;
	set(index: number, value: unknown): void;
}

/** A global (mutable ones can be set). */
export interface WasmGlobal {
	value: number | bigint;
}

/** One import or export of a module. */
export interface WasmDescriptor {
	module?: string;
	name: string;
	kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
}

interface WebAssemblyApi {
	Module: {
		new (bytes: Uint8Array): WasmModule;
		imports(module: WasmModule): Required<WasmDescriptor>[];
		exports(module: WasmModule): WasmDescriptor[];
	};
	Instance: new (module: WasmModule, imports: Record<string, never>) => WasmInstance;
	Memory: abstract new (...args: never[]) => WasmMemory;
	Global: abstract new (...args: never[]) => WasmGlobal;
	RuntimeError: abstract new (...args: never[]) => Error;
	CompileError: abstract new (...args: never[]) => Error;
	/** A wasm exception (exception handling proposal); not an Error. */
	Exception: abstract new (...args: never[]) => object;
}

/** The global `WebAssembly` object of this Node. */
export const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
