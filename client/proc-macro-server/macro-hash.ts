/**
 * The u64 numbers the language server keys its caches with: a package's hash (MacroWithHash.hash), and the
 * fingerprint of a result. The protocol sends them as JSON numbers, so they are kept below 2^53, where a JavaScript
 * number is exact: a 53-bit number is a valid u64 and is read back unchanged.
 *
 * A package's hash changes when its library file or its identity changes, as Scarb's plugin fingerprint does (that
 * one hashes the library bytes, the package id and whether it is prebuilt). The values differ from Scarb's; the
 * language server only compares them.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** The hash of a macro package: its serialized id and its library's bytes. */
export async function packageHash(serializedId: string, libraryPath: string): Promise<number> {
	const hash = createHash('sha256').update(serializedId).update('\0').update(await readFile(libraryPath));
	return first53Bits(hash.digest());
}

/** A derive call's fingerprint: the hashes of its derives, taken in the (sorted) order the call names them. */
export function combinedFingerprint(hashes: readonly number[]): number {
	const hash = createHash('sha256');
	for (const h of hashes) hash.update(`${h};`);
	return first53Bits(hash.digest());
}

function first53Bits(digest: Buffer): number {
	// 21 high bits from the first word and 32 from the second make 53.
	return (digest.readUInt32BE(0) >>> 11) * 2 ** 32 + digest.readUInt32BE(4);
}
