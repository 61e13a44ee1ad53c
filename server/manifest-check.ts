/**
 * The check of a macro-host manifest (the JSON array mh_manifest returns, in a shared object or a
 * wasm module alike), and the callable entries made from it.
 */
import { MacroKind, type MacroInfo } from '../protocol/library.js';
import { macroKey, type MacroEntry } from './library-model.js';

/** The callable entry of a manifest macro. */
export function toEntry(m: MacroInfo, libraryName: string = m.name): MacroEntry {
	return { ...m, abiKind: MacroKind.toAbi(m.kind), nameBytes: Buffer.from(libraryName, 'utf8') };
}

/** The entries of a manifest, keyed by {@link macroKey}. */
export function toEntries(manifest: readonly MacroInfo[]): Map<string, MacroEntry> {
	return new Map(manifest.map((m) => [macroKey(m.kind, m.name), toEntry(m)]));
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
		if (!MacroKind.is(entry.kind)) {
			return `entry ${i} (${entry.name}): "kind" must be "inline", "attribute" or "derive", got ${describeJson(entry.kind)}`;
		}
		if (entry.doc !== undefined && typeof entry.doc !== 'string') {
			return `entry ${i} (${entry.name}): "doc" must be a string, got ${describeJson(entry.doc)}`;
		}
		const key = macroKey(entry.kind, entry.name);
		if (seen.has(key)) return `lists the ${entry.kind} macro ${entry.name} twice`;
		seen.add(key);
		macros.push({ name: entry.name, kind: entry.kind, doc: entry.doc ?? '' });
	}
	return macros;
}

function describeJson(value: unknown): string {
	const text = JSON.stringify(value);
	return text === undefined ? 'nothing' : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
