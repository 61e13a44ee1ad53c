/**
 * What a Scarb library's expansion list means to Cairo code, as Scarb's host reads it
 * (scarb/src/compiler/plugin/proc_macro/v2/ffi.rs, `impl From<&StableExpansion> for Expansion`):
 * - a name starting `__exec_attr_` is an executable attribute, called by the rest of the name;
 * - a derive is declared snake_case and called UpperCamel (`named` → `#[derive(Named)]`), converted
 *   as the `convert_case` crate's `to_case(Case::UpperCamel)` does;
 * - every other name is called as it is, `parent = "a::b"` paths included (`a::b::name`);
 * - an unknown kind number counts as inline.
 */
import type { MacroInfo } from '../../protocol/library.js';
import { EXEC_ATTR_PREFIX, StableExpansionKind } from './stable-abi.js';

/** One expansion as Cairo code sees it, and the name the library knows it by. */
export interface ScarbExpansion {
	info: MacroInfo;
	/** The name `expand` and `doc` are called with. */
	expansionName: string;
}

/** Reads one entry of `list_expansions`: its name and StableExpansionKind. */
export function readExpansion(name: string, kind: number): ScarbExpansion {
	if (name.startsWith(EXEC_ATTR_PREFIX)) {
		return { info: { name: name.slice(EXEC_ATTR_PREFIX.length), kind: 'attribute', doc: '', executable: true }, expansionName: name };
	}
	if (kind === StableExpansionKind.derive) return { info: { name: toUpperCamel(name), kind: 'derive', doc: '' }, expansionName: name };
	if (kind === StableExpansionKind.attr) return { info: { name, kind: 'attribute', doc: '' }, expansionName: name };
	return { info: { name, kind: 'inline', doc: '' }, expansionName: name };
}

/**
 * `convert_case`'s UpperCamel: split at its default boundaries (`_`, `-` and space, which are
 * dropped; lower→upper `aA`; letter↔digit `a1` `1a` `A1` `1A`; an acronym's end `AAa` → `A|Aa`), then
 * each word capitalised (first letter upper, the rest lower) and joined.
 */
export function toUpperCamel(name: string): string {
	const chars = [...name];
	const words: string[] = [];
	let word = '';
	for (let i = 0; i < chars.length; i++) {
		const c = chars[i];
		if (c === '_' || c === '-' || c === ' ') {
			if (word) words.push(word);
			word = '';
			continue;
		}
		const prev = chars[i - 1];
		const next = chars[i + 1];
		if (word && prev !== undefined && isBoundary(prev, c, next)) {
			words.push(word);
			word = '';
		}
		word += c;
	}
	if (word) words.push(word);
	return words.map((w) => capitalise(w)).join('');
}

function isBoundary(prev: string, c: string, next: string | undefined): boolean {
	if (isLower(prev) && isUpper(c)) return true;
	if (isDigit(prev) !== isDigit(c) && (isLetter(prev) || isDigit(prev)) && (isLetter(c) || isDigit(c))) return true;
	// An acronym ends before its last capital when a lowercase letter follows: `HTTPRequest` → HTTP|Request.
	return isUpper(prev) && isUpper(c) && next !== undefined && isLower(next);
}

function capitalise(word: string): string {
	const [first, ...rest] = [...word];
	return first.toUpperCase() + rest.join('').toLowerCase();
}

const isUpper = (c: string): boolean => c !== c.toLowerCase() && c === c.toUpperCase();
const isLower = (c: string): boolean => c !== c.toUpperCase() && c === c.toLowerCase();
const isLetter = (c: string): boolean => isUpper(c) || isLower(c);
const isDigit = (c: string): boolean => c >= '0' && c <= '9';
