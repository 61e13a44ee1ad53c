/**
 * Shared objects that speak Scarb's stable macro ABI, as the shared-object loader probes them
 * (server/library-kinds.ts). Detection is Scarb's (scarb/src/compiler/plugin/proc_macro/ffi.rs):
 * the data symbol CAIRO_LANG_MACRO_API_VERSION names the version (2 or 1; any other value is a load
 * error); without it, a library that exports v1's symbols is v1. Then, as Scarb's host does: every
 * required symbol of that version must be there, the expansion list is read and freed, each
 * expansion's doc is read and freed, and v2's optional fingerprint_v2 is asked once.
 */
import koffi, { type LibraryHandle } from 'koffi';
import { LibraryAbi, type MacroInfo } from '../../protocol/library.js';
import { describeMacro, macroKey, type LibraryBackend, type LoadedLibrary, type LoadRequest, type SharedObjectAbi } from '../library-model.js';
import { toEntry } from '../manifest-check.js';
import { readExpansion } from './expansion-names.js';
import { readCString, ScarbExpander, type ScarbMacroEntry } from './expander.js';
import {
	API_VERSION_SYMBOL,
	bindV1,
	bindV2,
	missingSymbols,
	readApiVersion,
	StableTypes,
	V1_REQUIRED_SYMBOLS,
	V2_REQUIRED_SYMBOLS,
	type StableFunctions,
	type StableFunctionsV1,
	type StableFunctionsV2,
} from './stable-abi.js';

// One per host: it owns reusable input buffers, and calls never overlap (koffi calls are synchronous).
let expander: ScarbExpander | undefined;

/** Scarb's ABI when the library names its version: v2 (or v1, when the symbol says 1). */
export const scarbVersionedAbi: SharedObjectAbi = {
	name: 'scarb-v2',
	probe(lib: LibraryHandle, load: LoadRequest): LoadedLibrary | string {
		const version = readApiVersion(lib);
		if (version === undefined) return `no ${API_VERSION_SYMBOL}`;
		if (version === 2) return loadV2(lib, load);
		if (version === 1) return loadV1(lib, load);
		return load.fail('abiMismatch', `its ${API_VERSION_SYMBOL} is ${version}, but Scarb's stable macro ABI has versions 1 and 2`, {
			actualAbiVersion: version,
		});
	},
};

/** Scarb's ABI v1 for a library without the version symbol: it exports v1's symbols. */
export const scarbV1Abi: SharedObjectAbi = {
	name: 'scarb-v1',
	probe(lib: LibraryHandle, load: LoadRequest): LoadedLibrary | string {
		const missing = missingSymbols(lib, V1_REQUIRED_SYMBOLS);
		if (missing.length > 0) return `no ${missing.join(', ')}`;
		return loadV1(lib, load);
	},
};

function loadV2(lib: LibraryHandle, load: LoadRequest): LoadedLibrary {
	requireSymbols(lib, V2_REQUIRED_SYMBOLS, 2, load);
	const fns = bindV2(lib);
	const calls = (expander ??= new ScarbExpander());
	const backend: LibraryBackend = {
		expand: (macro, input, sink) => calls.expandV2(fns, macro as ScarbMacroEntry, input, describeMacro(macro, load.id), sink),
		postProcess: (auxData) => calls.postProcess(fns, 2, auxData, `post_process_callback_v2 of ${load.id}`),
	};
	const fingerprint = fns.fingerprint ? BigInt(fns.fingerprint()).toString() : undefined;
	return toLibrary(load, fns, backend, 2, fingerprint);
}

function loadV1(lib: LibraryHandle, load: LoadRequest): LoadedLibrary {
	requireSymbols(lib, V1_REQUIRED_SYMBOLS, 1, load);
	const fns: StableFunctionsV1 = bindV1(lib);
	const calls = (expander ??= new ScarbExpander());
	const backend: LibraryBackend = {
		expand: (macro, input, sink) => calls.expandV1(fns, macro as ScarbMacroEntry, input, describeMacro(macro, load.id), sink),
		postProcess: (auxData) => calls.postProcess(fns, 1, auxData, `post_process_callback of ${load.id}`),
	};
	return toLibrary(load, fns, backend, 1, undefined);
}

function requireSymbols(lib: LibraryHandle, symbols: readonly string[], version: 1 | 2, load: LoadRequest): void {
	const missing = missingSymbols(lib, symbols);
	if (missing.length === 0) return;
	load.fail('missingSymbol', `it speaks Scarb's stable macro ABI v${version} but does not export ${missing.join(', ')}`, { symbol: missing[0] });
}

function toLibrary(
	load: LoadRequest,
	fns: StableFunctions<unknown> | StableFunctionsV2,
	backend: LibraryBackend,
	version: 1 | 2,
	fingerprint: string | undefined,
): LoadedLibrary {
	const macros = new Map<string, ScarbMacroEntry>();
	const infos: MacroInfo[] = [];
	for (const { info, expansionName } of listExpansions(fns)) {
		const key = macroKey(info.kind, info.name);
		if (macros.has(key)) return load.fail('badManifest', `its expansion list (list_expansions) defines the ${info.kind} macro ${info.name} twice`);
		const nameBytes = Buffer.from(`${expansionName}\0`, 'utf8');
		info.doc = readDoc(fns, nameBytes);
		infos.push(info);
		macros.set(key, { ...toEntry(info), nameBytes, executable: info.executable === true });
	}
	return {
		id: load.id,
		fingerprint: load.fingerprint,
		macros,
		backend,
		info: {
			library: load.id,
			abi: version === 2 ? LibraryAbi.scarbV2 : LibraryAbi.scarbV1,
			abiVersion: version,
			sandbox: 'native',
			// Every Scarb library exports the callback (a no-op when the package defines none).
			hasPostProcess: true,
			macros: infos,
			...(fingerprint !== undefined ? { fingerprint } : {}),
		},
	};
}

/** The expansions the library lists, copied, with the list handed back to free_expansions_list. */
function listExpansions(fns: StableFunctions<unknown>): ReturnType<typeof readExpansion>[] {
	const list = fns.listExpansions();
	try {
		if (list.len === 0) return [];
		const raw = koffi.decode(list.ptr, StableTypes.StableExpansion, list.len) as { name: number; kind: number }[];
		return raw.map((e) => readExpansion(readCString(e.name), e.kind));
	} finally {
		fns.freeExpansionsList(list);
	}
}

/** An expansion's doc (empty when the library returns NULL), freed by the library. */
function readDoc(fns: StableFunctions<unknown>, nameBytes: Buffer): string {
	const doc = fns.doc(nameBytes);
	try {
		return readCString(doc);
	} finally {
		fns.freeDoc(doc);
	}
}
