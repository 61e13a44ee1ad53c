/**
 * The one tokenizer for Cairo/Rust-like source: the CLI uses it now and the compiler driver reuses it.
 *
 * Output is a protocol TokenStream built without one JS object per token: records go straight into
 * a growable Uint32Array (RECORD_WIDTH u32 per token), and the stream's `text` is the source string
 * itself, so a token's textOffset is its UTF-8 byte offset in the source and its span is
 * `spanBase + textOffset`. Nothing of the source is copied.
 *
 * Token classes:
 * - IDENT: identifiers and keywords (`[A-Za-z_]` or a Unicode XID_Start letter, then XID_Continue).
 * - LITERAL: numbers (`42`, `0x1f`, `0b101`, `0o17`, `1_000`, suffixed `5_u32` / `10felt252`, `1.5`),
 *   strings `"…"` with backslash escapes (may span lines), short strings `'abc'` (Cairo felt literals).
 * - PUNCT: one token per operator, longest match first: multi-character operators (`::` `->` `=>`
 *   `==` `!=` `<=` `>=` `&&` `||` `+=` `-=` `*=` `/=` `%=` `^=` `&=` `|=` `..` `..=` `...` `<<` `>>`
 *   `<<=` `>>=`) are ONE punct token each, as the C header's MH_TOKEN_PUNCT says; delimiters
 *   `( ) [ ] { }` and every other single character (`# , ; : . = < > ! + - * / % & | ^ ~ ? @ $`) are
 *   punct tokens of one character.
 *
 * The JOINT flag is set on a token when the next token follows it with no whitespace or comment in
 * between, so printing tokens with a space exactly where JOINT is clear round-trips the stream.
 * Line comments `//…` and block comments `/* … *\/` (nested) are skipped, as is whitespace and a
 * leading byte order mark.
 *
 * A Rust lifetime becomes a joint `'` punct plus an ident, as Rust's proc_macro has it. Cairo's short
 * strings come first: `'word` is a lifetime when followed by one of `> , : ) ; + = ]` (as in `<'a>`,
 * `'a: 'b`) or when no `'` closes it on the same line (`&'static str`); otherwise a quote closed on
 * the same line is a short string. (So `&'a str, &'b str` on one line reads as a short string: a
 * known limit of sharing one tokenizer between the two languages.)
 *
 * Errors never throw: tokenize returns every error (with its byte span and a message) beside the
 * stream, and goes on after each one, so one pass reports everything wrong with an input.
 */
import { RECORD_WIDTH, TokenFlags, TokenKind, type TokenStream } from '../protocol/token-stream.js';
import { copyRecords } from './record-pool.js';

/** A TokenStream whose records are a Uint32Array (what the tokenizer always produces). */
export interface FlatTokenStream extends TokenStream {
	records: Uint32Array;
}

/** Options of {@link tokenize}. */
export interface TokenizeOptions {
	/**
	 * Added to every byte offset to make the spans, for a source that is a slice of a larger file
	 * (or of a virtual file made of several inputs). Error spans are shifted the same way.
	 * @default 0
	 */
	readonly spanBase?: number;
}

/** One thing wrong with the input. */
export interface TokenizeError {
	/** What is wrong, as a sentence fragment ("unterminated string literal"). */
	message: string;
	/** Start of the offending text: UTF-8 byte offset plus spanBase. */
	start: number;
	/** End (exclusive) of the offending text, same units. */
	end: number;
}

/** What {@link tokenize} returns. */
export interface TokenizeResult {
	/** The tokens read; on errors, every token that could be read. */
	stream: FlatTokenStream;
	/** Every error, in source order; empty when the input is well formed. */
	errors: TokenizeError[];
}

/** Tokenizes `source`. Never throws; see {@link TokenizeResult}. */
export function tokenize(source: string, options: TokenizeOptions = {}): TokenizeResult {
	return new Scanner(source, options.spanBase ?? 0).run();
}

/**
 * A sub-stream of tokens [from, to) of `stream`, sharing its text and its records' memory
 * (a Uint32Array view, or an array slice for number[] records). Spans are unchanged.
 */
export function sliceTokens(stream: TokenStream, from: number, to: number): TokenStream {
	const r = stream.records;
	const a = from * RECORD_WIDTH;
	const b = to * RECORD_WIDTH;
	return { text: stream.text, records: r instanceof Uint32Array ? r.subarray(a, b) : r.slice(a, b) };
}

// Multi-character operators, longest first so the first match is the longest.
const OPERATORS = [
	'..=', '...', '<<=', '>>=',
	'::', '->', '=>', '==', '!=', '<=', '>=', '&&', '||', '+=', '-=', '*=', '/=', '%=', '^=', '&=', '|=', '..', '<<', '>>',
];
// Characters after `'ident` that make it a lifetime rather than the start of a short string.
const LIFETIME_FOLLOWERS = '>,:);+=]';
const SINGLE_PUNCT = '#,;:.=<>!+-*/%&|^~?@$()[]{}';

const XID_START = /[\p{XID_Start}]/u;
const XID_CONTINUE = /[\p{XID_Continue}]/u;

// Character codes used below, named for legibility.
const LF = 0x0a;
const CR = 0x0d;
const SLASH = 0x2f;
const STAR = 0x2a;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const BACKSLASH = 0x5c;
const DOT = 0x2e;
const UNDERSCORE = 0x5f;

/**
 * The records of a small source are written here first, then copied out at their exact size: tokenize runs
 * synchronously, so one buffer serves every call, and a driver tokenizing each macro's output (to check it)
 * allocates one small array per call instead of two. Sources up to 4,096 characters use it.
 */
const SCRATCH_WORDS = 1024 * RECORD_WIDTH;
let scratch: Uint32Array | undefined;

/** Scans one source; the UTF-16 index `i` and the UTF-8 byte offset `byte` always advance together. */
class Scanner {
	private i = 0;
	private byte = 0;
	private records: Uint32Array;
	private count = 0;
	/** Byte offset where the previous token ended, or -1 before the first token. */
	private lastEnd = -1;
	private readonly errors: TokenizeError[] = [];

	constructor(
		private readonly src: string,
		private readonly base: number,
	) {
		// About one token per four characters of source code; doubling covers the rest.
		const words = Math.max(16, src.length >> 2) * RECORD_WIDTH;
		this.records = words <= SCRATCH_WORDS ? (scratch ??= new Uint32Array(SCRATCH_WORDS)) : new Uint32Array(words);
	}

	run(): TokenizeResult {
		const src = this.src;
		if (src.charCodeAt(0) === 0xfeff) this.advanceChar();
		while (this.i < src.length) {
			const c = src.charCodeAt(this.i);
			if (isAsciiSpace(c)) {
				this.i++;
				this.byte++;
			} else if (c === SLASH && src.charCodeAt(this.i + 1) === SLASH) {
				this.skipLineComment();
			} else if (c === SLASH && src.charCodeAt(this.i + 1) === STAR) {
				this.skipBlockComment();
			} else if (isAsciiIdentStart(c)) {
				this.scanIdent();
			} else if (c >= 0x30 && c <= 0x39) {
				this.scanNumber();
			} else if (c === DQUOTE) {
				this.scanString();
			} else if (c === SQUOTE) {
				this.scanQuote();
			} else if (c < 0x80) {
				this.scanPunct(c);
			} else {
				this.scanNonAscii();
			}
		}
		const used = this.count * RECORD_WIDTH;
		// Out of the scratch, into pooled memory when small; else a view when little is wasted, or one copy
		// so a small stream does not pin a large buffer.
		const records =
			this.records === scratch
				? copyRecords(scratch, 0, used)
				: used * 4 >= this.records.length * 3
					? this.records.subarray(0, used)
					: this.records.slice(0, used);
		return { stream: { text: src, records }, errors: this.errors };
	}

	private push(kind: TokenKind, startByte: number): void {
		const end = this.byte;
		if (this.count * RECORD_WIDTH === this.records.length) {
			const grown = new Uint32Array(this.records.length * 2);
			grown.set(this.records);
			this.records = grown;
		}
		const r = this.records;
		if (this.lastEnd === startByte && this.count > 0) r[(this.count - 1) * RECORD_WIDTH + 1] |= TokenFlags.joint;
		const o = this.count * RECORD_WIDTH;
		r[o] = kind;
		r[o + 1] = 0;
		r[o + 2] = startByte;
		r[o + 3] = end - startByte;
		r[o + 4] = this.base + startByte;
		r[o + 5] = this.base + end;
		this.count++;
		this.lastEnd = end;
	}

	private error(message: string, startByte: number, endByte: number): void {
		this.errors.push({ message, start: this.base + startByte, end: this.base + endByte });
	}

	/** Advances past one code point (one or two UTF-16 units), counting its UTF-8 bytes. */
	private advanceChar(): void {
		const c = this.src.charCodeAt(this.i);
		if (c < 0x80) {
			this.i++;
			this.byte++;
		} else if (c < 0x800) {
			this.i++;
			this.byte += 2;
		} else if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(this.src.charCodeAt(this.i + 1))) {
			this.i += 2;
			this.byte += 4;
		} else {
			// Other BMP characters, and lone surrogates (which UTF-8 encoding turns into U+FFFD, 3 bytes).
			this.i++;
			this.byte += 3;
		}
	}

	private skipLineComment(): void {
		const src = this.src;
		while (this.i < src.length && src.charCodeAt(this.i) !== LF) this.advanceChar();
	}

	private skipBlockComment(): void {
		const src = this.src;
		const start = this.byte;
		let depth = 0;
		while (this.i < src.length) {
			const c = src.charCodeAt(this.i);
			const next = src.charCodeAt(this.i + 1);
			if (c === SLASH && next === STAR) {
				depth++;
				this.i += 2;
				this.byte += 2;
			} else if (c === STAR && next === SLASH) {
				depth--;
				this.i += 2;
				this.byte += 2;
				if (depth === 0) return;
			} else {
				this.advanceChar();
			}
		}
		this.error('unterminated block comment', start, this.byte);
	}

	private scanIdent(): void {
		const start = this.byte;
		this.advanceChar();
		this.skipIdentContinue();
		this.push(TokenKind.ident, start);
	}

	/** Skips ASCII and Unicode identifier-continue characters. */
	private skipIdentContinue(): void {
		const src = this.src;
		while (this.i < src.length) {
			const c = src.charCodeAt(this.i);
			if (c < 0x80) {
				if (!isAsciiIdentContinue(c)) return;
				this.i++;
				this.byte++;
			} else {
				if (!XID_CONTINUE.test(String.fromCodePoint(src.codePointAt(this.i)!))) return;
				this.advanceChar();
			}
		}
	}

	private scanNumber(): void {
		const src = this.src;
		const start = this.byte;
		// Decimal digits and `_` separators first, then maybe a fraction (`1.5`, but never `1..2`, a range).
		let c = src.charCodeAt(this.i);
		while (isAsciiDigit(c) || c === UNDERSCORE) {
			this.i++;
			this.byte++;
			c = src.charCodeAt(this.i);
		}
		if (c === DOT && isAsciiDigit(src.charCodeAt(this.i + 1))) {
			this.i++;
			this.byte++;
		}
		// The rest are ident characters: hex digits after `0x`, more digits, a suffix (`5_u32`, `0xffu8`).
		this.skipAsciiIdentContinue();
		this.push(TokenKind.literal, start);
	}

	private skipAsciiIdentContinue(): void {
		const src = this.src;
		while (this.i < src.length && isAsciiIdentContinue(src.charCodeAt(this.i))) {
			this.i++;
			this.byte++;
		}
	}

	private scanString(): void {
		const src = this.src;
		const start = this.byte;
		this.i++;
		this.byte++;
		while (this.i < src.length) {
			const c = src.charCodeAt(this.i);
			if (c === BACKSLASH) {
				this.i++;
				this.byte++;
				if (this.i < src.length) this.advanceChar();
			} else if (c === DQUOTE) {
				this.i++;
				this.byte++;
				this.push(TokenKind.literal, start);
				return;
			} else {
				this.advanceChar();
			}
		}
		this.error('unterminated string literal: missing closing `"`', start, this.byte);
	}

	/** A `'`: a short string closed on the same line, a lifetime, or an error. */
	private scanQuote(): void {
		const src = this.src;
		const start = this.byte;
		const startIndex = this.i;
		if (this.looksLikeLifetime()) {
			this.scanLifetime(start, startIndex);
			return;
		}
		this.i++;
		this.byte++;
		while (this.i < src.length) {
			const c = src.charCodeAt(this.i);
			if (c === LF || c === CR) break;
			if (c === BACKSLASH) {
				this.i++;
				this.byte++;
				if (this.i < src.length && src.charCodeAt(this.i) !== LF) this.advanceChar();
			} else if (c === SQUOTE) {
				this.i++;
				this.byte++;
				this.push(TokenKind.literal, start);
				return;
			} else {
				this.advanceChar();
			}
		}
		// No closing quote on this line: a lifetime `'a` if an identifier follows, else an error.
		const afterQuote = src.codePointAt(startIndex + 1);
		if (afterQuote !== undefined && isIdentStart(afterQuote)) {
			this.scanLifetime(start, startIndex);
			return;
		}
		this.i = startIndex + 1;
		this.byte = start + 1;
		this.skipLineComment();
		this.error("unterminated short string: missing closing `'` on the same line", start, this.byte);
	}

	/**
	 * Whether the `'` at `i` starts a lifetime for sure: an ASCII identifier followed by a character
	 * that never follows a word inside a short string (`<'a>`, `<'a, 'b>`, `'a: 'b`, `&'a)`).
	 * Otherwise a quote closed on the same line is a short string (`'abc'`, `'not owner'`).
	 */
	private looksLikeLifetime(): boolean {
		const src = this.src;
		let j = this.i + 1;
		if (!isAsciiIdentStart(src.charCodeAt(j))) return false;
		while (isAsciiIdentContinue(src.charCodeAt(j))) j++;
		return LIFETIME_FOLLOWERS.includes(src[j] ?? '');
	}

	/** A lifetime: a joint `'` punct and the identifier, as Rust's proc_macro has it. */
	private scanLifetime(start: number, startIndex: number): void {
		this.i = startIndex + 1;
		this.byte = start + 1;
		this.push(TokenKind.punct, start);
		const identStart = this.byte;
		this.advanceChar();
		this.skipIdentContinue();
		this.push(TokenKind.ident, identStart);
	}

	private scanPunct(c: number): void {
		const src = this.src;
		const start = this.byte;
		for (const op of OPERATORS) {
			if (op.charCodeAt(0) === c && src.startsWith(op, this.i)) {
				this.i += op.length;
				this.byte += op.length;
				this.push(TokenKind.punct, start);
				return;
			}
		}
		this.i++;
		this.byte++;
		if (SINGLE_PUNCT.includes(String.fromCharCode(c))) {
			this.push(TokenKind.punct, start);
		} else {
			this.error(`unexpected character ${describeChar(c)}`, start, this.byte);
		}
	}

	private scanNonAscii(): void {
		const cp = this.src.codePointAt(this.i)!;
		const start = this.byte;
		if (isIdentStart(cp)) {
			this.scanIdent();
		} else if (isUnicodeSpace(cp)) {
			this.advanceChar();
		} else {
			this.advanceChar();
			this.error(`unexpected character ${describeChar(cp)}`, start, this.byte);
		}
	}
}

function isAsciiSpace(c: number): boolean {
	return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** Rust's Pattern_White_Space beyond ASCII (NEL, LRM, RLM, LINE and PARAGRAPH SEPARATOR), plus NBSP. */
function isUnicodeSpace(cp: number): boolean {
	return cp === 0x85 || cp === 0xa0 || cp === 0x200e || cp === 0x200f || cp === 0x2028 || cp === 0x2029;
}

function isAsciiDigit(c: number): boolean {
	return c >= 0x30 && c <= 0x39;
}

function isAsciiIdentStart(c: number): boolean {
	return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === UNDERSCORE;
}

function isAsciiIdentContinue(c: number): boolean {
	return isAsciiIdentStart(c) || isAsciiDigit(c);
}

function isIdentStart(cp: number): boolean {
	return cp < 0x80 ? isAsciiIdentStart(cp) : XID_START.test(String.fromCodePoint(cp));
}

function isLowSurrogate(c: number): boolean {
	return c >= 0xdc00 && c <= 0xdfff;
}

/** `'€' (U+20AC)`, or just the code for invisible characters. */
function describeChar(cp: number): string {
	const code = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
	return cp < 0x20 || cp === 0x7f || (cp >= 0xd800 && cp <= 0xdfff) ? code : `'${String.fromCodePoint(cp)}' (${code})`;
}
