/**
 * Record arrays for small token streams, carved out of shared slabs, as Node's Buffer pool does for
 * small Buffers. A `new Uint32Array(n)` above 16 elements gets its own zeroed off-heap backing store
 * (about 2 µs, and work for the collector when it dies); a macro call's arguments and output are a
 * few dozen records, so a driver expanding a file made several such arrays per call. A view into a
 * slab costs a small heap object.
 *
 * The views share their slab's ArrayBuffer: never transfer `records.buffer` of a stream (postMessage)
 * nor read it without `byteOffset`. A slab lives as long as any view into it.
 */

/** Arrays up to this many u32 come from a slab; larger ones get their own memory. */
const POOLED_MAX = 1024;
/** Each slab: 64 KiB. */
const SLAB_WORDS = 16 * 1024;

let slab = new Uint32Array(SLAB_WORDS);
let used = 0;

/** A zeroed Uint32Array of `length` elements: a view into a shared slab when small, else its own. */
export function allocRecords(length: number): Uint32Array {
	if (length > POOLED_MAX) return new Uint32Array(length);
	if (used + length > SLAB_WORDS) {
		slab = new Uint32Array(SLAB_WORDS);
		used = 0;
	}
	const view = slab.subarray(used, used + length);
	used += length;
	return view;
}

/** A copy of `source[from, to)` in pooled memory (see {@link allocRecords}). */
export function copyRecords(source: Uint32Array, from: number, to: number): Uint32Array {
	const copy = allocRecords(to - from);
	copy.set(source.subarray(from, to));
	return copy;
}
