/**
 * The checks of a library's result, for every kind of library: how big it may be, the span checks the
 * token-stream validator does not make, and the `bad-result` answer when a check fails.
 * Sizes come from library memory the host cannot trust: they are checked before anything is read,
 * so a garbage length (2^40 tokens at a 24-byte buffer) is a bad result, never a read past the end
 * of the library's memory or an allocation that takes the host down.
 */
import { Severity, type Diagnostic, type DiagnosticCode, type Span } from '../protocol/expand.js';
import { RECORD_WIDTH, RecordField, SPAN_CALL_SITE, validateTokenStream } from '../protocol/token-stream.js';
import type { Expansion } from './library-model.js';

/**
 * The most output text, aux data or diagnostic message one result may hold, in bytes: 64 MiB.
 * Far beyond real code, and small enough that the reply still encodes within the host's memory.
 */
export const MAX_RESULT_TEXT_BYTES = 64 * 1024 * 1024;

/** The most output tokens one result may hold: 2^21 (about two million; 48 MiB of records). */
export const MAX_RESULT_TOKENS = 2 * 1024 * 1024;

/** The most diagnostics one result may hold. */
export const MAX_RESULT_DIAGNOSTICS = 100_000;

/**
 * The deepest nesting of arrays and objects aux data may have. JSON.parse takes any depth, but the
 * reply's encoder (JSON.stringify, msgpack) recurses once per level and overflows the stack near
 * ten thousand: deeper data would fail the whole request instead of answering the call.
 */
export const MAX_AUX_DATA_DEPTH = 1000;

/** A library's aux data text parsed as JSON, or why it is not acceptable (`who` names the macro). */
export function parseAuxData(text: string, who: string): { value: unknown } | string {
	const depth = jsonDepth(text, MAX_AUX_DATA_DEPTH);
	if (depth > MAX_AUX_DATA_DEPTH) return `${who} returned aux data nested more than ${MAX_AUX_DATA_DEPTH} levels deep, more than aux data may be`;
	try {
		return { value: JSON.parse(text) as unknown };
	} catch (error) {
		return `${who} returned aux data that is not valid JSON (${(error as Error).message})`;
	}
}

/** The greatest bracket depth of JSON text (brackets inside strings do not count); stops once past `max`. */
function jsonDepth(text: string, max: number): number {
	let depth = 0;
	let deepest = 0;
	let inString = false;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (inString) {
			if (c === 0x5c) i++; // A backslash escapes the next character, a quote included.
			else if (c === 0x22) inString = false;
		} else if (c === 0x22) {
			inString = true;
		} else if (c === 0x5b || c === 0x7b) {
			depth++;
			if (depth > deepest) {
				deepest = depth;
				if (deepest > max) return deepest;
			}
		} else if (c === 0x5d || c === 0x7d) {
			depth--;
		}
	}
	return deepest;
}

/** Why `count` items (tokens, diagnostics, bytes) are more than `max`, or undefined when they fit. */
export function checkResultSize(subject: string, count: number, unit: string, max: number): string | undefined {
	if (count <= max) return undefined;
	return `${subject} has ${count} ${unit}, more than the ${max} a result may hold`;
}

/**
 * Why a span from a library is not one, or undefined when it is: a range that ends before it
 * starts, or one with only one end at MH_SPAN_CALL_SITE (a generated token has both).
 */
export function checkSpan(start: number, end: number, who: string): string | undefined {
	const startsAtCallSite = start === SPAN_CALL_SITE;
	if (startsAtCallSite !== (end === SPAN_CALL_SITE)) {
		return `${who} has span ${spanText(start)}..${spanText(end)}: only one end is the call site (0xFFFFFFFF), a generated token has both`;
	}
	if (!startsAtCallSite && end < start) return `${who} has span ${start}..${end}, which ends before it starts`;
	return undefined;
}

/** The first token of `records` whose span is not one (see checkSpan), as a sentence. */
export function checkTokenSpans(records: Uint32Array, what: string): string | undefined {
	// Constants in locals: imported bindings and namespace members are loads on every iteration.
	const width = RECORD_WIDTH;
	const startAt = RecordField.spanStart;
	const endAt = RecordField.spanEnd;
	const callSite = SPAN_CALL_SITE;
	const n = records.length;
	for (let i = 0; i < n; i += width) {
		const start = records[i + startAt];
		const end = records[i + endAt];
		// The common cases first, without a call: a real range, or a generated token.
		if (start <= end && (end !== callSite || start === callSite)) continue;
		const problem = checkSpan(start, end, `${what}: token ${i / RECORD_WIDTH}`);
		if (problem !== undefined) return problem;
	}
	return undefined;
}

function spanText(n: number): string {
	return n === SPAN_CALL_SITE ? 'call-site' : String(n);
}

/** What is wrong with a library's output records (kinds, text ranges, spans), or undefined when they are sound. */
export function checkOutput(records: Uint32Array, textBytes: number, who: string): string | undefined {
	return validateTokenStream({ text: '', records }, textBytes, `${who} output`) ?? checkTokenSpans(records, `${who} output`);
}

/** A string read out of a result: its text, or why it cannot be used. */
export type TextRead = { text: string; error?: undefined } | { text?: undefined; error: string };

/** Why a string of `len` bytes at a pointer that `isNull` is not readable (NULL with a length, too long), or undefined. */
export function checkStringSize(isNull: boolean, len: number, what: string): string | undefined {
	if (len === 0) return undefined;
	if (isNull) return `${what} is NULL with length ${len}`;
	return checkResultSize(what, len, 'bytes', MAX_RESULT_TEXT_BYTES);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a string of a result as UTF-8; any failure (bad UTF-8, a string the engine cannot build) is a problem, never a throw. */
export function decodeResultText(bytes: Uint8Array, what: string): TextRead {
	try {
		return { text: utf8.decode(bytes) };
	} catch (error) {
		if (error instanceof TypeError) return { error: `${what} is not valid UTF-8` };
		return { error: `${what} cannot be decoded (${(error as Error).message})` };
	}
}

/** One diagnostic as a library wrote it: raw fields, and the message read on demand (after its size was checked). */
export interface RawDiagnosticRecord {
	severity: number;
	start: number;
	end: number;
	messageLength: number;
	/** Reads the message; `what` names it in a problem ("... diagnostic 3 message"). */
	readMessage(what: string): TextRead;
}

/**
 * Checks and converts the diagnostics of a result, for every backend: their count, each severity
 * and span, each message, and the bytes of all messages together (at most MAX_RESULT_TEXT_BYTES,
 * so many diagnostics cannot multiply one large message). Returns the diagnostics or the problem.
 */
export function checkDiagnostics(count: number, isNull: boolean, who: string, record: (index: number) => RawDiagnosticRecord): Diagnostic[] | string {
	if (count === 0) return [];
	if (isNull) return `${who} returned ${count} diagnostics at a NULL pointer`;
	const tooMany = checkResultSize(`${who} result`, count, 'diagnostics', MAX_RESULT_DIAGNOSTICS);
	if (tooMany !== undefined) return tooMany;
	const diagnostics: Diagnostic[] = [];
	let messageBytes = 0;
	for (let i = 0; i < count; i++) {
		const d = record(i);
		const severity = Severity.fromAbi[d.severity];
		if (severity === undefined) return `${who} returned diagnostic ${i} with unknown severity ${d.severity}`;
		const badSpan = checkSpan(d.start, d.end, `${who} diagnostic ${i}`);
		if (badSpan !== undefined) return badSpan;
		const what = `${who} diagnostic ${i} message`;
		const ownSize = checkStringSize(false, d.messageLength, what);
		if (ownSize !== undefined) return ownSize;
		messageBytes += d.messageLength;
		const tooLong = checkResultSize(`${who} result's diagnostic messages (up to diagnostic ${i})`, messageBytes, 'bytes', MAX_RESULT_TEXT_BYTES);
		if (tooLong !== undefined) return tooLong;
		const message = d.readMessage(what);
		if (message.error !== undefined) return message.error;
		const diagnostic: Diagnostic = { severity, message: message.text };
		const span = toSpan(d.start, d.end);
		if (span) diagnostic.span = span;
		diagnostics.push(diagnostic);
	}
	return diagnostics;
}

/** A checked span, or undefined for the call site (MH_SPAN_CALL_SITE). */
function toSpan(start: number, end: number): Span | undefined {
	if (start === SPAN_CALL_SITE) return undefined;
	return { start, end };
}

/** A diagnostic the host makes about a result (code `bad-result` unless told). */
export function badResult(message: string, severity: Severity = 'error', code: DiagnosticCode = 'bad-result'): Diagnostic {
	return { severity, message, code };
}

/** The answer to a call whose result the host cannot use: outcome "bail", saying why. */
export function bail(problem: string): Expansion {
	return { outcome: 'bail', diagnostics: [badResult(`bad result: ${problem}`)] };
}
