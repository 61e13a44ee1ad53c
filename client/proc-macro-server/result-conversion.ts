/**
 * From what a host answers (our ExpandResult) to the pieces of a ProcMacroResult: the generated code as one string
 * (the v1 form), its code mappings, and the diagnostics in the protocol's form.
 *
 * Our output tokens are lexer tokens with a JOINT flag; the string is each token's text followed by one space unless
 * it is joint or last, which is what `printTokens(stream, { layout: false })` prints, and each token with its space is
 * one piece of output for the code mappings. A generated token (span SPAN_CALL_SITE) comes from the call site.
 */
import type { Diagnostic as HostDiagnostic } from '../../protocol/expand.js';
import type { Diagnostic, TextSpan, TokenStreamV2 } from '../../protocol/proc-macro-server.js';
import { RECORD_WIDTH, RecordField, SPAN_CALL_SITE, TokenFlags, tokenCount, type TokenStream } from '../../protocol/token-stream.js';
import { TokenTextReader } from '../../tokens/token-text.js';
import type { OutputPieces } from './code-mappings.js';

/** Generated code and where each piece of it comes from. */
export interface GeneratedCode {
	/** The code, as the result's `token_stream.value`. */
	text: string;
	/** Its pieces, for the code mappings (widths in UTF-8 bytes). */
	pieces: OutputPieces;
}

/** No code at all. */
export const NO_CODE: GeneratedCode = { text: '', pieces: { widths: new Uint32Array(0), starts: new Uint32Array(0), ends: new Uint32Array(0) } };

/** The code of our output tokens; see the module comment. */
export function codeFromTokens(stream: TokenStream, callSite: TextSpan): GeneratedCode {
	const n = tokenCount(stream);
	const reader = new TokenTextReader(stream);
	const r = stream.records;
	const parts = new Array<string>(n);
	const widths = new Uint32Array(n);
	const starts = new Uint32Array(n);
	const ends = new Uint32Array(n);
	for (let i = 0; i < n; i++) {
		const o = i * RECORD_WIDTH;
		const spaced = i + 1 < n && (r[o + RecordField.flags] & TokenFlags.joint) === 0;
		const text = reader.text(i);
		parts[i] = spaced ? `${text} ` : text;
		widths[i] = r[o + RecordField.textLength] + (spaced ? 1 : 0);
		const isGenerated = r[o + RecordField.spanStart] === SPAN_CALL_SITE;
		starts[i] = isGenerated ? callSite.start : r[o + RecordField.spanStart];
		ends[i] = isGenerated ? callSite.end : r[o + RecordField.spanEnd];
	}
	return { text: parts.join(''), pieces: { widths, starts, ends } };
}

/** The code of a v2 stream as it came (an item kept as written): its contents back to back, each its own piece. */
export function codeFromInput(input: TokenStreamV2, joinedText: string): GeneratedCode {
	const n = input.tokens.length;
	const widths = new Uint32Array(n);
	const starts = new Uint32Array(n);
	const ends = new Uint32Array(n);
	for (let i = 0; i < n; i++) {
		const token = input.tokens[i].Ident;
		widths[i] = Buffer.byteLength(token.content, 'utf8');
		starts[i] = token.span.start;
		ends[i] = token.span.end;
	}
	return { text: joinedText, pieces: { widths, starts, ends } };
}

/**
 * Our diagnostics in the protocol's form. The protocol knows only errors and warnings: a note becomes a warning whose
 * message starts with "note: ". A diagnostic without a span points at the call site (span null), as in Scarb.
 */
export function toWireDiagnostics(diagnostics: readonly HostDiagnostic[]): Diagnostic[] {
	return diagnostics.map((d) => ({
		message: d.severity === 'note' ? `note: ${d.message}` : d.message,
		severity: d.severity === 'error' ? 'Error' : 'Warning',
		span: d.span === undefined ? null : { start: d.span.start, end: d.span.end },
	}));
}
