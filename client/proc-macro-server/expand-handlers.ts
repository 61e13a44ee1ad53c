/**
 * The three expand methods: find the macro the call names in its component, read the v2 streams into our flat
 * streams, expand (from the expansion cache, else on a free host of the pool), and answer a ProcMacroResult.
 *
 * Every call answers a result, never an error: the language server restarts the whole server on an error response,
 * so a macro that crashes its host, hangs past the time limit, is unknown or is refused answers an error diagnostic
 * on its own call and nothing else is disturbed. What the code becomes, per outcome of our ABI:
 * - replace: the macro's tokens;
 * - remove: nothing (Scarb removes an item or call whose result is empty);
 * - leave or bail (a crash included): an attribute's item as written (so the item stays, without the attribute);
 *   nothing for an inline macro or a derive (Scarb's protocol has no way to keep an inline call as written).
 *
 * Derives are expanded one by one in sorted order, as Scarb's server does; their code is concatenated and each one's
 * code mappings are shifted by the bytes before it.
 */
import type { ExpandResult } from '../../protocol/expand.js';
import type {
	Diagnostic,
	ExpandAttributeParams,
	ExpandDeriveParams,
	ExpandInlineMacroParams,
	ProcMacroResult,
	TextSpan,
	TokenStreamV2,
} from '../../protocol/proc-macro-server.js';
import type { MacroCaller } from '../../expansion/expansion-engine.js';
import { CachingCaller } from '../expansion-cache/caching-caller.js';
import type { ExpansionCache } from '../expansion-cache/expansion-cache.js';
import { generateCodeMappings } from './code-mappings.js';
import type { HostSlots } from './host-slots.js';
import { flattenTokenStreamV2, innerArguments, type FlattenedStream } from './input-stream.js';
import { combinedFingerprint } from './macro-hash.js';
import { codeFromInput, codeFromTokens, NO_CODE, toWireDiagnostics, type GeneratedCode } from './result-conversion.js';
import type { ComponentMacro, WorkspaceMacros } from './workspace-macros.js';

/** Serves expandAttribute, expandDerive and expandInline; see the module comment. */
export class ExpandHandlers {
	/** Cache first (when there is one), then a free host. */
	readonly #caller: MacroCaller;

	constructor(
		hosts: HostSlots,
		private readonly workspaces: WorkspaceMacros,
		cache: ExpansionCache | undefined,
	) {
		this.#caller = new CachingCaller({ cache, library: (id) => workspaces.cacheable(id), sender: { once: (send) => hosts.run(send) } });
	}

	/** `#[attr(args)] item`. */
	async expandAttribute(params: ExpandAttributeParams): Promise<ProcMacroResult> {
		const callSite = params.adapted_call_site;
		const item = flattenTokenStreamV2(params.item);
		const kept = (): GeneratedCode => codeFromInput(params.item, item.text);
		const found = this.workspaces.find(params.context, 'attribute', params.attr);
		if ('failure' in found) return answer(kept(), callSite, [errorDiagnostic(found.failure)], 0, params.item);
		const args = innerArguments(flattenTokenStreamV2(params.args));
		const expanded = await this.#expand(found, (caller) =>
			caller.expandAttribute({ name: found.name, library: found.library, args: args.stream, item: item.stream, callSite }),
		);
		const code = generatedCode(expanded, callSite, kept);
		const diagnostics = [
			...readWarnings(`the arguments of ${describeMacro(found)}`, args),
			...readWarnings(`the item of ${describeMacro(found)}`, item),
			...toWireDiagnostics(expanded.diagnostics),
		];
		return answer(code, callSite, diagnostics, found.hash, params.item);
	}

	/** `#[derive(A, B)] item`: each derive in sorted order, code concatenated. */
	async expandDerive(params: ExpandDeriveParams): Promise<ProcMacroResult> {
		const callSite = params.call_site;
		const item = flattenTokenStreamV2(params.item);
		const derives = [...params.derives].sort();
		const texts: string[] = [];
		const mappings: ProcMacroResult['code_mappings'] & object = [];
		const diagnostics = readWarnings(`the item of #[derive(${derives.join(', ')})]`, item);
		const hashes: number[] = [];
		let width = 0;
		for (const derive of derives) {
			const found = this.workspaces.find(params.context, 'derive', derive);
			if ('failure' in found) {
				diagnostics.push(errorDiagnostic(found.failure));
				hashes.push(0);
				continue;
			}
			hashes.push(found.hash);
			const expanded = await this.#expand(found, (caller) =>
				caller.expandDerive({ derives: [found.name], library: found.library, item: item.stream, callSite }),
			);
			const code = generatedCode(expanded, callSite);
			// One push per mapping: spreading a large output's mappings into push() would overflow the stack.
			for (const mapping of generateCodeMappings(code.pieces, callSite, width)) mappings.push(mapping);
			diagnostics.push(...toWireDiagnostics(expanded.diagnostics));
			texts.push(code.text);
			width += Buffer.byteLength(code.text, 'utf8');
		}
		return {
			token_stream: { value: texts.join(''), metadata: v1Metadata(params.item) },
			diagnostics,
			code_mappings: mappings,
			fingerprint: combinedFingerprint(hashes),
		};
	}

	/** `name!(args)`. */
	async expandInline(params: ExpandInlineMacroParams): Promise<ProcMacroResult> {
		const callSite = params.call_site;
		const found = this.workspaces.find(params.context, 'inline', params.name);
		if ('failure' in found) return answer(NO_CODE, callSite, [errorDiagnostic(found.failure)], 0, params.args);
		const args = innerArguments(flattenTokenStreamV2(params.args));
		const expanded = await this.#expand(found, (caller) => caller.expandInline({ name: found.name, library: found.library, args: args.stream, callSite }));
		const code = generatedCode(expanded, callSite);
		return answer(code, callSite, [...readWarnings(`the arguments of ${describeMacro(found)}`, args), ...toWireDiagnostics(expanded.diagnostics)], found.hash, params.args);
	}

	/**
	 * One call, from the expansion cache or on a free host. A crash, a hang or a host that gave up already come back
	 * as a bail result; a request the host refuses (or any other failure) becomes one too, so the caller always has a
	 * result to answer.
	 */
	async #expand(macro: ComponentMacro, call: (caller: MacroCaller) => Promise<ExpandResult>): Promise<ExpandResult> {
		try {
			return await call(this.#caller);
		} catch (error) {
			const reason = (error as Error)?.message ?? String(error);
			return {
				outcome: 'bail',
				diagnostics: [{ severity: 'error', message: `${describeMacro(macro)} could not be expanded: ${reason}` }],
			};
		}
	}
}

/** The code an outcome stands for (see the module comment); `kept` is the code when the input stays as written. */
function generatedCode(expanded: ExpandResult, callSite: TextSpan, kept: () => GeneratedCode = () => NO_CODE): GeneratedCode {
	if (expanded.outcome === 'replace') return expanded.tokens === undefined ? NO_CODE : codeFromTokens(expanded.tokens, callSite);
	return expanded.outcome === 'remove' ? NO_CODE : kept();
}

/** A ProcMacroResult of `code` with Scarb's code mappings. */
function answer(code: GeneratedCode, callSite: TextSpan, diagnostics: Diagnostic[], fingerprint: number, input: TokenStreamV2): ProcMacroResult {
	return {
		token_stream: { value: code.text, metadata: v1Metadata(input) },
		diagnostics,
		code_mappings: generateCodeMappings(code.pieces, callSite),
		fingerprint,
	};
}

/** The v1 metadata of the input's file (the v1 form has no edition). */
function v1Metadata(input: TokenStreamV2): { original_file_path: string | null; file_id: string | null } {
	return { original_file_path: input.metadata.original_file_path ?? null, file_id: input.metadata.file_id ?? null };
}

function errorDiagnostic(message: string): Diagnostic {
	return { message, severity: 'Error', span: null };
}

/** Warnings for input the tokenizer could not read: the macro still runs on every token that could be read. */
function readWarnings(subject: string, input: FlattenedStream): Diagnostic[] {
	return input.errors.map((e) => ({
		message: `${subject} could not all be read as tokens (${e.message}); the macro ran on the tokens around it`,
		severity: 'Warning',
		span: { start: e.start, end: e.end },
	}));
}

function describeMacro(macro: ComponentMacro): string {
	return `${macro.kind} macro \`${macro.name}\` of package ${macro.packageName}`;
}
