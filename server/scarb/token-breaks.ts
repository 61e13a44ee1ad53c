/**
 * Where the shared tokenizer splits tokens whatever surrounds the place: next to whitespace or a
 * delimiter that is always a token of its own. An output token the host takes for a returned input
 * token must start and end at such a place, or the tokenizer could read it differently.
 */

/**
 * True when the tokenizer splits tokens at byte `at` whatever surrounds it: at either end of the
 * text, or next to whitespace or a delimiter that is always a token of its own (`( ) [ ] { } , ;`).
 */
export function splitsThere(bytes: Buffer, at: number): boolean {
	return at === 0 || at === bytes.length || isBreak(bytes[at - 1]) || isBreak(bytes[at]);
}

function isBreak(byte: number): boolean {
	return BREAKS[byte] === 1;
}

/** 1 for whitespace and the delimiters that are always a token of their own: ` \t \n \r ( ) [ ] { } , ;`. */
export const BREAKS = new Uint8Array(256);
for (const c of ' \t\n\r()[]{},;') BREAKS[c.charCodeAt(0)] = 1;
