/**
 * The expand answers the client makes itself, never the host: outcome bail with one error
 * diagnostic, for a crash, a timeout, the memory limit, a quarantined macro, a host that is gone
 * for good, or an answer whose tokens the transport could not read back. The text comes from
 * messages.ts.
 */
import type { Diagnostic, DiagnosticCode, ExpandResult, Span } from '../protocol/expand.js';
import type { UnreadableAnswer } from './bulk-channel.js';
import { unreadableAnswerMessage } from './messages.js';

/** A bail with one error diagnostic, at `span` when given. */
export function bailResult(code: DiagnosticCode, message: string, span: Span | undefined): ExpandResult {
	const diagnostic: Diagnostic = { severity: 'error', code, message };
	if (span !== undefined) diagnostic.span = span;
	return { outcome: 'bail', diagnostics: [diagnostic] };
}

/** The bail for an answer whose tokens could not be read back: the macro's own diagnostics, then a bad-result one saying why. */
export function unreadableAnswerBail(answer: UnreadableAnswer): ExpandResult {
	const diagnostic: Diagnostic = { severity: 'error', code: 'bad-result', message: unreadableAnswerMessage(answer.problem) };
	return { outcome: 'bail', diagnostics: [...answer.diagnostics, diagnostic] };
}
