/**
 * Where an item ends. An item runs from its attributes to the end of its first top-level brace group
 * (`fn f() { … }`, `struct S { … }`, `impl … { … }`; a `;` right after that group belongs to it, as
 * in `const C: S = S { … };`), or to its first top-level `;` (`struct S;`, `use a::b;`,
 * `const X: u8 = 1;`), whichever comes first.
 */
import { Char, type TokenCursor } from './token-cursor.js';

/** Result of {@link findItemEnd}. */
export interface ItemExtent {
	/** Index one past the item's last token. */
	end: number;
	/**
	 * False when the item never ended: the enclosing block (or the input) closed first, or a
	 * delimiter inside it is not balanced. `end` is then where the scan stopped.
	 */
	isComplete: boolean;
}

/** The end of the item whose first token (after its attributes) is `start`, looking no further than `limit`. */
export function findItemEnd(cursor: TokenCursor, start: number, limit: number): ItemExtent {
	let depth = 0;
	for (let i = start; i < limit; i++) {
		const c = cursor.punct(i);
		if (c === Char.openParen || c === Char.openBracket || c === Char.openBrace) {
			depth++;
		} else if (c === Char.closeParen || c === Char.closeBracket || c === Char.closeBrace) {
			// A closer with nothing open is the enclosing block's: the item stopped short.
			if (depth === 0) return { end: i, isComplete: false };
			depth--;
			if (depth === 0 && c === Char.closeBrace) {
				const end = cursor.punct(i + 1) === Char.semicolon && i + 1 < limit ? i + 2 : i + 1;
				return { end, isComplete: true };
			}
		} else if (c === Char.semicolon && depth === 0) {
			return { end: i + 1, isComplete: true };
		}
	}
	return { end: limit, isComplete: false };
}
