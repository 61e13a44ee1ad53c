/**
 * The cache key of one macro call: a sha256 over everything the result may depend on, and nothing
 * that changes when the same code moves.
 *
 * - the library: a hash of its file's bytes, its ABI and ABI version, and its fingerprint when it
 *   declares one (mh_fingerprint, Scarb's fingerprint_v2);
 * - the macro: its kind and name (the derive names, in order, for a derive call);
 * - the input: each stream's text and records, spans made relative to the call's start
 *   (relative-spans.ts), and the call site's length.
 *
 * Records are hashed as their bytes (one copy of the u32 array), never token by token.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Span } from '../../protocol/expand.js';
import type { LibraryAbi, MacroKind } from '../../protocol/library.js';
import type { TokenStream } from '../../protocol/token-stream.js';
import { shiftRecords } from './relative-spans.js';

/** Bumped when the key or the entry format changes, so old entries are never read as new ones. */
export const CACHE_FORMAT_VERSION = 1;

/** What identifies a library's behaviour. */
export interface LibraryIdentity {
	/** sha256 (hex) of the library file's bytes. */
	readonly fileHash: string;
	readonly abi: LibraryAbi;
	readonly abiVersion: number;
	/** The library's fingerprint (a u64 as decimal), when it declares one. */
	readonly fingerprint?: string;
}

/** One macro call as the key sees it. */
export interface KeyedCall {
	readonly kind: MacroKind;
	/** The macro name; for a derive call, the derive names in order. */
	readonly names: readonly string[];
	/** The arguments (inline and attribute calls). */
	readonly args?: TokenStream;
	/** The item (attribute and derive calls). */
	readonly item?: TokenStream;
	/** The call site; its start is the base of every relative span. */
	readonly callSite: Span;
}

/** The sha256 (hex) key of a call; undefined when its spans cannot be made relative (see relative-spans.ts). */
export function callKey(library: LibraryIdentity, call: KeyedCall): string | undefined {
	const hash = createHash('sha256');
	hash.update(
		JSON.stringify({
			v: CACHE_FORMAT_VERSION,
			library: library.fileHash,
			abi: library.abi,
			abiVersion: library.abiVersion,
			fingerprint: library.fingerprint ?? null,
			kind: call.kind,
			names: call.names,
			callSiteLength: call.callSite.end - call.callSite.start,
		}),
	);
	const base = call.callSite.start;
	for (const stream of [call.args, call.item]) {
		if (!hashStream(hash, stream, base)) return undefined;
	}
	return hash.digest('hex');
}

function hashStream(hash: Hash, stream: TokenStream | undefined, base: number): boolean {
	if (stream === undefined) {
		hash.update('\0none');
		return true;
	}
	const records = shiftRecords(stream.records, base, -1);
	if (records === undefined) return false;
	const text = Buffer.from(stream.text, 'utf8');
	// Lengths first, so that no two different streams hash the same bytes.
	hash.update(`\0stream:${text.length}:${records.length}\0`);
	hash.update(text);
	hash.update(new Uint8Array(records.buffer, records.byteOffset, records.byteLength));
	return true;
}
