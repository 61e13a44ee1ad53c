/**
 * The expansion engine: expands every macro call of one source file, the way Rust and Scarb do.
 *
 * - A site's call goes to the one library that provides the macro (by id, so nothing is guessed).
 * - An item's macro attributes run outermost (topmost) first. An attribute macro receives the item
 *   below it (the attributes that follow it, then the item); its REPLACE output takes the place of
 *   everything from that attribute to the item's end and is scanned again, so the attributes it
 *   passed through run next. Attributes above it stay where they are.
 * - `#[derive(…)]` sends the derives a library provides, with the item below it, in one call per
 *   library; the output is appended after the item, and the expanded names leave the attribute
 *   (`#[derive(Copy, Drop, ToValue)]` → `#[derive(Copy, Drop)]`; an attribute left empty goes).
 * - Macro output is scanned again for calls, one level deeper each time, up to the recursion limit.
 * - REMOVE deletes the call (an item with all its attributes); LEAVE keeps the call's code as written
 *   and BAIL keeps it and reports; in both cases calls inside that code are still expanded.
 *
 * Untouched source text is kept byte for byte (see splice.ts). Every site of a level is sent at once
 * (the host pipelines them); results are merged in source order, so the output, the diagnostics and
 * the aux data never depend on which answer came first.
 */
import type { Diagnostic, ExpandAttributeParams, ExpandDeriveParams, ExpandInlineParams, ExpandResult, Span } from '../protocol/expand.js';
import type { MacroKind } from '../protocol/library.js';
import type { AuxEntry } from '../protocol/expand-source.js';
import { emptyTokenStream, SPAN_CALL_SITE, type TokenStream } from '../protocol/token-stream.js';
import { checkTokenStream } from '../tokens/output-check.js';
import { tokenize } from '../tokens/tokenizer.js';
import { describeAttribute, findCallSites, type Attribute, type DeriveEntry, type InlineSite, type ItemSite, type UnknownMacroName } from './call-sites.js';
import { describeAmbiguity, fromMacroDiagnostic, invalidOutput, macroLabel, type DriverDiagnostic, type DriverDiagnosticCode, type MacroOrigin } from './diagnostics.js';
import type { MacroProvider, MacroRegistry } from './macro-registry.js';
import { BUILTIN_ATTRIBUTES, BUILTIN_DERIVES } from './builtin-names.js';
import { spliceSource, type Edit } from './splice.js';
import { compactTokens, TokenStreamBuilder } from './token-builder.js';
import { TokenCursor } from './token-cursor.js';

/** Where expand calls go: a MacroHost, or a lease on a pool of them. */
export interface MacroCaller {
	/** Expands `name!(args)`; a crash answers bail with a diagnostic, as MacroHost does. */
	expandInline(params: ExpandInlineParams): Promise<ExpandResult>;
	/** Expands `#[name(args)] item`. */
	expandAttribute(params: ExpandAttributeParams): Promise<ExpandResult>;
	/** Expands `#[derive(A, B)] item`: the output to append after the item. */
	expandDerive(params: ExpandDeriveParams): Promise<ExpandResult>;
}

/** The default recursion limit, as in rustc. */
export const DEFAULT_RECURSION_LIMIT = 64;

/** What {@link expandSource} needs. */
export interface ExpandSourceOptions {
	/** Which library provides which macro. */
	readonly registry: MacroRegistry;
	/** Where the calls go. */
	readonly caller: MacroCaller;
	/** How deep macro output may keep calling macros. @default DEFAULT_RECURSION_LIMIT */
	readonly recursionLimit?: number;
	/**
	 * Check every REPLACE output before using it (tokens/output-check.ts): each token must read back
	 * as itself and delimiters must balance. Output that fails is an `invalid-output` error at the
	 * call site, naming the macro and what is wrong, and the call keeps its code. False splices the
	 * tokens as the macro returned them.
	 * @default true
	 */
	readonly checkOutput?: boolean;
}

export type { AuxEntry } from '../protocol/expand-source.js';

/** Result of {@link expandSource}. */
export interface SourceExpansion {
	/** The expanded source (the original text when nothing was expanded or it does not tokenize). */
	readonly text: string;
	/** Diagnostics in source order of their call sites (no `file` set yet). */
	readonly diagnostics: DriverDiagnostic[];
	/** Aux data in call order. */
	readonly aux: AuxEntry[];
	/** Macro calls sent to a host. */
	readonly expansions: number;
}

/** Expands every macro call in `source`. Never throws for anything a macro or the host does. */
export async function expandSource(source: string, options: ExpandSourceOptions): Promise<SourceExpansion> {
	const { stream, errors } = tokenize(source);
	if (errors.length > 0) {
		// Splicing into text that does not tokenize could cut it anywhere: keep the file as written.
		const diagnostics: DriverDiagnostic[] = errors.map((e) => ({
			severity: 'error',
			code: 'tokenize',
			message: `${e.message}; this file is written out unexpanded`,
			span: { start: e.start, end: e.end },
		}));
		return { text: source, diagnostics, aux: [], expansions: 0 };
	}
	const engine = new Engine(options.registry, options.caller, options.recursionLimit ?? DEFAULT_RECURSION_LIMIT, options.checkOutput ?? true);
	const cursor = new TokenCursor(stream);
	const { edits, log } = await engine.expandRange(cursor, 0, cursor.count, { depth: 0, callSite: undefined });
	return { text: spliceSource(source, cursor, edits), diagnostics: log.diagnostics, aux: log.aux, expansions: log.expansions };
}

/** What one piece of work produced, merged in source order by its parent. */
class Log {
	readonly diagnostics: DriverDiagnostic[] = [];
	readonly aux: AuxEntry[] = [];
	expansions = 0;

	absorb(other: Log): void {
		this.diagnostics.push(...other.diagnostics);
		this.aux.push(...other.aux);
		this.expansions += other.expansions;
	}
}

/** The stream being scanned: the source (depth 0) or the output of a call `depth` levels deep. */
interface Level {
	readonly depth: number;
	/** The call whose output this is; generated tokens in it map here. Undefined for the source. */
	readonly callSite: Span | undefined;
}

interface Expanded {
	edits: Edit[];
	log: Log;
}

class Engine {
	constructor(
		private readonly registry: MacroRegistry,
		private readonly caller: MacroCaller,
		private readonly recursionLimit: number,
		private readonly checkOutput: boolean,
	) {}

	/** Expands the call sites among tokens [from, to) of a stream at `level`. */
	async expandRange(cursor: TokenCursor, from: number, to: number, level: Level): Promise<Expanded> {
		const { sites, problems, unknownNames } = findCallSites(cursor, from, to, this.registry);
		const log = new Log();
		for (const p of problems) {
			this.report(log, 'error', p.message, p.code ?? 'malformed-call', cursor.rangeSpan(p.from, p.to) ?? level.callSite);
		}
		// Names in the source only: macro output passes the source's attributes on, and would say it again.
		if (level.depth === 0) for (const unknown of unknownNames) this.suggestName(log, unknown, cursor.rangeSpan(unknown.from, unknown.to));
		const results = await Promise.all(sites.map((site) => (site.kind === 'inline' ? this.expandInline(cursor, site, level) : this.expandItem(cursor, site, level))));
		const edits: Edit[] = [];
		for (const r of results) {
			edits.push(...r.edits);
			log.absorb(r.log);
		}
		return { edits, log };
	}

	/** Expands a stream of macro output one level deeper and returns the resulting stream. */
	async expandOutput(stream: TokenStream, level: Level): Promise<{ stream: TokenStream; log: Log }> {
		const cursor = new TokenCursor(stream);
		const { edits, log } = await this.expandRange(cursor, 0, cursor.count, level);
		if (edits.length === 0) return { stream, log };
		const builder = new TokenStreamBuilder();
		let at = 0;
		for (const edit of edits) {
			builder.appendRange(stream, at, edit.from);
			if (edit.tokens !== undefined) builder.appendStream(edit.tokens);
			at = edit.to;
		}
		builder.appendRange(stream, at, cursor.count);
		return { stream: builder.build(), log };
	}

	// ---- Inline calls ----

	private async expandInline(cursor: TokenCursor, site: InlineSite, level: Level): Promise<Expanded> {
		const log = new Log();
		const callSite = cursor.rangeSpan(site.start, site.end) ?? level.callSite!;
		const provider = this.provider('inline', site.name, callSite, log);
		if (provider === undefined) return this.keepAndScan(cursor, site.argsFrom, site.argsTo, level, log);
		if (this.isTooDeep(level, macroLabel('inline', site.name), callSite, log)) return { edits: [], log };

		const args = compactTokens(cursor.stream, site.argsFrom, site.argsTo);
		const run = await this.runMacro(log, 'inline', site.name, provider, callSite, level, () =>
			this.caller.expandInline({ name: site.name, args, callSite, library: provider.library }),
		);
		if (run === undefined) return { edits: [], log };
		switch (run.outcome) {
			case 'replace': {
				const stream = run.tokens ?? emptyTokenStream();
				const tokens = isOperand(cursor, site) ? parenthesize(stream) : stream;
				return { edits: [{ from: site.start, to: site.end, tokens, layout: true }], log };
			}
			case 'remove':
				return { edits: [{ from: site.start, to: site.end, tokens: undefined, layout: false }], log };
			default:
				return this.keepAndScan(cursor, site.argsFrom, site.argsTo, level, log);
		}
	}

	// ---- Items with macro attributes ----

	private async expandItem(cursor: TokenCursor, site: ItemSite, level: Level): Promise<Expanded> {
		const log = new Log();
		const edits: Edit[] = [];
		const appended: TokenStream[] = [];
		const finish = (): Expanded => {
			if (appended.length > 0) {
				const builder = new TokenStreamBuilder();
				for (const stream of appended) builder.appendStream(stream);
				edits.push({ from: site.end, to: site.end, tokens: builder.build(), layout: true });
			}
			return { edits, log };
		};

		const first = site.attributes.find((a) => a.kind !== 'inert')!;
		if (this.isTooDeep(level, `\`${describeAttribute(first)}\``, cursor.rangeSpan(first.start, first.end) ?? level.callSite!, log)) {
			return { edits: [], log };
		}
		for (const attribute of site.attributes) {
			if (attribute.kind === 'attribute') {
				const done = await this.runAttribute(cursor, site, attribute, level, log);
				if (done !== undefined) {
					// A removal spans the whole item: edits made above it (a derive's rewrite) go with it.
					if (done.from === site.start) edits.length = 0;
					edits.push(done);
					return finish();
				}
			} else if (attribute.kind === 'derive') {
				const { rewrite, outputs } = await this.runDerives(cursor, site, attribute, level, log);
				if (rewrite !== undefined) edits.push(rewrite);
				appended.push(...outputs);
			}
		}
		// Every macro attribute kept the item: expand the calls inside it.
		const inner = await this.expandRange(cursor, site.bodyStart, site.end, level);
		edits.push(...inner.edits);
		log.absorb(inner.log);
		return finish();
	}

	/** Runs one attribute macro; returns the edit when it replaced or removed the item, undefined when it kept it. */
	private async runAttribute(
		cursor: TokenCursor,
		site: ItemSite,
		attribute: Extract<Attribute, { kind: 'attribute' }>,
		level: Level,
		log: Log,
	): Promise<Edit | undefined> {
		const callSite = cursor.rangeSpan(attribute.start, attribute.end) ?? level.callSite!;
		const provider = this.provider('attribute', attribute.name, callSite, log);
		if (provider === undefined) return undefined;
		const args = compactTokens(cursor.stream, attribute.argsFrom, attribute.argsTo);
		const item = compactTokens(cursor.stream, attribute.end, site.end);
		const run = await this.runMacro(log, 'attribute', attribute.name, provider, callSite, level, () =>
			this.caller.expandAttribute({ name: attribute.name, args, item, callSite, library: provider.library }),
		);
		if (run === undefined) return undefined;
		if (run.outcome === 'replace') return { from: attribute.start, to: site.end, tokens: run.tokens ?? emptyTokenStream(), layout: true };
		// The whole item goes, attributes above this one included: they would otherwise attach to the next item.
		if (run.outcome === 'remove') return { from: site.start, to: site.end, tokens: undefined, layout: false };
		return undefined;
	}

	/** Runs the provided derives of one `#[derive(…)]`, one call per library; returns the attribute's rewrite and the outputs. */
	private async runDerives(
		cursor: TokenCursor,
		site: ItemSite,
		attribute: Extract<Attribute, { kind: 'derive' }>,
		level: Level,
		log: Log,
	): Promise<{ rewrite: Edit | undefined; outputs: TokenStream[] }> {
		const attributeSpan = cursor.rangeSpan(attribute.start, attribute.end) ?? level.callSite!;
		const groups = new Map<string, { provider: MacroProvider; entries: DeriveEntry[] }>();
		for (const entry of attribute.entries) {
			if (!entry.isProvided) continue;
			const span = cursor.rangeSpan(entry.from, entry.to) ?? attributeSpan;
			const provider = this.provider('derive', entry.name!, span, log);
			if (provider === undefined) continue;
			const group = groups.get(provider.library) ?? { provider, entries: [] };
			group.entries.push(entry);
			groups.set(provider.library, group);
		}
		const item = compactTokens(cursor.stream, attribute.end, site.end);
		const expanded = new Set<DeriveEntry>();
		const outputs: TokenStream[] = [];
		for (const { provider, entries } of groups.values()) {
			const names = entries.map((e) => e.name!);
			const callSite = entries.length === 1 ? (cursor.rangeSpan(entries[0].from, entries[0].to) ?? attributeSpan) : attributeSpan;
			const run = await this.runMacro(log, 'derive', names.join(', '), provider, callSite, level, () =>
				this.caller.expandDerive({ derives: names, item, callSite, library: provider.library }),
			);
			// A derive that bailed keeps its name in the attribute, as written.
			if (run === undefined || run.outcome === 'bail') continue;
			for (const e of entries) expanded.add(e);
			if (run.tokens !== undefined) outputs.push(run.tokens);
		}
		if (expanded.size === 0) return { rewrite: undefined, outputs };
		const kept = attribute.entries.filter((e) => !expanded.has(e));
		if (kept.length === 0) return { rewrite: { from: attribute.start, to: attribute.end, tokens: undefined, layout: false }, outputs };
		return { rewrite: { from: attribute.start, to: attribute.end, tokens: rewriteDerive(cursor, attribute, kept), layout: false }, outputs };
	}

	// ---- Shared steps ----

	/** The code stays as written; calls inside tokens [from, to) are still expanded, at the same level. */
	private async keepAndScan(cursor: TokenCursor, from: number, to: number, level: Level, log: Log): Promise<Expanded> {
		const inner = await this.expandRange(cursor, from, to, level);
		log.absorb(inner.log);
		return { edits: inner.edits, log };
	}

	/**
	 * The core step of every expansion (inline, attribute, derive): sends the call to its provider,
	 * keeps the result's diagnostics and aux data, and expands REPLACE output one level deeper.
	 * Undefined when the request failed (reported); `tokens` is the expanded output of a REPLACE that
	 * gave tokens, else undefined.
	 */
	private async runMacro(
		log: Log,
		kind: MacroKind,
		name: string,
		provider: MacroProvider,
		callSite: Span,
		level: Level,
		send: () => Promise<ExpandResult>,
	): Promise<{ outcome: ExpandResult['outcome']; tokens: TokenStream | undefined } | undefined> {
		const origin: MacroOrigin = { kind, name, package: provider.package };
		const result = await this.call(log, origin, callSite, send);
		if (result === undefined) return undefined;
		this.record(log, result, provider, origin, callSite);
		if (result.outcome !== 'replace' || result.tokens === undefined) return { outcome: result.outcome, tokens: undefined };
		if (this.checkOutput && !this.isSoundOutput(log, result.tokens, origin, callSite)) return { outcome: 'bail', tokens: undefined };
		// Most output calls no macro: without a `!` or a `#` in its text there is nothing to scan for.
		if (!mayCallMacros(result.tokens)) return { outcome: result.outcome, tokens: result.tokens };
		const out = await this.expandOutput(result.tokens, { depth: level.depth + 1, callSite });
		log.absorb(out.log);
		return { outcome: result.outcome, tokens: out.stream };
	}

	/** Warns about an attribute or derive name no package provides when a loaded one is close to it. */
	private suggestName(log: Log, unknown: UnknownMacroName, span: Span | undefined): void {
		const builtins = unknown.kind === 'attribute' ? BUILTIN_ATTRIBUTES : BUILTIN_DERIVES;
		if (builtins.has(unknown.name)) return;
		const close = this.registry.suggest(unknown.kind, unknown.name);
		if (close === undefined) return;
		const written = unknown.kind === 'attribute' ? `\`#[${unknown.name}]\`` : `derive \`${unknown.name}\``;
		const meant = unknown.kind === 'attribute' ? `\`#[${close.name}]\`` : `\`${close.name}\``;
		this.report(
			log,
			'warning',
			`no macro package provides ${written}, so it is left as written\nhelp: did you mean ${meant} (package \`${close.package}\`)?`,
			'unknown-macro',
			span,
		);
	}

	/** Checks a REPLACE output; reports what is wrong at the call site (the call then keeps its code). */
	private isSoundOutput(log: Log, tokens: TokenStream, origin: MacroOrigin, callSite: Span): boolean {
		const problem = checkTokenStream(tokens);
		if (problem === undefined) return true;
		log.diagnostics.push(invalidOutput(origin, problem, callSite));
		return false;
	}

	/** The one provider of a macro; reports an ambiguity (and returns undefined) when two packages provide it. */
	private provider(kind: MacroKind, name: string, callSite: Span, log: Log): MacroProvider | undefined {
		const lookup = this.registry.lookup(kind, name);
		if (lookup.found === 'one') return lookup.provider;
		if (lookup.found === 'many') {
			const packages = lookup.providers.map((p) => p.package);
			this.report(log, 'error', `${describeAmbiguity(kind, name, packages)}, so it is not expanded`, 'ambiguous-macro', callSite);
		}
		return undefined;
	}

	private isTooDeep(level: Level, shown: string, callSite: Span, log: Log): boolean {
		if (level.depth < this.recursionLimit) return false;
		this.report(
			log,
			'error',
			`recursion limit reached while expanding ${shown}: macro output still calls macros after ${this.recursionLimit} nested expansions\n` +
				'help: a macro whose output calls itself never ends; if the nesting is intended, raise the limit (--recursion-limit)',
			'recursion-limit',
			callSite,
		);
		return true;
	}

	/** Sends one call; a request the host refused becomes a diagnostic and undefined. */
	private async call(log: Log, origin: MacroOrigin, callSite: Span, send: () => Promise<ExpandResult>): Promise<ExpandResult | undefined> {
		log.expansions++;
		try {
			return await send();
		} catch (error) {
			log.diagnostics.push({
				severity: 'error',
				code: 'request-failed',
				message: `${macroLabel(origin.kind, origin.name)} (package \`${origin.package}\`) could not be expanded: ${(error as Error)?.message ?? String(error)}`,
				span: callSite,
				macro: origin,
			});
			return undefined;
		}
	}

	/** Keeps a result's diagnostics and aux data. */
	private record(log: Log, result: ExpandResult, provider: MacroProvider, origin: MacroOrigin, callSite: Span): void {
		for (const d of result.diagnostics as Diagnostic[]) log.diagnostics.push(fromMacroDiagnostic(d, callSite, origin));
		if (result.auxData === undefined) return;
		// A derive call's aux data is an array with one entry per derive that attached some.
		const values = origin.kind === 'derive' && Array.isArray(result.auxData) ? result.auxData : [result.auxData];
		for (const value of values) log.aux.push({ library: provider.library, value });
	}

	private report(log: Log, severity: DriverDiagnostic['severity'], message: string, code: DriverDiagnosticCode, span: Span | undefined): void {
		log.diagnostics.push(span === undefined ? { severity, message, code } : { severity, message, code, span });
	}
}

// Tokens next to which an inline call is an operand: binary and unary operators, `.`, `?`, ranges, `as`.
const OPERATORS = new Set(['+', '-', '*', '/', '%', '^', '&', '|', '<<', '>>', '==', '!=', '<', '>', '<=', '>=', '&&', '||', '.', '?', '..', '..=', '!', '@']);

/**
 * True when the call stands next to an operator (`add!(a, b) * 2`, `-m!(x)`, `m!(x).f()`): there it
 * is one operand, as Rust and Scarb parse a macro's output into one expression node, so its printed
 * output needs parentheses to keep that meaning (`((a) + (b)) * 2`, not `(a) + (b) * 2`).
 */
function isOperand(cursor: TokenCursor, site: InlineSite): boolean {
	const before = site.start - 1;
	const after = site.end;
	const isOperator = (i: number): boolean => i >= 0 && i < cursor.count && !cursor.isIdent(i) && OPERATORS.has(cursor.text(i));
	return isOperator(before) || isOperator(after) || (cursor.isIdent(after) && cursor.text(after) === 'as');
}

const PARENS: TokenStream = { text: '()', records: [1, 1, 0, 1, SPAN_CALL_SITE, SPAN_CALL_SITE, 1, 0, 1, 1, SPAN_CALL_SITE, SPAN_CALL_SITE] };

/** The stream in generated parentheses, unless it is one token or one delimited group already. */
function parenthesize(stream: TokenStream): TokenStream {
	const cursor = new TokenCursor(stream);
	if (cursor.count <= 1 || (cursor.isOpen(0) && cursor.matchClose(0, cursor.count) === cursor.count - 1)) return stream;
	return new TokenStreamBuilder().appendRange(PARENS, 0, 1).appendStream(stream).setLastJoint(true).appendRange(PARENS, 1, 2).build();
}


/** False when `stream` cannot hold a macro call: an inline call needs a `!`, an attribute or derive a `#`. */
function mayCallMacros(stream: TokenStream): boolean {
	return stream.text.includes('!') || stream.text.includes('#');
}

/** `#[derive(…)]` with only the `kept` entries, each with its own tokens (and spans) from the source. */
function rewriteDerive(cursor: TokenCursor, attribute: Extract<Attribute, { kind: 'derive' }>, kept: readonly DeriveEntry[]): TokenStream {
	const stream = cursor.stream;
	const entries = attribute.entries;
	const builder = new TokenStreamBuilder();
	builder.appendRange(stream, attribute.start, entries[0].from); // `#[derive(`
	kept.forEach((entry, i) => {
		builder.appendRange(stream, entry.from, entry.to);
		// Not the last kept entry, so not the last entry either: the source has a comma right after it.
		if (i < kept.length - 1) builder.appendRange(stream, entry.to, entry.to + 1);
		else builder.setLastJoint(true);
	});
	builder.appendRange(stream, attribute.end - 2, attribute.end); // `)]`
	return builder.build();
}
