/** The Cairo sources of a project: every `.cairo` file under its `src/`, in one stable order. */
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** One source file of the project. */
export interface SourceFileEntry {
	/** Absolute path. */
	readonly path: string;
	/** Path relative to the project root, with `/` separators (`src/lib.cairo`): the sort key and the output path. */
	readonly relativePath: string;
}

/**
 * Every `.cairo` file under `<root>/src`, sorted by relative path (UTF-16 code units, the same on
 * every machine). A missing `src/` gives no files; symbolic links are not followed.
 */
export function findSourceFiles(root: string): SourceFileEntry[] {
	const found: SourceFileEntry[] = [];
	const walk = (dir: string): void => {
		let entries;
		try {
			entries = readdirSync(dir, { withFileTypes: true });
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return;
			throw error;
		}
		for (const entry of entries) {
			const path = join(dir, entry.name);
			if (entry.isDirectory()) walk(path);
			else if (entry.isFile() && entry.name.endsWith('.cairo')) found.push({ path, relativePath: relative(root, path).split(sep).join('/') });
		}
	};
	walk(join(root, 'src'));
	return found.sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
}
