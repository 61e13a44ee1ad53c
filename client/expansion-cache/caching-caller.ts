/**
 * The one place a macro call meets the expansion cache: a {@link MacroCaller} that answers a call
 * from the cache when it can, and otherwise sends it on and stores what comes back. With the
 * determinism check it sends every call twice, to two different hosts, skips the cache lookup (a hit
 * would check nothing), and never stores a call whose two results differ; that call gets a warning.
 */
import { Span, type ExpandAttributeParams, type ExpandDeriveParams, type ExpandInlineParams, type ExpandResult } from '../../protocol/expand.js';
import type { MacroKind } from '../../protocol/library.js';
import type { MacroCaller } from '../../expansion/expansion-engine.js';
import { callKey, type KeyedCall, type LibraryIdentity } from './call-key.js';
import { describeDifference } from './determinism.js';
import type { ExpansionCache } from './expansion-cache.js';

/** What the cache knows of a loaded library. */
export interface CacheableLibrary {
	readonly identity: LibraryIdentity;
	/** False when its package opted out (`[cairo-plugin] expansion-cache = false`). */
	readonly cacheable: boolean;
}

/** Where calls that miss go. */
export interface CallSender {
	/** Sends a call to one host. */
	once(send: (caller: MacroCaller) => Promise<ExpandResult>): Promise<ExpandResult>;
	/** Sends a call to two different hosts at once (the determinism check); needed only with checkDeterminism. */
	twice?(send: (caller: MacroCaller) => Promise<ExpandResult>): Promise<[ExpandResult, ExpandResult]>;
}

/** Options of a {@link CachingCaller}. */
export interface CachingCallerOptions {
	/** The cache; undefined when it is off (the determinism check still runs). */
	readonly cache: ExpansionCache | undefined;
	/** The cache's view of a library, by id; undefined for a library it does not know (its calls are not cached). */
	readonly library: (id: string) => CacheableLibrary | undefined;
	readonly sender: CallSender;
	/** Send every call twice and compare. @default false */
	readonly checkDeterminism?: boolean;
}

/** A MacroCaller in front of the cache; see the module comment. */
export class CachingCaller implements MacroCaller {
	constructor(private readonly options: CachingCallerOptions) {}

	expandInline(params: ExpandInlineParams): Promise<ExpandResult> {
		return this.#run(params?.library, { kind: 'inline', names: [params?.name], args: params?.args, callSite: params?.callSite! }, (c) => c.expandInline(params));
	}

	expandAttribute(params: ExpandAttributeParams): Promise<ExpandResult> {
		const call = { kind: 'attribute' as MacroKind, names: [params?.name], args: params?.args, item: params?.item, callSite: params?.callSite! };
		return this.#run(params.library, call, (c) => c.expandAttribute(params));
	}

	expandDerive(params: ExpandDeriveParams): Promise<ExpandResult> {
		return this.#run(params?.library, { kind: 'derive', names: params?.derives, item: params?.item, callSite: params?.callSite! }, (c) => c.expandDerive(params));
	}

	#run(libraryId: string | undefined, call: KeyedCall, send: (caller: MacroCaller) => Promise<ExpandResult>): Promise<ExpandResult> {
		const { cache, sender, checkDeterminism = false } = this.options;
		// No cache and no check (`--no-expansion-cache`): straight to a host, with no layer of our own.
		if (cache === undefined && !checkDeterminism) return sender.once(send);
		return this.#runCached(this.#key(libraryId, call), call, send);
	}

	async #runCached(key: string | undefined, call: KeyedCall, send: (caller: MacroCaller) => Promise<ExpandResult>): Promise<ExpandResult> {
		const { cache, sender, checkDeterminism = false } = this.options;
		const base = key === undefined ? 0 : call.callSite.start;
		if (key !== undefined && !checkDeterminism) {
			const hit = await cache!.lookup(key, base);
			if (hit !== undefined) return hit;
		}
		if (checkDeterminism) {
			if (sender.twice === undefined) throw new TypeError('the determinism check needs two hosts to send each call to');
			const [first, second] = await sender.twice(send);
			const difference = describeDifference(first, second);
			if (difference !== undefined) return withWarning(first, call, difference);
			if (key !== undefined) await cache!.store(key, base, first);
			return first;
		}
		const result = await sender.once(send);
		if (key !== undefined) await cache!.store(key, base, result);
		return result;
	}

	/** The call's key, or undefined when it is not cached (no cache, an unknown or opted-out library, no call site). */
	#key(libraryId: string | undefined, call: KeyedCall): string | undefined {
		// Malformed params are left for the host to refuse, uncached.
		if (this.options.cache === undefined || typeof libraryId !== 'string' || !isWellFormed(call)) return undefined;
		const library = this.options.library(libraryId);
		if (library === undefined || !library.cacheable) return undefined;
		return callKey(library.identity, call);
	}
}

function isWellFormed(call: KeyedCall): boolean {
	const isStream = (s: unknown): boolean => s === undefined || (typeof (s as { text?: unknown }).text === 'string' && (Array.isArray((s as { records?: unknown }).records) || (s as { records?: unknown }).records instanceof Uint32Array));
	return (
		Array.isArray(call.names) &&
		call.names.every((n) => typeof n === 'string') &&
		Span.is(call.callSite) &&
		isStream(call.args) &&
		isStream(call.item)
	);
}

function withWarning(result: ExpandResult, call: KeyedCall, difference: string): ExpandResult {
	const shown = call.kind === 'inline' ? `\`${call.names[0]}!\`` : call.kind === 'attribute' ? `\`#[${call.names[0]}]\`` : `derive \`${call.names.join(', ')}\``;
	return {
		...result,
		diagnostics: [
			...result.diagnostics,
			{
				severity: 'warning',
				code: 'nondeterministic',
				message: `${shown} is not deterministic: two hosts expanded this call differently (${difference}); the first result is used and nothing is cached`,
			},
		],
	};
}
