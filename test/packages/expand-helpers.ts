/** Expanding through a real MacroHost with source text in and source text out. */
import { afterAll } from 'vitest';
import { MacroHost as MacroHostClass, type MacroHost } from '../../dist/client/index.js';
import { printTokens } from '../../dist/tokens/token-printer.js';
import { tokenize } from '../../dist/tokens/tokenizer.js';

/** A token stream for the JSON wire: records as a plain array. */
export function tokens(source: string): { text: string; records: number[] } {
	const { stream, errors } = tokenize(source);
	if (errors.length > 0) throw new Error(`test source does not tokenize: ${errors[0]!.message}`);
	return { text: stream.text, records: Array.from(stream.records) };
}

/** `name!(args)` through the host; the outcome and the printed output. */
export async function expandInline(host: MacroHost, name: string, args: string, library?: string): Promise<{ outcome: string; code: string | undefined }> {
	const result = await host.expandInline({ name, args: tokens(args), library });
	return { outcome: result.outcome, code: result.tokens ? printTokens(result.tokens, { layout: false }) : undefined };
}

/**
 * A `startHost()` for one test file: every host it starts is closed after the file's tests (register it at the top
 * level of the file, where vitest's afterAll applies to the whole file).
 */
export function hostStarter(): () => Promise<MacroHost> {
	const hosts: MacroHost[] = [];
	afterAll(async () => {
		await Promise.all(hosts.map((h) => h.close()));
	});
	return async () => {
		const host = await MacroHostClass.start();
		hosts.push(host);
		return host;
	};
}
