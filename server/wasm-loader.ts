/**
 * Loads wasm macro modules (`.wasm` paths): the file exists, it is a WebAssembly module, it imports
 * nothing, it exports its memory and every required function, its memory starts within the page
 * limit, it speaks ABI_VERSION, and its manifest is sound. Each failure is a LibraryLoadError with
 * the same message prefix as a native library's. The module is compiled in the host thread (that
 * runs none of its code); the ABI version and manifest are read in the wasm worker, under the
 * call timeout. Cached by canonical path, file identity and page limit, like native libraries.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { resolve } from 'node:path';
import { ABI_VERSION } from '../protocol/version.js';
import type { LibraryFunctions } from './abi.js';
import { failToStat, loadFailure, macroKey, parseManifest, toEntry, type LoadedLibrary } from './library-loader.js';
import { WASM_REQUIRED_FUNCTIONS } from './wasm-abi.js';
import { prepareWasmBinary, WasmBinaryError } from './wasm-binary.js';
import { WebAssemblyApi, type WasmModule } from './wasm-runtime.js';
import type { WasmModuleHandle, WasmSandbox } from './wasm-sandbox.js';

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
const PAGE_BYTES = 65536;

/** Loads wasm modules for one session. */
export class WasmLibraryLoader {
	private readonly loaded = new Map<string, LoadedLibrary>();

	constructor(private readonly sandbox: WasmSandbox) {}

	/** Loads `path` (relative to the working directory), or returns the cached module when nothing changed. */
	async load(path: string): Promise<LoadedLibrary> {
		const fail = loadFailure(path);
		const absolute = resolve(path);
		let stats: Stats;
		try {
			stats = await stat(absolute);
		} catch (error) {
			return failToStat(fail, error);
		}
		if (!stats.isFile()) return fail('notALibrary', 'not a WebAssembly module (it is not a regular file)');
		const id = await realpath(absolute);
		const maxPages = this.sandbox.settings.maxMemoryPages;
		const fingerprint = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${maxPages}`;
		const cached = this.loaded.get(id);
		if (cached && cached.fingerprint === fingerprint) return cached;

		const bytes = new Uint8Array(await readFile(absolute));
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
		};
		const answer = await this.sandbox.manifest(handle);
		if ('error' in answer) return fail('badManifest', answer.error);
		if (answer.abiVersion !== ABI_VERSION) {
			return fail('abiMismatch', `it was built for macro ABI version ${answer.abiVersion}, but this host speaks version ${ABI_VERSION}`, {
				actualAbiVersion: answer.abiVersion,
				expectedAbiVersion: ABI_VERSION,
			});
		}
		const manifest = parseManifest(answer.manifest);
		if (typeof manifest === 'string') return fail('badManifest', `its manifest (mh_manifest) ${manifest}`);
		const library: LoadedLibrary = {
			id,
			fingerprint,
			functions: refuseNativeCalls(id),
			wasm: handle,
			macros: new Map(manifest.map((m) => [macroKey(m.kind, m.name), toEntry(m)])),
			info: {
				library: id,
				abiVersion: answer.abiVersion,
				sandbox: 'wasm',
				hasPostProcess: exports.get('mh_post_process') === 'function',
				macros: manifest,
			},
		};
		this.loaded.set(id, library);
		return library;
	}
}

/** A wasm library has no native entry points: calling one is a routing bug, said loudly. */
function refuseNativeCalls(id: string): LibraryFunctions {
	const refuse = (): never => {
		throw new Error(`${id} is a wasm module; its macros run in the wasm worker, not through koffi`);
	};
	return { abiVersion: refuse, manifest: refuse, expand: refuse, freeResult: refuse };
}
