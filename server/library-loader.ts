/**
 * Loads macro libraries: the file exists, it is a shared library, it exports every required
 * symbol, it speaks ABI_VERSION, and its manifest is sound. Each failure is a LibraryLoadError
 * naming the path and what is wrong. Loaded libraries are cached by canonical path and file
 * identity (device, inode, size, mtime); a changed file is loaded afresh.
 */
import koffi from 'koffi';
import { copyFileSync, mkdtempSync, realpathSync, rmSync, statSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { MacroHostErrorCodes, type LibraryLoadErrorData, type LibraryLoadFailure } from '../protocol/errors.js';
import type { LibraryInfo, MacroInfo, MacroKind } from '../protocol/library.js';
import { ABI_VERSION } from '../protocol/version.js';
import { bindFunctions, toNumber, type LibraryFunctions } from './abi.js';
import type { WasmModuleHandle } from './wasm-sandbox.js';

/** One macro of a loaded library, ready to call. */
export interface MacroEntry {
	name: string;
	kind: MacroKind;
	doc: string;
	/** MH_KIND_* of `kind`. */
	abiKind: number;
	/** The name as UTF-8, encoded once and passed to every call. */
	nameBytes: Buffer;
}

/** A library that passed every load check. */
export interface LoadedLibrary {
	/** Canonical absolute path: the library id on the wire. */
	id: string;
	/** What loadLibrary and listMacros report. */
	info: LibraryInfo;
	functions: LibraryFunctions;
	/** Macros keyed by {@link macroKey}. */
	macros: Map<string, MacroEntry>;
	/** Identity of the file this copy was loaded from; another value means the file changed. */
	fingerprint: string;
	/** Set for a wasm module (sandbox "wasm"): it runs in the wasm worker, never through `functions`. */
	wasm?: WasmModuleHandle;
}

/** The key of a macro in {@link LoadedLibrary.macros}: names are unique per kind. */
/** Throws the load error of one path: every loader (native or wasm) reports failures the same way. */
export type LoadFailure = (reason: LibraryLoadFailure, problem: string, extra?: Partial<LibraryLoadErrorData>) => never;

/** The {@link LoadFailure} for `path`: AbiMismatch for an ABI mismatch, LibraryLoadFailed otherwise. */
export function loadFailure(path: string): LoadFailure {
	return (reason, problem, extra = {}) => {
		const code = reason === 'abiMismatch' ? MacroHostErrorCodes.AbiMismatch : MacroHostErrorCodes.LibraryLoadFailed;
		throw new LibraryLoadError(`cannot load macro library ${path}: ${problem}`, code, { path, reason, ...extra });
	};
}

/** Reports a failed stat of a library path: missing, or there but unreadable. */
export function failToStat(fail: LoadFailure, error: unknown): never {
	const code = (error as NodeJS.ErrnoException).code;
	if (code === 'ENOENT' || code === 'ENOTDIR') return fail('notFound', 'the file does not exist');
	return fail('notALibrary', `the file cannot be read (${(error as Error).message})`);
}

export function macroKey(kind: MacroKind, name: string): string {
	return `${kind}:${name}`;
}

/** A library failed a load check. `code` is LibraryLoadFailed or AbiMismatch. */
export class LibraryLoadError extends Error {
	override readonly name = 'LibraryLoadError';
	constructor(
		message: string,
		readonly code: number,
		readonly data: LibraryLoadErrorData,
	) {
		super(message);
	}
}

const MACRO_KINDS: readonly string[] = ['inline', 'attribute', 'derive'];
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Loads libraries and keeps each loaded one for as long as the host lives. */
export class LibraryLoader {
	private readonly loaded = new Map<string, LoadedLibrary>();
	// Ids dlopen has seen. dlopen returns the resident copy for a path it already opened, even after
	// the file changed, so a second load of such an id goes through a fresh temporary copy.
	private readonly opened = new Set<string>();

	/** Loads `path` (relative to the working directory), or returns the cached library when the file is unchanged. */
	load(path: string): LoadedLibrary {
		const fail = loadFailure(path);
		const absolute = resolve(path);
		let stats: Stats;
		try {
			stats = statSync(absolute);
		} catch (error) {
			return failToStat(fail, error);
		}
		if (!stats.isFile()) return fail('notALibrary', 'not a loadable shared library (it is not a regular file)');
		const id = realpathSync(absolute);
		const fingerprint = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
		const cached = this.loaded.get(id);
		if (cached && cached.fingerprint === fingerprint) return cached;

		const handle = this.open(id, fail);
		const bound = bindFunctions(handle);
		if ('missing' in bound) {
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
		const library: LoadedLibrary = {
			id,
			fingerprint,
			functions: bound,
			macros: new Map(manifest.map((m) => [macroKey(m.kind, m.name), toEntry(m)])),
			info: {
				library: id,
				abiVersion: actual,
				sandbox: 'native',
				hasPostProcess: bound.postProcess !== undefined,
				macros: manifest,
			},
		};
		this.loaded.set(id, library);
		return library;
	}

	private open(id: string, fail: LoadFailure): ReturnType<typeof koffi.load> {
		let loadPath = id;
		let tempDir: string | undefined;
		if (this.opened.has(id)) {
			tempDir = mkdtempSync(join(tmpdir(), 'macro-host-'));
			loadPath = join(tempDir, basename(id));
			copyFileSync(id, loadPath);
		}
		try {
			const handle = koffi.load(loadPath);
			this.opened.add(id);
			return handle;
		} catch (error) {
			const detail = (error as Error).message.replace(/^Failed to load shared library: /, '');
			return fail('notALibrary', `not a loadable shared library (${detail})`);
		} finally {
			// The mapping outlives the file, so the copy can go at once.
			if (tempDir) rmSync(tempDir, { recursive: true, force: true });
		}
	}
}

/** The callable entry of a manifest macro. */
export function toEntry(m: MacroInfo): MacroEntry {
	const abiKind = m.kind === 'inline' ? 0 : m.kind === 'attribute' ? 1 : 2;
	return { ...m, abiKind, nameBytes: Buffer.from(m.name, 'utf8') };
}

/** Reads and checks the manifest; returns the macros, or a sentence saying what is wrong with it. */
function readManifest(functions: LibraryFunctions): MacroInfo[] | string {
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

/** Checks a manifest's JSON text; returns the macros, or a sentence saying what is wrong with it. */
export function parseManifest(text: string): MacroInfo[] | string {
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch (error) {
		return `is not valid JSON (${(error as Error).message})`;
	}
	if (!Array.isArray(parsed)) return `must be a JSON array of macros, got ${describeJson(parsed)}`;
	const seen = new Set<string>();
	const macros: MacroInfo[] = [];
	for (let i = 0; i < parsed.length; i++) {
		const entry = parsed[i] as { name?: unknown; kind?: unknown; doc?: unknown } | null;
		if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
			return `entry ${i} must be an object {name, kind, doc}, got ${describeJson(entry)}`;
		}
		if (typeof entry.name !== 'string' || entry.name === '') {
			return `entry ${i}: "name" must be a non-empty string, got ${describeJson(entry.name)}`;
		}
		if (typeof entry.kind !== 'string' || !MACRO_KINDS.includes(entry.kind)) {
			return `entry ${i} (${entry.name}): "kind" must be "inline", "attribute" or "derive", got ${describeJson(entry.kind)}`;
		}
		if (entry.doc !== undefined && typeof entry.doc !== 'string') {
			return `entry ${i} (${entry.name}): "doc" must be a string, got ${describeJson(entry.doc)}`;
		}
		const kind = entry.kind as MacroKind;
		const key = macroKey(kind, entry.name);
		if (seen.has(key)) return `lists the ${kind} macro ${entry.name} twice`;
		seen.add(key);
		macros.push({ name: entry.name, kind, doc: entry.doc ?? '' });
	}
	return macros;
}

function describeJson(value: unknown): string {
	const text = JSON.stringify(value);
	return text === undefined ? 'nothing' : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
