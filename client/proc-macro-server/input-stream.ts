/**
 * Turns a v2 token stream of the proc-macro-server protocol into our flat TokenStream.
 *
 * A v2 token is an arbitrary string with a span (Scarb sends one per lexer token, and the whitespace and comments
 * between them as tokens of their own), so its contents are joined into one text and that text is read once with the
 * shared tokenizer: jointness, comments and multi-token strings come out as they would from the source. Each of our
 * tokens then gets its span from the v2 token it lies in: its offset inside that token's content, added to that
 * token's span start, and never past that token's span end. Nothing is built per token but the joined text: offsets
 * and spans of the v2 tokens sit in three Uint32Arrays, and the records are rewritten in place.
 */
import type { TokenStreamV2 } from '../../protocol/proc-macro-server.js';
import { RECORD_WIDTH, RecordField } from '../../protocol/token-stream.js';
import { tokenize, type FlatTokenStream, type TokenizeError } from '../../tokens/tokenizer.js';
import { TokenCursor } from '../../expansion/token-cursor.js';

/** What {@link flattenTokenStreamV2} returns. */
export interface FlattenedStream {
	/** Our tokens, with spans in the v2 stream's coordinates. */
	stream: FlatTokenStream;
	/** The joined contents of the v2 tokens: the code as the macro sees it. */
	text: string;
	/** What the tokenizer could not read (spans in the v2 stream's coordinates); empty for well-formed code. */
	errors: TokenizeError[];
}

/** Reads a v2 stream as one text and tokenizes it; see the module comment. Never throws. */
export function flattenTokenStreamV2(input: TokenStreamV2): FlattenedStream {
	const n = input.tokens.length;
	const contents = new Array<string>(n);
	// offsets[i] is the byte where token i's content starts in the joined text; offsets[n] is its length.
	const offsets = new Uint32Array(n + 1);
	const spanStarts = new Uint32Array(n);
	const spanEnds = new Uint32Array(n);
	let bytes = 0;
	for (let i = 0; i < n; i++) {
		const token = input.tokens[i].Ident;
		contents[i] = token.content;
		offsets[i] = bytes;
		bytes += Buffer.byteLength(token.content, 'utf8');
		spanStarts[i] = token.span.start;
		// A span written backwards is read as empty at its start, so no computed span can run backwards.
		spanEnds[i] = Math.max(token.span.start, token.span.end);
	}
	offsets[n] = bytes;
	const text = contents.join('');
	const { stream, errors } = tokenize(text);
	const mapper = new SpanMapper(offsets, spanStarts, spanEnds);
	const r = stream.records;
	for (let o = 0; o < r.length; o += RECORD_WIDTH) {
		// With no spanBase, the tokenizer's spans are byte offsets into the joined text.
		const start = mapper.start(r[o + RecordField.spanStart]);
		r[o + RecordField.spanStart] = start;
		r[o + RecordField.spanEnd] = Math.max(start, mapper.end(r[o + RecordField.spanEnd]));
	}
	const mappedErrors = errors.map((e) => {
		const start = mapper.start(e.start);
		return { message: e.message, start, end: Math.max(start, mapper.end(e.end)) };
	});
	return { stream, text, errors: mappedErrors };
}

/**
 * The arguments of an inline call or an attribute as a host call takes them: the language server sends the
 * parenthesised argument list (`(a, b)`, the node Scarb hands a macro), while a host call takes what is inside the
 * delimiters (the Scarb backend puts a `(` `)` back for Scarb's libraries). The outer pair goes only when it encloses
 * the whole stream, so `(a) + (b)` stays as it is. The records are a view of the same array: nothing is copied.
 */
export function innerArguments(args: FlattenedStream): FlattenedStream {
	const cursor = new TokenCursor(args.stream);
	const last = cursor.count - 1;
	if (last < 1 || !cursor.isOpen(0) || cursor.matchClose(0, cursor.count) !== last) return args;
	const records = args.stream.records.subarray(RECORD_WIDTH, last * RECORD_WIDTH);
	return { ...args, stream: { text: args.stream.text, records } };
}

/**
 * Maps byte offsets of the joined text to spans of the v2 tokens. Offsets asked for mostly grow (records come in
 * text order), so a cursor moves forward and is reset only when an offset goes back (an error after the records).
 */
class SpanMapper {
	private cursor = 0;

	constructor(
		private readonly offsets: Uint32Array,
		private readonly spanStarts: Uint32Array,
		private readonly spanEnds: Uint32Array,
	) {}

	/** The span position of a token that starts at `byte`: inside the v2 token that holds that byte. */
	start(byte: number): number {
		const i = this.seek(byte, false);
		return i < 0 ? 0 : Math.min(this.spanStarts[i] + (byte - this.offsets[i]), this.spanEnds[i]);
	}

	/** The span position of a token that ends (exclusive) at `byte`: inside the v2 token that holds byte - 1. */
	end(byte: number): number {
		const i = this.seek(byte, true);
		return i < 0 ? 0 : Math.min(this.spanStarts[i] + (byte - this.offsets[i]), this.spanEnds[i]);
	}

	/** Index of the v2 token with offsets[i] <= byte < offsets[i + 1] (or <= for an end); -1 when there is none. */
	private seek(byte: number, isEnd: boolean): number {
		const last = this.spanStarts.length - 1;
		if (last < 0) return -1;
		if (this.offsets[this.cursor] > byte) this.cursor = 0;
		while (this.cursor < last && (isEnd ? this.offsets[this.cursor + 1] < byte : this.offsets[this.cursor + 1] <= byte)) this.cursor++;
		return this.cursor;
	}
}
