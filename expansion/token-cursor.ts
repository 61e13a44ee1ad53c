/**
 * Cheap questions about the tokens of one flat stream ("is token i the punct `#`?"), answered from
 * the records and the text's bytes without making a string per token: the call-site finder asks
 * them for every token of every file.
 */
import { RECORD_WIDTH, RecordField, SPAN_CALL_SITE, TokenKind, type TokenStream } from '../protocol/token-stream.js';
import type { Span } from '../protocol/expand.js';
import { textReader, type TokenTextReader } from '../tokens/token-text.js';

/** Character codes of the punctuation the finder looks for. */
export const Char = {
	hash: 0x23,
	bang: 0x21,
	comma: 0x2c,
	semicolon: 0x3b,
	colon: 0x3a,
	equals: 0x3d,
	openParen: 0x28,
	closeParen: 0x29,
	openBracket: 0x5b,
	closeBracket: 0x5d,
	openBrace: 0x7b,
	closeBrace: 0x7d,
} as const;

/** Read access to one stream's tokens. */
export class TokenCursor {
	/** Number of tokens. */
	readonly count: number;
	private readonly records: TokenStream['records'];
	private readonly bytes: Buffer | undefined;
	private readonly reader: TokenTextReader;

	constructor(readonly stream: TokenStream) {
		this.records = stream.records;
		this.count = (stream.records.length / RECORD_WIDTH) | 0;
		this.reader = textReader(stream);
		this.bytes = this.reader.bytes;
	}

	/** The character of a one-character punct token, else -1. */
	punct(i: number): number {
		if (i < 0 || i >= this.count) return -1;
		const o = i * RECORD_WIDTH;
		if (this.records[o + RecordField.kind] !== TokenKind.punct || this.records[o + RecordField.textLength] !== 1) return -1;
		const at = this.records[o + RecordField.textOffset];
		return this.bytes === undefined ? this.stream.text.charCodeAt(at) : this.bytes[at];
	}

	/** True for the punct token `::`. */
	isPathSeparator(i: number): boolean {
		if (i < 0 || i >= this.count) return false;
		const o = i * RECORD_WIDTH;
		return this.records[o + RecordField.kind] === TokenKind.punct && this.records[o + RecordField.textLength] === 2 && this.text(i) === '::';
	}

	/** True for an identifier token. */
	isIdent(i: number): boolean {
		return i >= 0 && i < this.count && this.records[i * RECORD_WIDTH + RecordField.kind] === TokenKind.ident;
	}

	/** True for the identifier `word` (ASCII); a string is made only when the length already matches. */
	isWord(i: number, word: string): boolean {
		return this.isIdent(i) && this.records[i * RECORD_WIDTH + RecordField.textLength] === word.length && this.text(i) === word;
	}

	/** The token's text (makes a string: use it for the few tokens that need one). */
	text(i: number): string {
		return this.reader.text(i);
	}

	/** True when the token has no whitespace after it. */
	isJoint(i: number): boolean {
		return (this.records[i * RECORD_WIDTH + RecordField.flags] & 1) !== 0;
	}

	/** Start of the token's text in the stream's text (UTF-8 bytes). */
	textStart(i: number): number {
		return this.records[i * RECORD_WIDTH + RecordField.textOffset];
	}

	/** End (exclusive) of the token's text in the stream's text. */
	textEnd(i: number): number {
		const o = i * RECORD_WIDTH;
		return this.records[o + RecordField.textOffset] + this.records[o + RecordField.textLength];
	}

	/** The token's source span, or undefined for a generated token. */
	span(i: number): Span | undefined {
		const o = i * RECORD_WIDTH;
		const start = this.records[o + RecordField.spanStart];
		if (start === SPAN_CALL_SITE) return undefined;
		return { start, end: this.records[o + RecordField.spanEnd] };
	}

	/**
	 * The source span from token `from` to token `to - 1`, when both ends came from the source in
	 * order; undefined when either is generated (the caller then uses the enclosing call site).
	 */
	rangeSpan(from: number, to: number): Span | undefined {
		if (to <= from) return undefined;
		const first = this.span(from);
		const last = this.span(to - 1);
		if (first === undefined || last === undefined || last.end < first.start) return undefined;
		return { start: first.start, end: last.end };
	}

	/** True for `(`, `[` or `{`. */
	isOpen(i: number): boolean {
		const c = this.punct(i);
		return c === Char.openParen || c === Char.openBracket || c === Char.openBrace;
	}

	/** True for `)`, `]` or `}`. */
	isClose(i: number): boolean {
		const c = this.punct(i);
		return c === Char.closeParen || c === Char.closeBracket || c === Char.closeBrace;
	}

	/**
	 * The index of the delimiter that closes the one opened at `open`, within [open, limit);
	 * undefined when it is not closed there, or closed by the wrong kind of delimiter.
	 */
	matchClose(open: number, limit: number): number | undefined {
		const stack: number[] = [];
		for (let i = open; i < limit; i++) {
			const c = this.punct(i);
			if (c === Char.openParen || c === Char.openBracket || c === Char.openBrace) stack.push(closerOf(c));
			else if (c === Char.closeParen || c === Char.closeBracket || c === Char.closeBrace) {
				if (stack.pop() !== c) return undefined;
				if (stack.length === 0) return i;
			}
		}
		return undefined;
	}
}

function closerOf(open: number): number {
	return open === Char.openParen ? Char.closeParen : open === Char.openBracket ? Char.closeBracket : Char.closeBrace;
}
