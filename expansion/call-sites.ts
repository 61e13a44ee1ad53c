/**
 * Finds the macro call sites in a range of tokens, in source order and never overlapping:
 *
 * - inline calls `name!(…)`, `name![…]`, `name!{…}` whose name a loaded library provides as an
 *   inline macro (others, such as `println!` or `array!`, are plain code, and calls inside their
 *   arguments are still found);
 * - items carrying at least one macro attribute: `#[name]` / `#[name(args)]` that a library provides
 *   as an attribute macro, or `#[derive(…)]` naming a derive a library provides. Such an item is one
 *   site from its first attribute to its end (see item-extent.ts); calls inside it are found when
 *   the site is expanded. Attributes no library provides (`#[inline]`, `#[derive(Drop)]`) are inert:
 *   the scan goes on inside the item after them.
 *
 * Inner attributes (`#![…]`) and the contents of inert attributes are skipped. A macro attribute on a
 * struct field or an enum variant is not a call site: macros apply to items, as in Rust and Scarb, so
 * it is reported (SiteProblem code `misplaced-attribute`) and left as written.
 */
import type { MacroRegistry } from './macro-registry.js';
import { findItemEnd } from './item-extent.js';
import { Char, type TokenCursor } from './token-cursor.js';

/** An inline call `name!(args)`: tokens [start, end), arguments [argsFrom, argsTo). */
export interface InlineSite {
	readonly kind: 'inline';
	readonly start: number;
	readonly end: number;
	readonly name: string;
	readonly argsFrom: number;
	readonly argsTo: number;
}

/** An item with macro attributes: tokens [start, end); its attributes, then the item proper from `bodyStart`. */
export interface ItemSite {
	readonly kind: 'item';
	readonly start: number;
	readonly end: number;
	readonly attributes: readonly Attribute[];
	/** First token after the attributes. */
	readonly bodyStart: number;
}

export type CallSite = InlineSite | ItemSite;

/** One entry of `#[derive(…)]`: tokens [from, to) (a name, or a path), and whether a library provides it. */
export interface DeriveEntry {
	readonly from: number;
	readonly to: number;
	/** The derive's name when the entry is one identifier; undefined for a path (never provided). */
	readonly name: string | undefined;
	readonly isProvided: boolean;
}

/** An attribute `#[…]`, tokens [start, end). */
export type Attribute =
	| { readonly kind: 'inert'; readonly start: number; readonly end: number }
	| {
			readonly kind: 'attribute';
			readonly start: number;
			readonly end: number;
			readonly name: string;
			/** Arguments inside the parentheses, [argsFrom, argsTo); empty for `#[name]`. */
			readonly argsFrom: number;
			readonly argsTo: number;
	  }
	| { readonly kind: 'derive'; readonly start: number; readonly end: number; readonly entries: readonly DeriveEntry[] };

/** Something that keeps a would-be call site from being expanded, with the tokens it concerns. */
export interface SiteProblem {
	readonly message: string;
	readonly from: number;
	readonly to: number;
	/** `malformed-call` (a call or item that cannot be delimited) unless said otherwise. */
	readonly code?: 'misplaced-attribute';
}

/** An attribute or derive name no package provides (`#[rnage]`): a candidate for "did you mean". */
export interface UnknownMacroName {
	readonly kind: 'attribute' | 'derive';
	readonly name: string;
	/** The name's tokens [from, to). */
	readonly from: number;
	readonly to: number;
}

/** The braces of a struct's fields or an enum's variants, tokens (open, close). */
interface MemberList {
	readonly open: number;
	readonly close: number;
	readonly of: 'struct' | 'enum';
}

/** Result of {@link findCallSites}. */
export interface FoundSites {
	readonly sites: CallSite[];
	readonly problems: SiteProblem[];
	/** Attribute and derive names met that no package provides, the language's own ones included. */
	readonly unknownNames: UnknownMacroName[];
}

/** Finds the call sites among tokens [from, to). */
export function findCallSites(cursor: TokenCursor, from: number, to: number, registry: MacroRegistry): FoundSites {
	const sites: CallSite[] = [];
	const problems: SiteProblem[] = [];
	const unknownNames: UnknownMacroName[] = [];
	if (registry.isEmpty) return { sites, problems, unknownNames };
	// The struct or enum bodies the scan is in, innermost last.
	const members: MemberList[] = [];
	let i = from;
	while (i < to) {
		while (members.length > 0 && i >= members[members.length - 1].close) members.pop();
		const list = findMemberList(cursor, i, to);
		if (list !== undefined) members.push(list);
		const c = cursor.punct(i);
		if (c === Char.hash && cursor.punct(i + 1) === Char.bang && cursor.punct(i + 2) === Char.openBracket) {
			// An inner attribute belongs to the enclosing module: never a call site.
			const close = cursor.matchClose(i + 2, to);
			i = close === undefined ? i + 1 : close + 1;
			continue;
		}
		if (c === Char.hash && cursor.punct(i + 1) === Char.openBracket) {
			const run = readAttributes(cursor, i, to, registry, unknownNames);
			if (run.problem !== undefined) {
				problems.push(run.problem);
				i = run.bodyStart;
				continue;
			}
			if (!run.attributes.some((a) => a.kind !== 'inert')) {
				// Nothing to expand on this item: look inside it, after its attributes.
				i = run.bodyStart;
				continue;
			}
			const inside = members[members.length - 1];
			if (inside !== undefined && i > inside.open && i < inside.close) {
				const names = run.attributes.filter((a) => a.kind !== 'inert').map(describeAttribute);
				const member = inside.of === 'struct' ? 'a struct field' : 'an enum variant';
				problems.push({
					message: `${names.join(', ')} is on ${member}, where no macro runs: attribute and derive macros apply to items (functions, structs, enums, impls, …), so it was left as written`,
					from: i,
					to: run.bodyStart,
					code: 'misplaced-attribute',
				});
				i = run.bodyStart;
				continue;
			}
			const extent = findItemEnd(cursor, run.bodyStart, to);
			if (!extent.isComplete) {
				const names = run.attributes.filter((a) => a.kind !== 'inert').map(describeAttribute);
				problems.push({
					message: `the item under ${names.join(', ')} has no end: expected a \`{ … }\` body or a \`;\``,
					from: i,
					to: run.bodyStart,
				});
				i = run.bodyStart;
				continue;
			}
			sites.push({ kind: 'item', start: i, end: extent.end, attributes: run.attributes, bodyStart: run.bodyStart });
			i = extent.end;
			continue;
		}
		if (cursor.isIdent(i) && cursor.punct(i + 1) === Char.bang && cursor.isOpen(i + 2) && !cursor.isPathSeparator(i - 1)) {
			const name = cursor.text(i);
			if (registry.has('inline', name)) {
				const close = cursor.matchClose(i + 2, to);
				if (close === undefined) {
					problems.push({ message: `this \`${name}!\` call is not closed: its delimiters do not balance`, from: i, to: i + 3 });
					i += 3;
					continue;
				}
				sites.push({ kind: 'inline', start: i, end: close + 1, name, argsFrom: i + 3, argsTo: close });
				i = close + 1;
				continue;
			}
		}
		i++;
	}
	return { sites, problems, unknownNames };
}

/**
 * The field or variant braces of a `struct Name …{` / `enum Name …{` starting at `i`, if one does.
 * Generics and where-clauses between the name and the brace are skipped; `struct U;` and tuple
 * structs have none.
 */
function findMemberList(cursor: TokenCursor, i: number, to: number): MemberList | undefined {
	const keyword = cursor.isWord(i, 'struct') ? 'struct' : cursor.isWord(i, 'enum') ? 'enum' : undefined;
	if (keyword === undefined || !cursor.isIdent(i + 1)) return undefined;
	for (let j = i + 2; j < to; j++) {
		const c = cursor.punct(j);
		if (c === Char.semicolon || c === Char.openParen || c === Char.closeBrace) return undefined;
		if (c === Char.openBrace) {
			const close = cursor.matchClose(j, to);
			return close === undefined ? undefined : { open: j, close, of: keyword };
		}
	}
	return undefined;
}

/** "#[name]" or "#[derive(A, B)]" for messages. */
export function describeAttribute(attribute: Attribute): string {
	if (attribute.kind === 'derive') {
		const names = attribute.entries.filter((e) => e.isProvided).map((e) => e.name);
		return `#[derive(${names.join(', ')})]`;
	}
	return attribute.kind === 'attribute' ? `#[${attribute.name}]` : '#[…]';
}

interface AttributeRun {
	attributes: Attribute[];
	/** First token after the last attribute (or where reading stopped on a problem). */
	bodyStart: number;
	problem?: SiteProblem;
}

/** Reads consecutive outer attributes starting at `start` (a `#` followed by `[`). */
function readAttributes(cursor: TokenCursor, start: number, to: number, registry: MacroRegistry, unknownNames: UnknownMacroName[]): AttributeRun {
	const attributes: Attribute[] = [];
	let i = start;
	while (i < to && cursor.punct(i) === Char.hash && cursor.punct(i + 1) === Char.openBracket) {
		const close = cursor.matchClose(i + 1, to);
		if (close === undefined) {
			return { attributes, bodyStart: i + 2, problem: { message: 'this attribute is not closed: its brackets do not balance', from: i, to: i + 2 } };
		}
		attributes.push(classify(cursor, i, close + 1, registry, unknownNames));
		i = close + 1;
	}
	return { attributes, bodyStart: i };
}

/** What the attribute at tokens [start, end) is: `#`, `[`, content, `]`. */
function classify(cursor: TokenCursor, start: number, end: number, registry: MacroRegistry, unknownNames: UnknownMacroName[]): Attribute {
	const inert: Attribute = { kind: 'inert', start, end };
	const first = start + 2;
	const last = end - 1; // the `]`
	if (!cursor.isIdent(first)) return inert;
	// `#[name]` or `#[name(args)]`, nothing else: a path or `name = value` is never a macro.
	const isBare = first + 1 === last;
	const hasArgs = cursor.punct(first + 1) === Char.openParen && cursor.matchClose(first + 1, last) === last - 1;
	if (!isBare && !hasArgs) return inert;
	const name = cursor.text(first);
	if (name === 'derive') {
		if (!hasArgs) return inert;
		const entries = deriveEntries(cursor, first + 2, last - 1, registry);
		for (const e of entries) if (!e.isProvided && e.name !== undefined) unknownNames.push({ kind: 'derive', name: e.name, from: e.from, to: e.to });
		return entries.some((e) => e.isProvided) ? { kind: 'derive', start, end, entries } : inert;
	}
	if (!registry.has('attribute', name)) {
		unknownNames.push({ kind: 'attribute', name, from: first, to: first + 1 });
		return inert;
	}
	return isBare
		? { kind: 'attribute', start, end, name, argsFrom: last, argsTo: last }
		: { kind: 'attribute', start, end, name, argsFrom: first + 2, argsTo: last - 1 };
}

/** Splits the tokens between the derive's parentheses at top-level commas. */
function deriveEntries(cursor: TokenCursor, from: number, to: number, registry: MacroRegistry): DeriveEntry[] {
	const entries: DeriveEntry[] = [];
	let entryStart = from;
	let depth = 0;
	const push = (end: number): void => {
		if (end <= entryStart) return;
		const name = end === entryStart + 1 && cursor.isIdent(entryStart) ? cursor.text(entryStart) : undefined;
		entries.push({ from: entryStart, to: end, name, isProvided: name !== undefined && registry.has('derive', name) });
	};
	for (let i = from; i < to; i++) {
		if (cursor.isOpen(i)) depth++;
		else if (cursor.isClose(i)) depth--;
		else if (depth === 0 && cursor.punct(i) === Char.comma) {
			push(i);
			entryStart = i + 1;
		}
	}
	push(to);
	return entries;
}
