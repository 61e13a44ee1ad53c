/**
 * The macro call at a place in a source file: what `macro-host expand <project> --file F --line N
 * [--column C]` expands, one call at a time, to debug it.
 *
 * The call sites are found as the driver finds them (call-sites.ts), and the innermost one at the
 * place wins: an inline call inside the arguments of another, a call inside an item whose attribute
 * is elsewhere. On an attribute's own tokens that attribute is the call; elsewhere in an item that
 * has no call there, its first macro attribute is (the one the driver runs first). Each call is built
 * with the inputs the driver would send for the source as written (an attribute gets the attributes
 * below it and the item; a derive, the item), not the inputs after the macros above it ran.
 */
import type { Span } from '../../protocol/expand.js';
import type { MacroKind } from '../../protocol/library.js';
import type { TokenStream } from '../../protocol/token-stream.js';
import { findCallSites, type Attribute, type DeriveEntry, type ItemSite } from '../../expansion/call-sites.js';
import { describeAmbiguity, macroLabel } from '../../expansion/diagnostics.js';
import type { MacroProvider, MacroRegistry } from '../../expansion/macro-registry.js';
import { compactTokens } from '../../expansion/token-builder.js';
import type { TokenCursor } from '../../expansion/token-cursor.js';

/** A place in a file, in UTF-8 bytes: one character (a line and column) or a whole line. */
export interface SourcePlace {
	readonly start: number;
	/** Exclusive; `start + 1` for one character. */
	readonly end: number;
}

/** One call to send, as the driver would send it. */
export type CallAtPlace = {
	/** The macro's package and library. */
	readonly provider: MacroProvider;
	/** The call's tokens in the source. */
	readonly callSite: Span;
} & (
	| { readonly kind: 'inline'; readonly name: string; readonly args: TokenStream }
	| { readonly kind: 'attribute'; readonly name: string; readonly args: TokenStream; readonly item: TokenStream }
	| { readonly kind: 'derive'; readonly derives: readonly string[]; readonly item: TokenStream }
);

/** What {@link findCallAt} found: the calls to send (a derive attribute whose derives come from two packages is two), or why there are none. */
export type CallAtResult = { readonly calls: CallAtPlace[] } | { readonly problem: string };

/** The call at `place` among the tokens of `cursor` (a whole source file). */
export function findCallAt(cursor: TokenCursor, registry: MacroRegistry, place: SourcePlace): CallAtResult {
	const found = new Finder(cursor, registry, place).within(0, cursor.count);
	return found ?? { problem: 'no macro call that a loaded package provides is there' };
}

/** The byte range of `line` (1-based) of `text`, or of its character at `column` (1-based, in characters). */
export function placeInText(text: string, line: number, column?: number): SourcePlace | { readonly problem: string } {
	const lines = text.split('\n');
	if (line < 1 || line > lines.length) return { problem: `line ${line} is past the end of the file (it has ${lines.length} lines)` };
	const start = Buffer.byteLength(lines.slice(0, line - 1).join('\n'), 'utf8') + (line > 1 ? 1 : 0);
	const lineText = lines[line - 1]!.replace(/\r$/, '');
	if (column === undefined) return { start, end: start + Buffer.byteLength(lineText, 'utf8') };
	const chars = [...lineText];
	if (column < 1 || column > chars.length) return { problem: `column ${column} is past the end of line ${line} (it has ${chars.length} characters)` };
	const before = Buffer.byteLength(chars.slice(0, column - 1).join(''), 'utf8');
	return { start: start + before, end: start + before + Buffer.byteLength(chars[column - 1]!, 'utf8') };
}

class Finder {
	constructor(
		private readonly cursor: TokenCursor,
		private readonly registry: MacroRegistry,
		private readonly place: SourcePlace,
	) {}

	/** The innermost call at the place among tokens [from, to), or undefined when none is there. */
	within(from: number, to: number): CallAtResult | undefined {
		const { cursor } = this;
		const site = findCallSites(cursor, from, to, this.registry).sites.find((s) => this.touches(cursor.rangeSpan(s.start, s.end)));
		if (site === undefined) return undefined;
		if (site.kind === 'inline') {
			const callSite = cursor.rangeSpan(site.start, site.end)!;
			return this.within(site.argsFrom, site.argsTo) ?? this.call('inline', site.name, callSite, (provider) => ({
				kind: 'inline', name: site.name, args: compactTokens(cursor.stream, site.argsFrom, site.argsTo), provider, callSite,
			}));
		}
		const macroAttributes = site.attributes.filter((a) => a.kind !== 'inert');
		const onAttribute = macroAttributes.find((a) => this.touches(cursor.rangeSpan(a.start, a.end)));
		if (onAttribute !== undefined) return this.attributeCall(site, onAttribute);
		return this.within(site.bodyStart, site.end) ?? this.attributeCall(site, macroAttributes[0]!);
	}

	private attributeCall(site: ItemSite, attribute: Attribute): CallAtResult {
		const { cursor } = this;
		const callSite = cursor.rangeSpan(attribute.start, attribute.end)!;
		const item = compactTokens(cursor.stream, attribute.end, site.end);
		if (attribute.kind === 'attribute') {
			return this.call('attribute', attribute.name, callSite, (provider) => ({
				kind: 'attribute', name: attribute.name, args: compactTokens(cursor.stream, attribute.argsFrom, attribute.argsTo), item, provider, callSite,
			}));
		}
		if (attribute.kind !== 'derive') return { problem: 'no macro call that a loaded package provides is there' };
		// One call per package, as the driver sends them; on one derive's name, only that derive's package.
		const provided = attribute.entries.filter((e) => e.isProvided);
		const chosen = provided.filter((e) => this.touches(cursor.rangeSpan(e.from, e.to)));
		const groups = new Map<string, { provider: MacroProvider; entries: DeriveEntry[] }>();
		for (const entry of chosen.length > 0 ? chosen : provided) {
			const lookup = this.registry.lookup('derive', entry.name!);
			if (lookup.found === 'many') return { problem: ambiguity('derive', entry.name!, lookup.providers) };
			if (lookup.found !== 'one') continue;
			const group = groups.get(lookup.provider.library) ?? { provider: lookup.provider, entries: [] };
			group.entries.push(entry);
			groups.set(lookup.provider.library, group);
		}
		const calls: CallAtPlace[] = [...groups.values()].map(({ provider, entries }) => ({
			kind: 'derive',
			derives: entries.map((e) => e.name!),
			item,
			provider,
			callSite: entries.length === 1 ? (cursor.rangeSpan(entries[0]!.from, entries[0]!.to) ?? callSite) : callSite,
		}));
		return { calls };
	}

	/** One call of a macro with one provider; an ambiguous name is a problem, as in the driver. */
	private call(kind: MacroKind, name: string, callSite: Span, make: (provider: MacroProvider) => CallAtPlace): CallAtResult {
		const lookup = this.registry.lookup(kind, name);
		if (lookup.found === 'one') return { calls: [make(lookup.provider)] };
		if (lookup.found === 'many') return { problem: ambiguity(kind, name, lookup.providers) };
		return { problem: `${macroLabel(kind, name)} at bytes ${callSite.start}..${callSite.end} has no provider` };
	}

	/** Whether a span overlaps the place. */
	private touches(span: Span | undefined): boolean {
		return span !== undefined && span.start < this.place.end && this.place.start < span.end;
	}
}

function ambiguity(kind: MacroKind, name: string, providers: readonly MacroProvider[]): string {
	return describeAmbiguity(kind, name, providers.map((p) => p.package));
}
