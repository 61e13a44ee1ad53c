/**
 * A cache entry: one call's result with its spans relative to the call (relative-spans.ts), as one
 * JSON text. Records travel as base64 of their little-endian u32 bytes, so an entry of 100,000
 * tokens is one string, not 600,000 numbers. Aux data is kept as the macro attached it, so the
 * post-process step sees the same aux data whether a call hit or not.
 */
import type { Diagnostic, ExpandResult, Outcome } from '../../protocol/expand.js';
import { RECORD_WIDTH } from '../../protocol/token-stream.js';
import { CACHE_FORMAT_VERSION } from './call-key.js';
import { shiftDiagnostics, shiftRecords } from './relative-spans.js';

/** The stored form of an ExpandResult. */
interface StoredEntry {
	v: number;
	outcome: Outcome;
	tokens?: { text: string; records: string };
	diagnostics: Diagnostic[];
	auxData?: unknown;
}

/** The entry of `result` for a call starting at `base`; undefined when its spans cannot be made relative. */
export function encodeEntry(result: ExpandResult, base: number): Buffer | undefined {
	const diagnostics = shiftDiagnostics(result.diagnostics, base, -1);
	if (diagnostics === undefined) return undefined;
	const entry: StoredEntry = { v: CACHE_FORMAT_VERSION, outcome: result.outcome, diagnostics };
	if (result.tokens !== undefined) {
		const records = shiftRecords(result.tokens.records, base, -1);
		if (records === undefined) return undefined;
		entry.tokens = { text: result.tokens.text, records: Buffer.from(records.buffer, records.byteOffset, records.byteLength).toString('base64') };
	}
	if (result.auxData !== undefined) entry.auxData = result.auxData;
	return Buffer.from(JSON.stringify(entry), 'utf8');
}

/**
 * The result an entry holds, its spans moved to a call starting at `base`. Throws an Error naming
 * what is wrong when the bytes are not an entry of this format (a corrupted or foreign file).
 */
export function decodeEntry(bytes: Uint8Array, base: number): ExpandResult {
	let entry: StoredEntry;
	try {
		entry = JSON.parse(Buffer.from(bytes).toString('utf8')) as StoredEntry;
	} catch (error) {
		throw new Error(`the entry is not JSON (${(error as Error).message})`);
	}
	if (entry === null || typeof entry !== 'object' || entry.v !== CACHE_FORMAT_VERSION) throw new Error(`the entry is not of cache format ${CACHE_FORMAT_VERSION}`);
	if (!['leave', 'replace', 'remove'].includes(entry.outcome)) throw new Error(`the entry has outcome ${JSON.stringify(entry.outcome)}, which is never stored`);
	if (!Array.isArray(entry.diagnostics)) throw new Error('the entry has no diagnostics list');
	const diagnostics = shiftDiagnostics(entry.diagnostics, base, 1);
	if (diagnostics === undefined) throw new Error('a diagnostic span of the entry cannot be moved to this call');
	const result: ExpandResult = { outcome: entry.outcome, diagnostics };
	if (entry.tokens !== undefined) {
		if (typeof entry.tokens.text !== 'string' || typeof entry.tokens.records !== 'string') throw new Error('the entry has malformed tokens');
		const raw = Buffer.from(entry.tokens.records, 'base64');
		if (raw.byteLength % (RECORD_WIDTH * 4) !== 0) throw new Error('the entry has a token record of the wrong size');
		// Copied into a fresh buffer: Buffer.from may hand back a slice of a shared pool at any alignment.
		const aligned = new Uint32Array(raw.byteLength / 4);
		new Uint8Array(aligned.buffer).set(raw);
		const records = shiftRecords(aligned, base, 1);
		if (records === undefined) throw new Error('a token span of the entry cannot be moved to this call');
		result.tokens = { text: entry.tokens.text, records };
	}
	if ('auxData' in entry) result.auxData = entry.auxData;
	return result;
}
