import { copyFileSync, mkdtempSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MacroHostErrorCodes } from '../../dist/protocol/errors.js';
import { LibraryLoader } from '../../dist/server/library-loader.js';
import type { LoadedLibrary } from '../../dist/server/library-model.js';
import { LibraryLoadError } from '../../dist/server/load-errors.js';
import { WasmSandbox } from '../../dist/server/wasm/sandbox.js';
import { fixture } from './harness.js';

/** A loader of a session of its own (its wasm sandbox starts no worker until a module is loaded). */
function newLoader(): LibraryLoader {
	return new LibraryLoader({ sandbox: new WasmSandbox() });
}

/** Loads a native library, which loads at once. */
function loadNow(loader: LibraryLoader, path: string): LoadedLibrary {
	return loader.load(path) as LoadedLibrary;
}

/** Loads `path` with a fresh loader and returns the error it must fail with. */
function loadError(path: string, loader = newLoader()): LibraryLoadError {
	try {
		loader.load(path);
	} catch (error) {
		expect(error).toBeInstanceOf(LibraryLoadError);
		return error as LibraryLoadError;
	}
	throw new Error(`${path} loaded but should not have`);
}

const LOAD_FAILED = MacroHostErrorCodes.LibraryLoadFailed;

describe('LibraryLoader load checks', () => {
	it('says the file does not exist', () => {
		const path = fixture('no-such-library.so');
		const error = loadError(path);
		expect(error.message).toBe(`cannot load macro library ${path}: the file does not exist`);
		expect(error.code).toBe(LOAD_FAILED);
		expect(error.data).toEqual({ path, reason: 'notFound' });
	});

	it('refuses a directory', () => {
		const path = fixture('');
		const error = loadError(path);
		expect(error.message).toBe(`cannot load macro library ${path}: not a loadable shared library (it is not a regular file)`);
		expect(error.data).toEqual({ path, reason: 'notALibrary' });
	});

	it('refuses a file that is not a shared library, with dlopen\'s reason', () => {
		const path = fixture('not-a-library.so');
		const error = loadError(path);
		expect(error.message).toBe(`cannot load macro library ${path}: not a loadable shared library (invalid ELF header)`);
		expect(error.code).toBe(LOAD_FAILED);
		expect(error.data).toEqual({ path, reason: 'notALibrary' });
	});

	it('names a missing required symbol', () => {
		const path = fixture('libc_missing_expand.so');
		const error = loadError(path);
		expect(error.message).toBe(`cannot load macro library ${path}: it does not export the required symbol mh_expand`);
		expect(error.code).toBe(LOAD_FAILED);
		expect(error.data).toEqual({ path, reason: 'missingSymbol', symbol: 'mh_expand' });
	});

	it('names what each ABI it knows was missing when a shared object speaks none of them', () => {
		const path = fixture('libc_no_abi.so');
		const error = loadError(path);
		expect(error.message).toMatch(new RegExp(`^cannot load macro library ${path.replace(/[.]/g, '\\.')}: it speaks no macro ABI this host knows \\(.*macro-host: no mh_abi_version.*\\)$`));
		expect(error.code).toBe(LOAD_FAILED);
		expect(error.data).toEqual({ path, reason: 'missingSymbol' });
	});

	it('refuses another ABI version, naming both versions', () => {
		const path = fixture('libc_abi_v2.so');
		const error = loadError(path);
		expect(error.message).toBe(
			`cannot load macro library ${path}: it was built for macro ABI version 2, but this host speaks version 1`,
		);
		expect(error.code).toBe(MacroHostErrorCodes.AbiMismatch);
		expect(error.data).toEqual({ path, reason: 'abiMismatch', actualAbiVersion: 2, expectedAbiVersion: 1 });
	});

	it('refuses a manifest that is not JSON', () => {
		const path = fixture('libc_bad_manifest.so');
		let parseMessage = '';
		try {
			JSON.parse('[{"name":"noop",');
		} catch (error) {
			parseMessage = (error as Error).message;
		}
		const error = loadError(path);
		expect(error.message).toBe(`cannot load macro library ${path}: its manifest (mh_manifest) is not valid JSON (${parseMessage})`);
		expect(error.data).toEqual({ path, reason: 'badManifest' });
	});

	it('refuses a manifest of the wrong shape', () => {
		const path = fixture('libc_bad_manifest_shape.so');
		const error = loadError(path);
		expect(error.message).toBe(
			`cannot load macro library ${path}: its manifest (mh_manifest) entry 0 (noop): "kind" must be "inline", "attribute" or "derive", got "function"`,
		);
		expect(error.code).toBe(LOAD_FAILED);
		expect(error.data).toEqual({ path, reason: 'badManifest' });
	});
});

describe('LibraryLoader loading', () => {
	const scratch = mkdtempSync(join(tmpdir(), 'macro-host-loader-test-'));
	afterAll(() => rmSync(scratch, { recursive: true, force: true }));

	it('loads a library: id is the canonical path, macros in manifest order', () => {
		const library = loadNow(newLoader(), fixture('libc_basic.so'));
		expect(library.id).toBe(realpathSync(fixture('libc_basic.so')));
		expect(library.info.abi).toBe('macro-host');
		expect(library.info.abiVersion).toBe(1);
		expect(library.info.sandbox).toBe('native');
		expect(library.info.hasPostProcess).toBe(true);
		expect(library.info.macros.map((m) => `${m.kind} ${m.name}`)).toEqual([
			'inline noop',
			'inline wrap',
			'inline remove',
			'inline bail',
			'inline aux',
			'attribute tag',
			'derive Named',
			'derive Hello',
			'inline bang_segv',
			'inline bang_abort',
			'inline bang_exit0',
			'inline bang_exit3',
			'inline bang_hang',
			'inline bang_prints_stdout',
		]);
		expect(library.info.macros[0]).toEqual({ name: 'noop', kind: 'inline', doc: 'Leaves the call unchanged.' });
	});

	it('reports a library without mh_post_process', () => {
		expect(loadNow(newLoader(), fixture('libc_edge.so')).info.hasPostProcess).toBe(false);
	});

	it('resolves relative paths against the working directory, and returns the cached copy for an unchanged file', () => {
		const loader = newLoader();
		const first = loadNow(loader, fixture('libc_basic.so'));
		const relative = join('test', 'fixtures', 'build', 'libc_basic.so');
		const previous = process.cwd();
		process.chdir(fileRoot());
		try {
			expect(loadNow(loader, relative)).toBe(first);
		} finally {
			process.chdir(previous);
		}
	});

	it('loads a fresh copy when the file changed, and refuses a changed file that no longer passes', () => {
		const loader = newLoader();
		const path = join(scratch, 'libchanging.so');
		const replaceWith = (name: string): void => {
			// Replace by rename, as a compiler does: the old mapping stays intact.
			copyFileSync(fixture(name), `${path}.tmp`);
			renameSync(`${path}.tmp`, path);
		};
		replaceWith('libc_basic.so');
		const first = loadNow(loader, path);
		expect(first.info.macros[0].name).toBe('noop');

		replaceWith('libc_edge.so');
		const second = loadNow(loader, path);
		expect(second).not.toBe(first);
		expect(second.id).toBe(first.id);
		expect(second.info.macros[0].name).toBe('edge_null_result');

		replaceWith('libc_abi_v2.so');
		const error = loadError(path, loader);
		expect(error.code).toBe(MacroHostErrorCodes.AbiMismatch);
	});
});

function fileRoot(): string {
	return realpathSync(new URL('../../', import.meta.url));
}

describe('C fixture build', () => {
	it('says to install gcc when it is missing', async () => {
		const { requireGcc } = await import('../fixtures/c/build.js');
		await expect(requireGcc({ PATH: '/nonexistent' })).rejects.toThrow(
			'gcc was not found on PATH; the C fixture macro libraries are compiled from source. ' +
				'Install gcc (e.g. `apt-get install gcc` or `xcode-select --install`) and run the tests again.',
		);
		await expect(requireGcc()).resolves.toBeUndefined();
	});
});
