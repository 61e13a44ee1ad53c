/**
 * Checks that a token stream is code: what a driver does with a macro's output before splicing it.
 *
 * A macro can hand back any records: an "identifier" whose text is `not an ident`, a literal `"abc`
 * with no closing quote, `(` never closed. The host passes them on as they are (they are valid
 * records); a driver that prints them into a file would write code that no longer means what the
 * tokens said. The check is the language's own reading, with the one tokenizer (tokens/tokenizer.ts):
 *
 * 1. The stream is printed as the driver prints it (tokens/token-printer.ts, on one line) and that
 *    text is tokenized again. Every token must read back as itself: same kind, same length, so an
 *    identifier is one identifier, a literal is complete, and two joint tokens do not merge (`/` `/`
 *    would become a comment).
 * 2. The delimiters `( ) [ ] { }` must be balanced and matched.
 *
 * The first problem is reported, with its place as a UTF-8 byte offset in the printed output. The
 * comparison walks the two flat record arrays side by side: no object per token.
 */
import { RECORD_WIDTH, RecordField, TokenFlags, TokenKind, tokenCount, type TokenStream } from '../protocol/token-stream.js';
import { printTokens } from './token-printer.js';
import { TokenTextReader } from './token-text.js';
import { tokenize } from './tokenizer.js';

/** What {@link checkTokenStream} found wrong. */
export interface TokenStreamProblem {
	/** What is wrong, naming the token and its place ("`(` at output byte 2 is never closed"). */
	readonly message: string;
	/** Where: a UTF-8 byte offset in the printed output (`printTokens(stream, { layout: false })`). */
	readonly outputByte: number;
	/** The index of the offending token in the stream. */
	readonly tokenIndex: number;
}

/**
 * Checks that `stream` is code the tokenizer reads back as the same tokens, with balanced
 * delimiters. Returns undefined when it is, else the first problem. Never throws.
 */
export function checkTokenStream(stream: TokenStream): TokenStreamProblem | undefined {
	const printed = printTokens(stream, { layout: false });
	const reread = tokenize(printed);
	const bytes = new PrintedBytes(printed);
	const r = stream.records;
	const q = reread.stream.records;
	const n = tokenCount(stream);
	const m = tokenCount(reread.stream);
	// Open delimiters: their byte code and token index, as a stack of plain numbers.
	const openCodes: number[] = [];
	const openTokens: number[] = [];
	const openBytes: number[] = [];
	let at = 0;
	for (let i = 0; i < n; i++) {
		const o = i * RECORD_WIDTH;
		const kind = r[o + RecordField.kind];
		const length = r[o + RecordField.textLength];
		if (i >= m || q[o + RecordField.kind] !== kind || q[o + RecordField.textLength] !== length || q[o + RecordField.textOffset] !== at) {
			return describeMismatch(stream, reread.stream, i, at);
		}
		if (kind === TokenKind.punct && length === 1) {
			const code = bytes.at(at);
			if (code === OPEN_PAREN || code === OPEN_BRACKET || code === OPEN_BRACE) {
				openCodes.push(code);
				openTokens.push(i);
				openBytes.push(at);
			} else if (code === CLOSE_PAREN || code === CLOSE_BRACKET || code === CLOSE_BRACE) {
				const top = openCodes.length - 1;
				if (top < 0) return { message: `\`${String.fromCharCode(code)}\` at output byte ${at} closes nothing`, outputByte: at, tokenIndex: i };
				if (CLOSER_OF.get(openCodes[top]) !== code) {
					return {
						message: `\`${String.fromCharCode(code)}\` at output byte ${at} does not match \`${String.fromCharCode(openCodes[top])}\` at output byte ${openBytes[top]}`,
						outputByte: at,
						tokenIndex: i,
					};
				}
				openCodes.pop();
				openTokens.pop();
				openBytes.pop();
			}
		}
		at += length + ((r[o + RecordField.flags] & TokenFlags.joint) !== 0 ? 0 : 1);
	}
	if (openCodes.length > 0) {
		// The innermost one: its closer is the one most plainly missing.
		const top = openCodes.length - 1;
		return { message: `\`${String.fromCharCode(openCodes[top])}\` at output byte ${openBytes[top]} is never closed`, outputByte: openBytes[top], tokenIndex: openTokens[top] };
	}
	if (m > n || reread.errors.length > 0) {
		const error = reread.errors[0];
		const outputByte = error?.start ?? q[n * RECORD_WIDTH + RecordField.textOffset];
		return { message: `the output does not read back as its tokens at output byte ${outputByte}${error === undefined ? '' : `: ${error.message}`}`, outputByte, tokenIndex: n };
	}
	return undefined;
}

/** How messages name each kind, with its article. */
const KIND_NAMES: Record<number, string> = {
	[TokenKind.ident]: 'an identifier',
	[TokenKind.punct]: 'a punctuation token',
	[TokenKind.literal]: 'a literal',
};

/** Says why token `index` (at printed byte `at`) does not read back as itself; off the hot path. */
function describeMismatch(stream: TokenStream, reread: TokenStream, index: number, at: number): TokenStreamProblem {
	const o = index * RECORD_WIDTH;
	const kindName = KIND_NAMES[stream.records[o + RecordField.kind]] ?? `a token of unknown kind ${stream.records[o + RecordField.kind]}`;
	const text = new TokenTextReader(stream).text(index);
	const place = { outputByte: at, tokenIndex: index };
	if (text === '') return { message: `token ${index} at output byte ${at} is ${kindName} with no text`, ...place };
	const alone = tokenize(text);
	const count = tokenCount(alone.stream);
	if (alone.errors.length > 0) return { message: `\`${text}\` at output byte ${at} is not valid as ${kindName}: ${alone.errors[0].message}`, ...place };
	if (count !== 1) return { message: `\`${text}\` at output byte ${at} is not ${kindName}: it reads as ${count} tokens`, ...place };
	const actual = alone.stream.records[RecordField.kind];
	if (actual !== stream.records[o + RecordField.kind]) {
		return { message: `\`${text}\` at output byte ${at} is given as ${kindName} but is ${KIND_NAMES[actual]}`, ...place };
	}
	// Valid alone: what follows changes its reading (joint tokens that read as one, `/` `/` as a comment).
	const m = tokenCount(reread);
	const startsHere = index < m && reread.records[o + RecordField.textOffset] === at;
	if (startsHere) {
		const merged = new TokenTextReader(reread).text(index);
		return { message: `\`${text}\` at output byte ${at} is joint with the token after it, and the two read back as \`${merged}\``, ...place };
	}
	return { message: `\`${text}\` at output byte ${at} does not read back as written: with the tokens after it, it starts a comment`, ...place };
}

const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const CLOSER_OF = new Map([
	[OPEN_PAREN, CLOSE_PAREN],
	[OPEN_BRACKET, CLOSE_BRACKET],
	[OPEN_BRACE, CLOSE_BRACE],
]);

/** Byte access to the printed text: string indices when it is ASCII, one UTF-8 buffer otherwise. */
class PrintedBytes {
	private readonly buffer: Buffer | undefined;

	constructor(private readonly text: string) {
		this.buffer = Buffer.byteLength(text, 'utf8') === text.length ? undefined : Buffer.from(text, 'utf8');
	}

	at(byte: number): number {
		return this.buffer === undefined ? this.text.charCodeAt(byte) : this.buffer[byte];
	}
}
