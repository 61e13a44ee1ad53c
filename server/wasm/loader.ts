/**
 * Loads wasm macro modules (`.wasm` paths): the file exists, it is a WebAssembly module, it imports
 * nothing, it exports its memory and every required function, its memory starts within the page
 * limit, it speaks ABI_VERSION, and its manifest is sound. Each failure is a LibraryLoadError with
 * the same message prefix as a native library's. The module is compiled in the host thread (that
 * runs none of its code); the ABI version and manifest are read in the wasm worker, under the
 * call timeout. Cached by canonical path, file identity and page limit, like native libraries.
 */
import { readFile } from 'node:fs/promises';
import type { Diagnostic } from '../../protocol/expand.js';
import { ABI_VERSION } from '../../protocol/version.js';
import { describeMacro, type LibraryBackend, type LoadedLibrary, type LoadRequest } from '../library-model.js';
import { parseManifest, toEntries } from '../manifest-check.js';
import { WASM_REQUIRED_FUNCTIONS } from './abi.js';
import { prepareWasmBinary, TABLE_ENTRY_BYTES, WasmBinaryError, WasmLimitError, type PreparedWasm } from './binary.js';
import { WARM_UP_BYTES, type WasmInstancing } from './instances.js';
import { WebAssemblyApi, type WasmModule } from './runtime.js';
import type { WasmModuleCost, WasmModuleHandle, WasmSandbox } from './sandbox.js';

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
const PAGE_BYTES = 65536;

/** Loads the wasm module `request.id` into `sandbox`. */
export async function loadWasmLibrary(request: LoadRequest, sandbox: WasmSandbox): Promise<LoadedLibrary> {
		const { id, fail } = request;
		const maxPages = sandbox.settings.maxMemoryPages;
		const bytes = new Uint8Array(await readFile(id));
		if (bytes.length < 8 || WASM_MAGIC.some((b, i) => bytes[i] !== b)) {
			return fail('notALibrary', 'not a WebAssembly module (it does not start with the bytes \\0asm)');
		}
		let original: WasmModule;
		try {
			original = new WebAssemblyApi.Module(bytes);
		} catch (error) {
			return fail('notALibrary', `not a valid WebAssembly module (${(error as Error).message})`);
		}
		const imports = WebAssemblyApi.Module.imports(original).map((i) => `${i.module}.${i.name}`);
		if (imports.length > 0) {
			return fail('forbiddenImport', `the module imports ${imports.join(', ')}; wasm macros must import nothing (no clock, randomness or I/O)`, {
				imports,
			});
		}
		const exports = new Map(WebAssemblyApi.Module.exports(original).map((e) => [e.name, e.kind]));
		if (exports.get('memory') !== 'memory') {
			return fail('missingSymbol', 'it does not export its memory as "memory"', { symbol: 'memory' });
		}
		for (const symbol of WASM_REQUIRED_FUNCTIONS) {
			if (exports.get(symbol) !== 'function') {
				return fail('missingSymbol', `it does not export the required symbol ${symbol}`, { symbol });
			}
		}

		let prepared;
		try {
			prepared = prepareWasmBinary(bytes, maxPages);
		} catch (error) {
			if (error instanceof WasmLimitError) return fail('memoryLimit', error.message);
			if (error instanceof WasmBinaryError) return fail('notALibrary', `not a usable WebAssembly module (${error.message})`);
			throw error;
		}
		if ((prepared.initialPages ?? 0) > maxPages) {
			return fail(
				'memoryLimit',
				`its memory starts at ${prepared.initialPages} pages, more than the limit for wasm macros of ${maxPages} pages (${(maxPages * PAGE_BYTES) / 1048576} MiB)`,
			);
		}
		const handle: WasmModuleHandle = {
			library: id,
			module: new WebAssemblyApi.Module(prepared.bytes),
			maxPages: prepared.maxPages ?? maxPages,
			globals: prepared.mutableGlobalExports,
			tables: prepared.tableExports,
			writeRange: prepared.writeRange,
			notRestorable: prepared.notRestorable,
		};
		const overBudget = sandbox.reserve(id, moduleCost(prepared, handle, sandbox.settings.instancing));
		if (overBudget !== undefined) return fail('memoryLimit', overBudget);
		try {
			return await readManifest(request, handle, sandbox, exports.get('mh_post_process') === 'function');
		} catch (error) {
			sandbox.release(id);
			throw error;
		}
}

/**
 * What a module costs the host: its memory at start, the snapshot of it (taken after a warm-up
 * allocation) and its tables, twice when a snapshot copies them; a call may grow the memory to its maximum.
 */
function moduleCost(prepared: PreparedWasm, handle: WasmModuleHandle, instancing: WasmInstancing): WasmModuleCost {
	const initial = prepared.initialPages ?? 0;
	const snapshots = instancing === 'snapshot' && handle.notRestorable === undefined;
	const snapshotPages = snapshots ? Math.min(initial + WARM_UP_BYTES / PAGE_BYTES, handle.maxPages) : 0;
	const tables = prepared.tableEntries * TABLE_ENTRY_BYTES * (snapshots ? 2 : 1);
	return { held: (initial + snapshotPages) * PAGE_BYTES + tables, growth: Math.max(0, handle.maxPages - initial) * PAGE_BYTES };
}

/** Reads the ABI version and manifest in the worker; the loaded library, or a load error. */
async function readManifest(request: LoadRequest, handle: WasmModuleHandle, sandbox: WasmSandbox, hasPostProcess: boolean): Promise<LoadedLibrary> {
		const { id, fail } = request;
		const answer = await sandbox.manifest(handle);
		if ('error' in answer) return fail('badManifest', answer.error);
		if (answer.abiVersion !== ABI_VERSION) {
			return fail('abiMismatch', `it was built for macro ABI version ${answer.abiVersion}, but this host speaks version ${ABI_VERSION}`, {
				actualAbiVersion: answer.abiVersion,
				expectedAbiVersion: ABI_VERSION,
			});
		}
		const manifest = parseManifest(answer.manifest);
		if (typeof manifest === 'string') return fail('badManifest', `its manifest (mh_manifest) ${manifest}`);
		return {
			id,
			fingerprint: request.fingerprint,
			macros: toEntries(manifest),
			backend: wasmBackend(handle, sandbox),
			info: {
				library: id,
				abi: 'macro-host',
				abiVersion: answer.abiVersion,
				sandbox: 'wasm',
				hasPostProcess,
				macros: manifest,
			},
		};
}

/** Calls into a module through the sandbox's worker: every answer comes later. */
function wasmBackend(handle: WasmModuleHandle, sandbox: WasmSandbox): LibraryBackend {
	return {
		expand: (macro, input) => {
			const request = { kind: macro.abiKind, name: macro.name, args: input.args, item: input.item, callSite: input.callSite };
			return sandbox.expand(handle, request, describeMacro(macro, handle.library));
		},
		postProcess: (auxData): Promise<Diagnostic[]> =>
			sandbox.postProcess(handle, JSON.stringify(auxData), `mh_post_process of ${handle.library}`).then((e) => e.diagnostics),
	};
}
