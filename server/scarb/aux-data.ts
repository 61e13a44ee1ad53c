/**
 * Scarb aux data on our wire. A Scarb macro's aux data is opaque bytes (conventionally JSON, but
 * nothing says so), and its full-path markers are keys the compiler resolves to item paths; both go
 * out as an expansion's `auxData`, and the client hands that value back to `postProcess` for the
 * library, which rebuilds Scarb's StablePostProcessContext from it.
 */

/** The `auxData` of one Scarb expansion. */
export interface ScarbAuxData {
	/** The bytes, base64-encoded (exact, whatever they are); null when the macro attached none, only markers. */
	scarbAuxData: string | null;
	/** The full-path marker keys the macro returned. */
	fullPathMarkers: string[];
}

/** The auxData of a result, or undefined when it carries neither bytes nor markers. */
export function toAuxData(bytes: Buffer | undefined, markers: string[]): ScarbAuxData | undefined {
	if (bytes === undefined && markers.length === 0) return undefined;
	return { scarbAuxData: bytes === undefined ? null : bytes.toString('base64'), fullPathMarkers: markers };
}

/** What post-processing gets back from the values the client collected. */
export interface CollectedAuxData {
	data: Buffer[];
	markers: string[];
	/** Entries that are not Scarb aux data, by index: they are skipped with a warning. */
	foreign: number[];
}

/**
 * Gathers the entries of `values`: each is one expansion's auxData, or (from a request with several
 * derives) an array of them.
 */
export function collectAuxData(values: readonly unknown[]): CollectedAuxData {
	const collected: CollectedAuxData = { data: [], markers: [], foreign: [] };
	values.forEach((value, index) => {
		for (const entry of Array.isArray(value) ? value : [value]) {
			if (!isScarbAuxData(entry)) {
				collected.foreign.push(index);
				continue;
			}
			if (entry.scarbAuxData !== null) collected.data.push(Buffer.from(entry.scarbAuxData, 'base64'));
			collected.markers.push(...entry.fullPathMarkers);
		}
	});
	return collected;
}

function isScarbAuxData(value: unknown): value is ScarbAuxData {
	if (value === null || typeof value !== 'object') return false;
	const v = value as Partial<ScarbAuxData>;
	return (v.scarbAuxData === null || typeof v.scarbAuxData === 'string') && Array.isArray(v.fullPathMarkers) && v.fullPathMarkers.every((m) => typeof m === 'string');
}
