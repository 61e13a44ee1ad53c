/**
 * Turns a TokenStream back into readable source text.
 *
 * Tokens are separated by one space unless the first is JOINT (then by nothing), so tokenizing the
 * printed text gives back the same tokens and flags. With `layout` on (the default) some of those
 * spaces become line breaks plus indentation: after `{`, after `;` at block level, before and after
 * `}`, and after an attribute `#[…]`. Line breaks only ever replace a space, never a joint boundary,
 * so layout does not change what the text tokenizes to.
 *
 * Records may point anywhere into their text (the tokenizer's text is the whole source; the host's
 * output text is compact), so each token's text is read through its offset and length.
 */
import { RECORD_WIDTH, RecordField, TokenFlags, TokenKind, tokenCount, type TokenStream } from '../protocol/token-stream.js';
import { TokenTextReader } from './token-text.js';

/** Options of {@link printTokens}. */
export interface PrintOptions {
	/**
	 * Break lines and indent around braces, semicolons and attributes; false prints one line.
	 * @default true
	 */
	readonly layout?: boolean;
	/**
	 * One level of indentation.
	 * @default '    '
	 */
	readonly indent?: string;
}

/** Prints `stream` as source text, without a trailing newline. */
export function printTokens(stream: TokenStream, options: PrintOptions = {}): string {
	const layout = options.layout ?? true;
	const indentUnit = options.indent ?? '    ';
	const reader = new TokenTextReader(stream);
	const r = stream.records;
	const n = tokenCount(stream);
	const out: string[] = [];
	// Open delimiters; '#[' marks an attribute's bracket, so its `]` can end the line.
	const open: string[] = [];
	let depth = 0;
	let atLineStart = true;
	let text = n > 0 ? reader.text(0) : '';
	for (let i = 0; i < n; i++) {
		const o = i * RECORD_WIDTH;
		const isPunct = r[o + RecordField.kind] === TokenKind.punct;
		const next = i + 1 < n ? reader.text(i + 1) : undefined;
		const isJoint = (r[o + RecordField.flags] & TokenFlags.joint) !== 0;
		if (isPunct && text === '}') depth = Math.max(0, depth - 1);
		if (atLineStart && i > 0) out.push(indentUnit.repeat(depth));
		out.push(text);
		atLineStart = false;

		let breakAfter = false;
		if (isPunct) {
			switch (text) {
				case '{':
					depth++;
					open.push('{');
					breakAfter = next !== '}';
					break;
				case '(':
					open.push('(');
					break;
				case '[':
					open.push(i > 0 && isAttributeStart(reader, r, i) ? '#[' : '[');
					break;
				case ')':
					open.pop();
					break;
				case ']':
					breakAfter = open.pop() === '#[';
					break;
				case '}':
					open.pop();
					breakAfter = next === undefined || !STAYS_AFTER_BRACE.has(next);
					break;
				case ';':
					breakAfter = open.length === 0 || open[open.length - 1] === '{';
					break;
			}
		}
		if (next !== undefined) {
			// A `}` starts its own line, unless its block is empty (`{}`).
			if (!breakAfter && layout && next === '}' && text !== '{' && r[o + RECORD_WIDTH] === TokenKind.punct) {
				breakAfter = true;
			}
			if (isJoint) {
				// Nothing between joint tokens, not even a line break.
			} else if (layout && breakAfter) {
				out.push('\n');
				atLineStart = true;
			} else {
				out.push(' ');
			}
			text = next;
		}
	}
	return out.join('');
}

// Tokens that stay on the line of a `}` before them: `};`, `},`, `})`, `} else`.
const STAYS_AFTER_BRACE = new Set([';', ',', ')', ']', '.', '?', 'else']);

/** Whether the `[` at index i opens an attribute: `#[` or `#![`. */
function isAttributeStart(reader: TokenTextReader, r: TokenStream['records'], i: number): boolean {
	const prev = reader.text(i - 1);
	if (r[(i - 1) * RECORD_WIDTH] !== TokenKind.punct) return false;
	if (prev === '#') return true;
	return prev === '!' && i > 1 && reader.text(i - 2) === '#';
}
