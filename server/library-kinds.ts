/**
 * The kinds of macro library the host loads, in one table each: by file name (a `.wasm` module, else
 * a shared object), and for a shared object by the ABI it speaks (asked in order; the first that
 * recognises the library loads it). A new kind of library is a folder of its own and one line here.
 */
import type { LibraryHandle } from 'koffi';
import type { LoadedLibrary, LoadRequest, MaybePromise, SharedObjectAbi } from './library-model.js';
import { macroHostAbi } from './native/library.js';
import { openSharedObject } from './native/open-library.js';
import { scarbV1Abi, scarbVersionedAbi } from './scarb/library.js';
import type { WasmSandbox } from './wasm/sandbox.js';

/** One kind of library file. */
export interface LibraryKind {
	/** Whether a path is of this kind (decided by its name). */
	claims(path: string): boolean;
	/** What a file of this kind is, for "not ... (it is not a regular file)". */
	readonly what: string;
	/** What besides the file's identity decides whether a loaded copy is still good (the wasm page limit). */
	cacheKey(context: LoadContext): string;
	load(request: LoadRequest, context: LoadContext): MaybePromise<LoadedLibrary>;
}

/** What loaders share for one session. */
export interface LoadContext {
	sandbox: WasmSandbox;
}

/** The ABIs a shared object may speak, asked in this order. */
export const SHARED_OBJECT_ABIS: readonly SharedObjectAbi[] = [scarbVersionedAbi, scarbV1Abi, macroHostAbi];

const wasmModules: LibraryKind = {
	claims: (path) => /\.wasm$/i.test(path),
	what: 'a WebAssembly module',
	cacheKey: ({ sandbox }) => String(sandbox.settings.maxMemoryPages),
	// Imported on the first .wasm load: a host serving native libraries never pays for the wasm
	// loader's modules at start-up (each ES module costs the host's cold start a little).
	load: (request, { sandbox }) => import('./wasm/loader.js').then(({ loadWasmLibrary }) => loadWasmLibrary(request, sandbox)),
};

const sharedObjects: LibraryKind = {
	claims: () => true,
	what: 'a loadable shared library',
	cacheKey: () => '',
	load: (request) => probeAbis(openSharedObject(request.id, request.fail), request),
};

/** Library kinds by file name, asked in order; the last claims every path. */
export const LIBRARY_KINDS: readonly LibraryKind[] = [wasmModules, sharedObjects];

/** Loads a shared object through the first ABI that recognises it; fails naming what each ABI missed. */
function probeAbis(lib: LibraryHandle, request: LoadRequest): LoadedLibrary {
	const missed: string[] = [];
	for (const abi of SHARED_OBJECT_ABIS) {
		const answer = abi.probe(lib, request);
		if (typeof answer !== 'string') return answer;
		missed.push(`${abi.name}: ${answer}`);
	}
	return request.fail('missingSymbol', `it speaks no macro ABI this host knows (${missed.join('; ')})`);
}
