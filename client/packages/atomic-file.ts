/**
 * Writing into the shared cache so that a concurrent reader (another build of the same package) never sees half a
 * file: write or copy beside the final name, then rename onto it.
 */
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Copies `artifact` to `target` atomically: readers see no file or a complete one. */
export function publishFile(artifact: string, target: string): void {
	mkdirSync(dirname(target), { recursive: true });
	const temp = tempName(target);
	try {
		copyFileSync(artifact, temp);
		renameSync(temp, target);
	} catch (error) {
		rmSync(temp, { force: true });
		throw error;
	}
}

/** Writes `text` unless the file already holds it (atomically, since a concurrent build may read it). */
export function writeIfChanged(file: string, text: string): void {
	try {
		if (readFileSync(file, 'utf8') === text) return;
	} catch {
		// Not there yet.
	}
	mkdirSync(dirname(file), { recursive: true });
	const temp = tempName(file);
	writeFileSync(temp, text);
	renameSync(temp, file);
}

/** A name beside `path` that no other process picks. */
export function tempName(path: string): string {
	return `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
}

/** The pid in a name made by {@link tempName} (`<name>.<pid>.<random>.tmp`), else undefined. */
export function tempOwner(name: string): number | undefined {
	const match = /\.(\d+)\.[0-9a-z]*\.tmp$/.exec(name);
	return match ? Number(match[1]) : undefined;
}
