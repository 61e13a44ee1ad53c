/**
 * The identity of a library file: the sha256 of its bytes. Hashed once per process and file version
 * (path, inode, size, mtime): a build asks for it once per library, a long-lived client again only
 * after the file changed.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

const known = new Map<string, { version: string; hash: string }>();

/** The sha256 (hex) of a file's bytes. Rejects with the file system's error when it cannot be read. */
export async function hashLibraryFile(path: string): Promise<string> {
	const stats = await stat(path);
	const version = `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
	const cached = known.get(path);
	if (cached?.version === version) return cached.hash;
	const hash = createHash('sha256');
	for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
	const digest = hash.digest('hex');
	known.set(path, { version, hash: digest });
	return digest;
}
