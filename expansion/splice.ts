/**
 * Applies a file's edits to its source text. Everything outside an edit is copied byte for byte,
 * comments and layout included; an expansion is printed with the token printer and indented like the
 * line it lands on; a deletion that leaves a line empty takes the line with it.
 */
import type { TokenStream } from '../protocol/token-stream.js';
import { printTokens } from '../tokens/token-printer.js';
import type { TokenCursor } from './token-cursor.js';

/**
 * Replaces tokens [from, to) by `tokens` (undefined deletes them). An edit with from === to inserts
 * `tokens` on a new line after token `from - 1` (a derive's output after its item).
 */
export interface Edit {
	readonly from: number;
	readonly to: number;
	readonly tokens: TokenStream | undefined;
	/** Print with line breaks and indentation (an expansion), or on one line (a rewritten attribute). */
	readonly layout: boolean;
}

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;

/** The source with `edits` (sorted, not overlapping, token indices of `cursor`'s stream) applied. */
export function spliceSource(source: string, cursor: TokenCursor, edits: readonly Edit[]): string {
	if (edits.length === 0) return source;
	const bytes = Buffer.from(source, 'utf8');
	const out: string[] = [];
	let at = 0;
	for (const edit of edits) {
		const isInsertion = edit.from === edit.to;
		// The tokenizer's text is the source itself, so a token's text offset is its byte offset in the file.
		let start = isInsertion ? cursor.textEnd(edit.from - 1) : cursor.textStart(edit.from);
		let end = isInsertion ? start : cursor.textEnd(edit.to - 1);
		let text = '';
		if (edit.tokens === undefined) {
			[start, end] = widenToWholeLines(bytes, start, end, at);
		} else {
			const indent = lineIndent(bytes, start);
			const printed = printTokens(edit.tokens, { layout: edit.layout }).replaceAll('\n', `\n${indent}`);
			text = isInsertion ? (printed === '' ? '' : `\n${indent}${printed}`) : printed;
		}
		out.push(bytes.toString('utf8', at, start), text);
		at = end;
	}
	out.push(bytes.toString('utf8', at));
	return out.join('');
}

/** The spaces and tabs that start the line holding byte `offset`. */
function lineIndent(bytes: Buffer, offset: number): string {
	let lineStart = offset;
	while (lineStart > 0 && bytes[lineStart - 1] !== LF) lineStart--;
	let i = lineStart;
	while (i < bytes.length && (bytes[i] === SPACE || bytes[i] === TAB)) i++;
	return bytes.toString('utf8', lineStart, i);
}

/**
 * When [start, end) is alone on its line(s), only blanks around it, the range grown to the whole
 * lines with their line break, so a deletion leaves no empty line; otherwise the range unchanged.
 * Never reaches back before `floor` (text already copied).
 */
function widenToWholeLines(bytes: Buffer, start: number, end: number, floor: number): [number, number] {
	let lineStart = start;
	while (lineStart > floor && (bytes[lineStart - 1] === SPACE || bytes[lineStart - 1] === TAB)) lineStart--;
	if (lineStart > 0 && bytes[lineStart - 1] !== LF) return [start, end];
	let lineEnd = end;
	while (lineEnd < bytes.length && (bytes[lineEnd] === SPACE || bytes[lineEnd] === TAB || bytes[lineEnd] === CR)) lineEnd++;
	if (lineEnd < bytes.length && bytes[lineEnd] !== LF) return [start, end];
	return [lineStart, Math.min(lineEnd + 1, bytes.length)];
}
