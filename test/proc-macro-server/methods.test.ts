/**
 * `macro-host proc-macro-server` run for real and driven with a client written from the wire shapes: definedMacros on
 * a workspace mixing a prebuilt C library, a prebuilt Rust library and a package built from source with cargo (two
 * components seeing different macros), the three expand methods with their code mappings and fingerprints, several
 * workspaces at once, and concurrent calls answered out of order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_EXPANSION_CACHE, PmsClient, SHARED_CACHE, type TestWorkspace, v2Stream, writeWorkspace } from './pms-client.js';

let server: PmsClient;
let ws: TestWorkspace;

beforeAll(() => {
	ws = writeWorkspace({ withBuilt: true });
	server = new PmsClient(['--quiet', 'proc-macro-server', '--jobs', '2', '--timeout-ms', '8000', '--cache-dir', SHARED_CACHE, NO_EXPANSION_CACHE]);
});

afterAll(async () => {
	server.kill();
	ws.remove();
});

const names = (list: Array<{ name: string }>) => list.map((m) => m.name);

describe('definedMacros', () => {
	it('lists the macros of each component: prebuilt C and Rust libraries and a package cargo builds', async () => {
		const response = await server.request('definedMacros', { workspace: ws.workspace });
		expect(response.error).toBeUndefined();
		const entries = response.result.macros_for_cu_components as any[];
		expect(entries.map((e) => e.component)).toEqual([ws.context('app').component, ws.context('lib_a').component]);
		const [app, libA] = entries;
		expect(names(app.inline_macros)).toEqual(expect.arrayContaining(['wrap', 'bang_segv', 'bang_hang', 'add', 'bang_panic']));
		expect(names(app.attributes)).toEqual(expect.arrayContaining(['tag', 'instrument']));
		// Derives are listed by their snake_case expansion names, which the language server turns back into PascalCase.
		expect(names(app.derives)).toEqual(expect.arrayContaining(['named', 'hello', 'to_value']));
		expect(app.executables).toEqual([]);
		expect(app.debug_info.source_packages).toEqual(expect.arrayContaining([ws.context('c_macros').component.discriminator]));
		expect(app.debug_info.source_packages).toHaveLength(3);
		// lib_a depends on rust_macros only, so it sees none of the C library's macros.
		expect(names(libA.inline_macros)).toContain('bang_panic');
		expect(names(libA.inline_macros)).not.toContain('wrap');
		expect(libA.debug_info.source_packages).toEqual([ws.context('rust_macros').component.discriminator]);
		// One hash per package: every macro of a package carries it, different packages differ, and it fits a u64.
		const hashOf = (list: any[], name: string) => list.find((m) => m.name === name).hash;
		expect(hashOf(app.inline_macros, 'wrap')).toBe(hashOf(app.attributes, 'tag'));
		expect(hashOf(app.inline_macros, 'wrap')).not.toBe(hashOf(app.inline_macros, 'bang_panic'));
		expect(hashOf(libA.inline_macros, 'bang_panic')).toBe(hashOf(app.inline_macros, 'bang_panic'));
		expect(Number.isSafeInteger(hashOf(app.inline_macros, 'wrap'))).toBe(true);
	});

	it('loads several workspaces side by side, and a failing one answers an error naming the problem', async () => {
		const other = writeWorkspace();
		try {
			const [first, second] = await Promise.all([
				server.request('definedMacros', { workspace: other.workspace }),
				server.request('definedMacros', { workspace: { manifest_path: `${other.dir}/missing/Scarb.toml` } }),
			]);
			expect(first.result.macros_for_cu_components[0].component).toEqual(other.context('app').component);
			expect(second.error?.message).toMatch(/^definedMacros failed: .*missing\/Scarb\.toml/);
			// Both workspaces answer calls in their own scope.
			const inOther = await server.request('expandInline', { context: other.context(), name: 'wrap', args: v2Stream('x'), call_site: { start: 0, end: 8 } });
			const inFirst = await server.request('expandInline', { context: ws.context(), name: 'wrap', args: v2Stream('y'), call_site: { start: 0, end: 8 } });
			expect(inOther.result.token_stream.value).toBe('(x )');
			expect(inFirst.result.token_stream.value).toBe('(y )');
		} finally {
			other.remove();
		}
	});
});

describe('expand methods', () => {
	it('expandInline: the v1 string, Scarb-shaped code mappings, the package hash as fingerprint', async () => {
		const args = v2Stream('a + 1', 10);
		const response = await server.request('expandInline', { context: ws.context(), name: 'wrap', args, call_site: { start: 5, end: 16 } });
		const result = response.result;
		expect(result.token_stream).toEqual({ value: '(a + 1 )', metadata: { original_file_path: '/virtual/lib.cairo', file_id: 'file-1' } });
		expect(result.diagnostics).toEqual([]);
		// `(` and `)` are generated (call site); `a`, `+`, `1` keep their spans; a space follows each non-joint token
		// (`1` is the last argument, so nothing joins it to the generated `)`).
		expect(result.code_mappings).toEqual([
			{ span: { start: 1, end: 1 }, origin: { Span: { start: 10, end: 10 } } },
			{ span: { start: 3, end: 3 }, origin: { Span: { start: 12, end: 12 } } },
			{ span: { start: 5, end: 5 }, origin: { Span: { start: 14, end: 14 } } },
			{ span: { start: 0, end: 1 }, origin: { Span: { start: 5, end: 16 } } },
			{ span: { start: 1, end: 3 }, origin: { Span: { start: 10, end: 11 } } },
			{ span: { start: 3, end: 5 }, origin: { Span: { start: 12, end: 13 } } },
			{ span: { start: 5, end: 7 }, origin: { Span: { start: 14, end: 15 } } },
			{ span: { start: 7, end: 8 }, origin: { Span: { start: 5, end: 16 } } },
			{ span: { start: 0, end: 8 }, origin: { CallSite: { start: 5, end: 16 } } },
		]);
		const defined = await server.request('definedMacros', { workspace: ws.workspace });
		const wrap = defined.result.macros_for_cu_components[0].inline_macros.find((m: any) => m.name === 'wrap');
		expect(result.fingerprint).toBe(wrap.hash);
	});

	it('expandInline of a large stream: 50,000 tokens in, every token mapped back', async () => {
		const code = Array.from({ length: 25_000 }, (_, i) => `t${i}`).join(' ');
		const response = await server.request('expandInline', { context: ws.context(), name: 'wrap', args: v2Stream(code), call_site: { start: 0, end: 9 } });
		expect(response.result.token_stream.value).toBe(`(${code} )`);
		// 25,000 identifiers from the source (a zero-width and a full mapping each), two generated parens, one call site.
		expect(response.result.code_mappings).toHaveLength(2 * 25_000 + 2 + 1);
		expect(response.result.code_mappings[25_000 + 1]).toEqual({ span: { start: 1, end: 4 }, origin: { Span: { start: 0, end: 2 } } });
	});

	it('expandInline of a package built from source, and a macro diagnostic with its span', async () => {
		const added = await server.request('expandInline', { context: ws.context(), name: 'add', args: v2Stream('1, 2'), call_site: { start: 0, end: 10 } });
		expect(added.result.token_stream.value).toBe('(1) + (2)');
		const bailed = await server.request('expandInline', { context: ws.context(), name: 'bail', args: v2Stream('oops', 20), call_site: { start: 14, end: 25 } });
		expect(bailed.result.token_stream.value).toBe('');
		expect(bailed.result.diagnostics).toEqual([
			{ message: 'bail: refused to expand', severity: 'Error', span: { start: 20, end: 24 } },
			{ message: 'bail: second thought', severity: 'Warning', span: null },
		]);
	});

	it('expandAttribute: the item rewritten by a C and by a Rust attribute, mapped to the adapted call site', async () => {
		const item = v2Stream('fn f() {}');
		const tagged = await server.request('expandAttribute', { context: ws.context(), attr: 'tag', args: v2Stream(''), item, adapted_call_site: { start: 9, end: 15 } });
		expect(tagged.result.token_stream.value).toBe('#[tagged] fn f() {}');
		expect(tagged.result.code_mappings.at(-1)).toEqual({ span: { start: 0, end: 19 }, origin: { CallSite: { start: 9, end: 15 } } });
		const instrumented = await server.request('expandAttribute', { context: ws.context(), attr: 'instrument', args: v2Stream(''), item, adapted_call_site: { start: 9, end: 22 } });
		expect(instrumented.error).toBeUndefined();
		expect(instrumented.result.token_stream.value).toMatch(/enter f/);
	});

	it('expandDerive: derives in sorted order, code concatenated, mappings offset, one fingerprint of both', async () => {
		const item = v2Stream('struct Point { x: u32 }');
		const both = await server.request('expandDerive', { context: ws.context(), derives: ['named', 'hello'], item, call_site: { start: 30, end: 44 } });
		const hello = 'fn hello_Point() {}';
		const named = 'impl Named for Point {}';
		expect(both.result.token_stream.value).toBe(hello + named);
		expect(both.result.diagnostics).toEqual([]);
		const callSites = both.result.code_mappings.filter((m: any) => 'CallSite' in m.origin);
		expect(callSites).toEqual([
			{ span: { start: 0, end: hello.length }, origin: { CallSite: { start: 30, end: 44 } } },
			{ span: { start: hello.length, end: hello.length + named.length }, origin: { CallSite: { start: 30, end: 44 } } },
		]);
		const single = await server.request('expandDerive', { context: ws.context(), derives: ['hello'], item, call_site: { start: 30, end: 44 } });
		const swapped = await server.request('expandDerive', { context: ws.context(), derives: ['hello', 'named'], item, call_site: { start: 30, end: 44 } });
		expect(swapped.result.fingerprint).toBe(both.result.fingerprint);
		expect(single.result.fingerprint).not.toBe(both.result.fingerprint);
	});

	it('a derive that bails adds no code and reports its diagnostic; the derives after it still run', async () => {
		const item = v2Stream('fn not_a_type() {}');
		const response = await server.request('expandDerive', { context: ws.context(), derives: ['named', 'nope'], item, call_site: { start: 2, end: 9 } });
		expect(response.result.token_stream.value).toBe('');
		expect(response.result.diagnostics).toEqual([
			{ message: 'Named: expected a struct or enum', severity: 'Error', span: null },
			{ message: `no derive macro "nope" in component app (${ws.context().component.discriminator}) of workspace ${ws.manifestPath}`, severity: 'Error', span: null },
		]);
		expect(response.result.code_mappings).toEqual([
			{ span: { start: 0, end: 0 }, origin: { CallSite: { start: 2, end: 9 } } },
		]);
	});

	it('an unknown macro or workspace answers a result with an error diagnostic, not an error response', async () => {
		const unknown = await server.request('expandInline', { context: ws.context(), name: 'nope', args: v2Stream('x'), call_site: { start: 0, end: 5 } });
		expect(unknown.result.diagnostics).toEqual([{ message: `no inline macro "nope" in component app (${ws.context().component.discriminator}) of workspace ${ws.manifestPath}`, severity: 'Error', span: null }]);
		// lib_a does not depend on the C library.
		const elsewhere = await server.request('expandInline', { context: ws.context('lib_a'), name: 'wrap', args: v2Stream('x'), call_site: { start: 0, end: 5 } });
		expect(elsewhere.result.diagnostics[0].message).toMatch(/^no inline macro "wrap" in component lib_a/);
		const item = v2Stream('fn g() {}');
		const noWorkspace = await server.request('expandAttribute', {
			context: { workspace: { manifest_path: '/nowhere/Scarb.toml' }, component: { name: 'x', discriminator: null } },
			attr: 'tag',
			args: v2Stream(''),
			item,
			adapted_call_site: { start: 9, end: 15 },
		});
		expect(noWorkspace.result.diagnostics[0].message).toBe('the workspace /nowhere/Scarb.toml is not loaded: definedMacros was not called for it (or it failed)');
		// The item stays as written.
		expect(noWorkspace.result.token_stream.value).toBe('fn g() {}');
	});
});

describe('concurrency', () => {
	it('answers calls sent together as each finishes: a slow macro does not hold back the fast ones', async () => {
		// bang_hang loops until the time limit of its host; the others run on the other host meanwhile.
		const slow = server.post('expandInline', { context: ws.context(), name: 'bang_hang', args: v2Stream(''), call_site: { start: 0, end: 5 } });
		const fast = Array.from({ length: 20 }, (_, i) =>
			server.post('expandInline', { context: ws.context(), name: 'wrap', args: v2Stream(`v${i}`), call_site: { start: 0, end: 5 } }),
		);
		const answers = await Promise.all(fast.map((id) => server.response(id)));
		answers.forEach((a, i) => expect(a.result.token_stream.value).toBe(`(v${i} )`));
		// Every fast call was answered before the slow one, which was sent first.
		expect(server.responses.has(slow)).toBe(false);
		const timedOut = await server.response(slow);
		expect(timedOut.result.diagnostics[0].message).toMatch(/^Inline macro `bang_hang` from package c_macros 0\.1\.0 .* timed out after 8000 ms/);
	});
});

describe('shutdown', () => {
	it('ends when stdin ends, with exit code 0 and nothing but responses on stdout', async () => {
		const { code } = await server.close();
		expect(code).toBe(0);
		expect(server.strayLines).toEqual([]);
	});
});
