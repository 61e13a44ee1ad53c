/**
 * The client's expand lane (client/expand-lane.ts) against a peer that answers oddly
 * (fixtures/odd-reply-host.js): each odd reply fails its own call with a message that says what was
 * wrong, or is ignored, and the calls after it go on.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MacroHost, MacroHostRequestError } from '../../client/index.js';
import { tokenize } from '../../tokens/index.js';

const hostScript = fileURLToPath(new URL('./fixtures/odd-reply-host.js', import.meta.url));
const args = tokenize('a, b').stream;

describe('the expand lane', () => {
	let host: MacroHost;
	beforeAll(async () => {
		host = await MacroHost.start({ hostScript, warmStandby: false });
	});
	afterAll(async () => {
		await host?.close();
	});

	it('fails a call whose reply has neither a result nor an error, and goes on', async () => {
		const error = await host.expandInline({ name: 'no-result', args }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(MacroHostRequestError);
		expect((error as MacroHostRequestError).message).toBe("the host's reply to expandInline has neither a result nor an error");
		expect(await host.expandInline({ name: 'fine', args })).toEqual({ outcome: 'leave', diagnostics: [] });
	});

	it('ignores a reply to an id it never sent and settles the call its real reply answers', async () => {
		expect(await host.expandInline({ name: 'stray-id', args })).toEqual({ outcome: 'leave', diagnostics: [] });
		expect(await host.expandInline({ name: 'fine', args })).toEqual({ outcome: 'leave', diagnostics: [] });
	});

	it("hands the host's error reply to the caller as the connection would", async () => {
		const error = await host.expandInline({ name: 'error', args }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(MacroHostRequestError);
		expect(error).toMatchObject({ method: 'expandInline', code: -32001, message: 'refused on purpose' });
	});

	it('sends expand calls made behind a request of the connection through the connection, in order', async () => {
		// listMacros goes through vscode-jsonrpc's connection (this host refuses it); the expand calls made
		// while it is unanswered go there too, so their replies cannot overtake its reply.
		const listed = host.listMacros().then(
			() => 'answered',
			(e: unknown) => (e as Error).message,
		);
		const expanded = [host.expandInline({ name: 'fine', args }), host.expandInline({ name: 'fine', args })];
		expect(await listed).toBe('odd-reply-host does not serve listMacros (request 1)');
		expect(await Promise.all(expanded)).toEqual([
			{ outcome: 'leave', diagnostics: [] },
			{ outcome: 'leave', diagnostics: [] },
		]);
		// Had an expand reply overtaken it, the supervisor would have sent listMacros again (an answer out of
		// order means the host never got the older request).
		await expect(host.listMacros()).rejects.toThrow('odd-reply-host does not serve listMacros (request 2)');
	});
});
