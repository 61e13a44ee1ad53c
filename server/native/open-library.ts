/**
 * Opens a shared object once with koffi, whatever ABI it speaks, so that the ABI probes
 * (library-kinds.ts) all look at the same handle.
 */
import koffi, { type LibraryHandle } from 'koffi';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { LoadFailure } from '../load-errors.js';

// Ids dlopen has seen. dlopen returns the resident copy for a path it already opened, even after the
// file changed, so a second load of such an id goes through a fresh temporary copy.
const opened = new Set<string>();

/** dlopens the library `id` (a canonical path), or fails with `notALibrary` saying why. */
export function openSharedObject(id: string, fail: LoadFailure): LibraryHandle {
	let loadPath = id;
	let tempDir: string | undefined;
	if (opened.has(id)) {
		tempDir = mkdtempSync(join(tmpdir(), 'macro-host-'));
		loadPath = join(tempDir, basename(id));
		copyFileSync(id, loadPath);
	}
	try {
		const handle = koffi.load(loadPath);
		opened.add(id);
		return handle;
	} catch (error) {
		const detail = (error as Error).message.replace(/^Failed to load shared library: /, '');
		return fail('notALibrary', `not a loadable shared library (${detail})`);
	} finally {
		// The mapping outlives the file, so the copy can go at once.
		if (tempDir) rmSync(tempDir, { recursive: true, force: true });
	}
}
