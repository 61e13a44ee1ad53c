/**
 * Reading a token's text out of a flat TokenStream, whose offsets count UTF-8 bytes of a JS string.
 *
 * The text is encoded to UTF-8 once per stream (not at all when it is pure ASCII, where byte offsets
 * equal string indices); each token is then one slice of that buffer, with no per-token re-encoding.
 */
import { RECORD_WIDTH, RecordField, type TokenStream } from '../protocol/token-stream.js';

/** Reads token texts of one stream; build one per stream and reuse it. */
export class TokenTextReader {
	/** The UTF-8 bytes of the text, or undefined when the text is ASCII and string indices serve. */
	readonly bytes: Buffer | undefined;

	constructor(private readonly stream: TokenStream) {
		const text = stream.text;
		const byteLength = Buffer.byteLength(text, 'utf8');
		this.bytes = byteLength === text.length ? undefined : Buffer.from(text, 'utf8');
	}

	/** Text of token `index`. */
	text(index: number): string {
		const r = this.stream.records;
		const o = index * RECORD_WIDTH;
		return this.slice(r[o + RecordField.textOffset], r[o + RecordField.textOffset] + r[o + RecordField.textLength]);
	}

	/** The text between two UTF-8 byte offsets of the stream's text. */
	slice(startByte: number, endByte: number): string {
		return this.bytes === undefined
			? this.stream.text.slice(startByte, endByte)
			: this.bytes.toString('utf8', startByte, endByte);
	}
}

const readers = new WeakMap<TokenStream, TokenTextReader>();

/** The reader of `stream`, made once per stream: its text is encoded (or found to be ASCII) only once. */
export function textReader(stream: TokenStream): TokenTextReader {
	let reader = readers.get(stream);
	if (reader === undefined) {
		reader = new TokenTextReader(stream);
		readers.set(stream, reader);
	}
	return reader;
}

/**
 * Text of token `index` of `stream`. Convenient off hot paths; the stream's reader is cached,
 * so calling it for every token encodes the text only once.
 */
export function tokenText(stream: TokenStream, index: number): string {
	return textReader(stream).text(index);
}
