/**
 * Scarb macro libraries (stable ABI v1 and v2, built from test/fixtures/scarb/) through a real host
 * process: what loadLibrary reports, every kind of expansion, spans both ways, diagnostics, aux data
 * and the post-process callback.
 */
import { realpathSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExpandResult, LibraryInfo } from '../../dist/protocol/index.js';
import { tokenize } from '../../dist/tokens/tokenizer.js';
import { tokensOf } from '../client/support.js';
import { connectHost, fixture, initialize, type ConnectedHost } from './harness.js';

const V1 = realpathSync(fixture('libv1_macros.so'));
const V2 = realpathSync(fixture('libv2_macros.so'));

/** The tokens of `text` as the tokenizer makes them (trivia text kept), spans from `spanBase`; records as JSON sends them. */
function source(text: string, spanBase: number): { text: string; records: number[] } {
	const { stream } = tokenize(text, { spanBase });
	return { text: stream.text, records: Array.from(stream.records) };
}

/** `struct Point {}` at offset 40, after an attribute at 20..38. */
const ITEM = source('struct Point {}', 40);
const ITEM_TOKENS = [
	{ kind: 0, text: 'struct', span: [40, 46] },
	{ kind: 0, text: 'Point', span: [47, 52] },
	{ kind: 1, text: '{', span: [53, 54] },
	{ kind: 1, text: '}', span: [54, 55] },
];

async function startWith(library: string): Promise<{ host: ConnectedHost; info: LibraryInfo }> {
	const host = connectHost('json');
	await initialize(host.connection);
	const info = await host.connection.sendRequest<LibraryInfo>('loadLibrary', { path: library });
	return { host, info };
}

/** Polls `read` until it contains `text`, for up to 10 s. */
async function waitForText(read: () => string, text: string): Promise<void> {
	const deadline = Date.now() + 10_000;
	while (!read().includes(text)) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(text)} in:\n${read()}`);
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

describe.each([
	{ abi: 'scarb-v2', library: V2, version: 2 },
	{ abi: 'scarb-v1', library: V1, version: 1 },
])('a Scarb $abi library', ({ abi, library, version }) => {
	let host: ConnectedHost;
	let info: LibraryInfo;
	beforeAll(async () => ({ host, info } = await startWith(library)));
	afterAll(async () => {
		await host.close();
	});
	const expand = (method: string, params: object) => host.connection.sendRequest<ExpandResult>(method, { library, ...params });

	it('is reported with its ABI, and its expansions with the names Cairo code calls them by', () => {
		expect(info).toMatchObject({ library, abi, abiVersion: version, sandbox: 'native', hasPostProcess: true });
		const byName = new Map(info.macros.map((m) => [m.name, m]));
		expect(byName.get('identity')).toEqual({ name: 'identity', kind: 'inline', doc: 'Returns its arguments.' });
		// A derive is declared `named` and called `Named`; an executable attribute loses its `__exec_attr_` prefix.
		expect(byName.get('Named')).toEqual({ name: 'Named', kind: 'derive', doc: 'Derives Named.' });
		expect(byName.get('entry')).toEqual({ name: 'entry', kind: 'attribute', doc: '', executable: true });
		expect(byName.has('named')).toBe(false);
		expect(byName.has('__exec_attr_entry')).toBe(false);
	});

	it('an identity inline macro gets its arguments in parentheses, as Scarb passes them, trivia included', async () => {
		// identity!(a,  1) with the `(` at 9: the arguments are `a,  1` at 10..15.
		const result = await expand('expandInline', { name: 'identity', args: source('a,  1', 10), callSite: { start: 0, end: 16 } });
		expect(result.outcome).toBe('replace');
		expect(result.diagnostics).toEqual([]);
		expect(result.tokens!.text).toBe('(a,  1)');
		// v1 output has no spans: every token is at the call site.
		const span = (s: [number, number]) => (version === 2 ? s : 'call-site');
		expect(tokensOf(result.tokens)).toEqual([
			{ kind: 1, text: '(', span: span([9, 10]) },
			{ kind: 0, text: 'a', span: span([10, 11]) },
			{ kind: 1, text: ',', span: span([11, 12]) },
			{ kind: 2, text: '1', span: span([14, 15]) },
			{ kind: 1, text: ')', span: span([15, 16]) },
		]);
	});

	it('a compacted stream (no trivia text) gets a space wherever JOINT is clear', async () => {
		const args = { text: 'a,1', records: [0, 1, 0, 1, 10, 11, 1, 0, 1, 1, 11, 12, 2, 0, 2, 1, 13, 14] };
		const result = await expand('expandInline', { name: 'identity', args, callSite: { start: 0, end: 15 } });
		expect(result.tokens!.text).toBe('(a, 1)');
	});

	it('a warning keeps its severity; generated output is at the call site', async () => {
		const result = await expand('expandInline', { name: 'warns', args: source('x', 10), callSite: { start: 0, end: 12 } });
		expect(result).toEqual({
			outcome: 'replace',
			diagnostics: [{ severity: 'warning', message: 'warns: careful' }],
			tokens: { text: '42', records: [2, 0, 0, 2, 0xffffffff, 0xffffffff] },
		});
	});

	it('an attribute that returns its item unchanged, with no aux data, leaves the item', async () => {
		const result = await expand('expandAttribute', { name: 'keep', args: { text: '', records: [] }, item: ITEM, callSite: { start: 20, end: 38 } });
		expect(result).toEqual({ outcome: 'leave', diagnostics: [] });
	});

	it('an attribute with aux data replaces (aux data makes it a change, as in Scarb) and returns the bytes and markers', async () => {
		const args = source('"path", 3', 29);
		const result = await expand('expandAttribute', { name: 'with_aux', args, item: ITEM, callSite: { start: 20, end: 38 } });
		expect(result.outcome).toBe('replace');
		expect(tokensOf(result.tokens)).toEqual(version === 2 ? ITEM_TOKENS : ITEM_TOKENS.map((t) => ({ ...t, span: 'call-site' })));
		// The macro saw its arguments wrapped in parentheses, with `"` made `'` by the fixture.
		expect(result.auxData).toEqual({ scarbAuxData: Buffer.from(`{"args":"('path', 3)"}`).toString('base64'), fullPathMarkers: ['with_aux_marker'] });
	});

	it('an executable attribute leaves the item without calling the library (Scarb never expands it)', async () => {
		const result = await expand('expandAttribute', { name: 'entry', args: { text: '', records: [] }, item: ITEM, callSite: { start: 20, end: 28 } });
		expect(result).toEqual({ outcome: 'leave', diagnostics: [] });
	});

	it('a derive generates code to add after the item, called by its UpperCamel name', async () => {
		const result = await expand('expandDerive', { derives: ['Named'], item: ITEM, callSite: { start: 29, end: 34 } });
		expect(result.outcome).toBe('replace');
		expect(result.diagnostics).toEqual([]);
		expect(result.tokens!.text).toBe("impl PointNamed of Named { fn name() -> felt252 { 'Point' } }");
		expect(tokensOf(result.tokens).every((t) => t.span === 'call-site')).toBe(true);
	});

	it('a derive is not known by its snake_case library name (an UnknownMacro error)', async () => {
		await expect(expand('expandDerive', { derives: ['named'], item: ITEM })).rejects.toThrow(/does not provide a derive macro named named/);
	});

	it('the post-process callback gets the aux data bytes and the marker keys back', async () => {
		const aux = { scarbAuxData: Buffer.from('{"n":1}').toString('base64'), fullPathMarkers: ['k1'] };
		const result = await host.connection.sendRequest('postProcess', { library, auxData: [aux, [aux]] });
		expect(result).toEqual({ diagnostics: [] });
		const name = version === 2 ? 'v2_macros' : 'v1_macros';
		await waitForText(host.stderr, `${name} post_process: aux=["{\\"n\\":1}", "{\\"n\\":1}"] markers=[("k1", ""), ("k1", "")]`);
	});

	it('post-processing skips aux data that is not Scarb aux data, with a warning', async () => {
		const result = await host.connection.sendRequest<{ diagnostics: unknown[] }>('postProcess', { library, auxData: [{ other: 1 }] });
		const fn = version === 2 ? 'post_process_callback_v2' : 'post_process_callback';
		expect(result.diagnostics).toEqual([
			{ severity: 'warning', code: 'bad-result', message: `${fn} of ${library}: aux data entries 0 are not Scarb aux data from this library; they were skipped` },
		]);
	});
});

describe('a Scarb v2 library only', () => {
	let host: ConnectedHost;
	let info: LibraryInfo;
	beforeAll(async () => ({ host, info } = await startWith(V2)));
	afterAll(async () => {
		await host.close();
	});
	const expand = (method: string, params: object) => host.connection.sendRequest<ExpandResult>(method, { library: V2, ...params });

	it('reports fingerprint_v2 as a decimal string (a u64 a JSON number cannot hold)', () => {
		const combined = (0xfedcba9876543210n + 0x9e3779b9n) & 0xffffffffffffffffn;
		expect(info.fingerprint).toBe(combined.toString());
	});

	it('names the expansion with its parent path, as `parent = "tools::gen"` makes it', () => {
		expect(info.macros.find((m) => m.name === 'tools::gen::wrap')).toEqual({ name: 'tools::gen::wrap', kind: 'attribute', doc: '' });
	});

	it('spans: copied input tokens keep theirs, generated ones are at the call site', async () => {
		const result = await expand('expandAttribute', { name: 'tools::gen::wrap', args: { text: '', records: [] }, item: ITEM, callSite: { start: 20, end: 38 } });
		expect(result.outcome).toBe('replace');
		const out = tokensOf(result.tokens);
		expect(out.slice(0, 4)).toEqual(ITEM_TOKENS);
		expect(out.slice(4).map((t) => t.text).join(' ')).toBe('fn wrapped ( ) -> felt252 { 1 }');
		expect(out.slice(4).every((t) => t.span === 'call-site')).toBe(true);
	});

	it('a spanned error points into the source; a span outside the input is clamped to the call site; empty output removes', async () => {
		// span_error!(x, y): the error is on `x`, the macro's second non-trivia input token after `(`.
		const result = await expand('expandInline', { name: 'span_error', args: source('x, y', 12), callSite: { start: 0, end: 17 } });
		expect(result).toEqual({
			outcome: 'remove',
			diagnostics: [
				{ severity: 'error', message: 'span_error: bad argument', span: { start: 12, end: 13 } },
				{ severity: 'warning', message: 'span_error: far away' },
			],
		});
	});

	it('input tokens returned glued together are split as the text reads (`a` `b` with no trivia is one `ab`)', async () => {
		const result = await expand('expandInline', { name: 'squash', args: source('a b, c', 10), callSite: { start: 0, end: 17 } });
		expect(result.tokens!.text).toBe('(ab,c)');
		expect(tokensOf(result.tokens)).toEqual([
			{ kind: 1, text: '(', span: [9, 10] },
			// Two Scarb tokens became one of ours: no one source span is its own, so it is at the call site.
			{ kind: 0, text: 'ab', span: 'call-site' },
			{ kind: 1, text: ',', span: [13, 14] },
			{ kind: 0, text: 'c', span: [15, 16] },
			{ kind: 1, text: ')', span: [16, 17] },
		]);
		// Nothing between the tokens: every one but the last is JOINT.
		const flags = result.tokens!.records.filter((_, i) => i % 6 === 1);
		expect(flags).toEqual([1, 1, 1, 1, 0]);
	});

	it('tokens that keep their input spans and widths but not their bytes are read from their own text', async () => {
		// The host takes an output token for an input token only when the bytes are the same too.
		const result = await expand('expandInline', { name: 'upper', args: source('ab, c1', 10), callSite: { start: 0, end: 17 } });
		expect(result.tokens!.text).toBe('(AB, C1)');
		expect(tokensOf(result.tokens)).toEqual([
			{ kind: 1, text: '(', span: [9, 10] },
			{ kind: 0, text: 'AB', span: [10, 12] },
			{ kind: 1, text: ',', span: [12, 13] },
			{ kind: 0, text: 'C1', span: [14, 16] },
			{ kind: 1, text: ')', span: [16, 17] },
		]);
	});

	it('a derive whose output is empty generates nothing', async () => {
		const result = await expand('expandDerive', { derives: ['NothingDerived'], item: ITEM });
		expect(result).toEqual({ outcome: 'leave', diagnostics: [] });
	});

	it('several derives: the outputs are appended in order', async () => {
		const result = await expand('expandDerive', { derives: ['NothingDerived', 'Named'], item: ITEM });
		expect(result.outcome).toBe('replace');
		expect(result.tokens!.text).toBe("impl PointNamed of Named { fn name() -> felt252 { 'Point' } }");
	});

	it('a 20,000-token identity comes back whole, spans and all', async () => {
		const text = Array.from({ length: 10_000 }, (_, i) => `a${i}`).join(',');
		const args = source(text, 100);
		const result = await expand('expandInline', { name: 'identity', args, callSite: { start: 0, end: 200_000 } });
		expect(result.outcome).toBe('replace');
		const out = tokensOf(result.tokens);
		expect(out).toHaveLength(19_999 + 2);
		expect(out[1]).toEqual({ kind: 0, text: 'a0', span: [100, 102] });
		expect(out.at(-2)).toEqual({ kind: 0, text: 'a9999', span: [100 + text.length - 5, 100 + text.length] });
	});
});

describe('loading a library that is not one Scarb would load', () => {
	let host: ConnectedHost;
	beforeAll(async () => {
		host = connectHost('json');
		await initialize(host.connection);
	});
	afterAll(async () => {
		await host.close();
	});
	const loadError = (path: string) =>
		host.connection.sendRequest('loadLibrary', { path }).then(
			(ok) => {
				throw new Error(`loaded: ${JSON.stringify(ok)}`);
			},
			(error: { code: number; message: string; data: unknown }) => error,
		);

	it('an unsupported CAIRO_LANG_MACRO_API_VERSION is an ABI mismatch naming the version', async () => {
		const path = realpathSync(fixture('libbad_api_version.so'));
		const error = await loadError(path);
		expect(error.message).toBe(`cannot load macro library ${path}: its CAIRO_LANG_MACRO_API_VERSION is 3, but Scarb's stable macro ABI has versions 1 and 2`);
		expect(error.data).toEqual({ path, reason: 'abiMismatch', actualAbiVersion: 3 });
	});

	it('a library that fits no ABI names what each ABI it tried was missing', async () => {
		const path = realpathSync(fixture('libno_known_abi.so'));
		const error = await loadError(path);
		expect(error.message).toBe(
			`cannot load macro library ${path}: it speaks no macro ABI this host knows (` +
				'scarb-v2: no CAIRO_LANG_MACRO_API_VERSION; ' +
				'scarb-v1: no free_expansions_list, expand, free_result, post_process_callback, doc, free_doc; ' +
				'macro-host: no mh_abi_version)',
		);
		expect(error.data).toMatchObject({ path, reason: 'missingSymbol' });
	});
});
