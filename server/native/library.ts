/**
 * Shared objects of our own ABI (sdk/c/macro_host.h): the probe that recognises one (it exports
 * mh_abi_version), its load checks (every required symbol, the ABI version, the manifest), and its
 * backend, which calls into it through the host's one {@link Expander}.
 */
import koffi, { type LibraryHandle } from 'koffi';
import { ABI_VERSION } from '../../protocol/version.js';
import { describeMacro, type LibraryBackend, type LoadedLibrary, type LoadRequest, type SharedObjectAbi } from '../library-model.js';
import { parseManifest, toEntries } from '../manifest-check.js';
import { bindFunctions, toNumber, type LibraryFunctions } from './abi.js';
import { Expander } from './expander.js';

/** The symbol that marks a shared object of our ABI. */
const MARKER_SYMBOL = 'mh_abi_version';

// One per host: it owns reusable input buffers, and calls never overlap (koffi calls are synchronous).
let expander: Expander | undefined;

/** Our own ABI, as the shared-object loader probes it. */
export const macroHostAbi: SharedObjectAbi = {
	name: 'macro-host',
	probe(lib: LibraryHandle, load: LoadRequest): LoadedLibrary | string {
		const { id, fail } = load;
		const bound = bindFunctions(lib);
		if ('missing' in bound) {
			if (bound.missing === MARKER_SYMBOL) return `no ${MARKER_SYMBOL}`;
			return fail('missingSymbol', `it does not export the required symbol ${bound.missing}`, { symbol: bound.missing });
		}
		const actual = bound.abiVersion();
		if (actual !== ABI_VERSION) {
			return fail('abiMismatch', `it was built for macro ABI version ${actual}, but this host speaks version ${ABI_VERSION}`, {
				actualAbiVersion: actual,
				expectedAbiVersion: ABI_VERSION,
			});
		}
		const manifest = readManifest(bound);
		if (typeof manifest === 'string') return fail('badManifest', `its manifest (mh_manifest) ${manifest}`);
		return {
			id,
			fingerprint: load.fingerprint,
			macros: toEntries(manifest),
			backend: nativeBackend(id, bound),
			info: {
				library: id,
				abi: 'macro-host',
				abiVersion: actual,
				sandbox: 'native',
				hasPostProcess: bound.postProcess !== undefined,
				macros: manifest,
				// Asked once per load: a library's outside inputs (its environment) do not change while it is loaded.
				...(bound.fingerprint === undefined ? {} : { fingerprint: BigInt.asUintN(64, BigInt(bound.fingerprint())).toString() }),
			},
		};
	},
};

function nativeBackend(id: string, functions: LibraryFunctions): LibraryBackend {
	const calls = (expander ??= new Expander());
	return {
		expand: (macro, input, sink) => calls.expand(functions, macro, input, describeMacro(macro, id), sink),
		postProcess: (auxData) => calls.postProcess(functions, auxData, `mh_post_process of ${id}`),
	};
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads and checks the manifest; returns the macros, or a sentence saying what is wrong with it. */
function readManifest(functions: LibraryFunctions): ReturnType<typeof parseManifest> {
	const raw = functions.manifest();
	const len = toNumber(raw.len);
	if (len > 0 && raw.ptr === null) return `is NULL with length ${len}`;
	let text: string;
	try {
		text = len === 0 ? '' : utf8.decode(new Uint8Array(koffi.view(raw.ptr, len)));
	} catch {
		return 'is not valid UTF-8';
	}
	return parseManifest(text);
}
