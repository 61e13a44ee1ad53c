/**
 * The driver's output check against real macros (test/driver/fixtures/bad-output-macros, built by
 * cargo) in a real host: output that is not code is an error at the call site naming the macro and
 * what is wrong, and the call keeps its code; the check can be turned off.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MacroHost } from '../../dist/client/index.js';
import { expandSource, MacroRegistry } from '../../dist/client/driver/index.js';
import { loadProject } from '../../dist/client/packages/load-project.js';
import { runCli } from '../cli/run-cli.js';
import { CACHE_DIR, removeTempDirs, writeProject } from './support.js';

let host: MacroHost;
let registry: MacroRegistry;

beforeAll(async () => {
	host = await MacroHost.start();
	const project = await loadProject(host, writeProject(['bad_output_macros', 'add_macro'], {}), { cacheDir: CACHE_DIR });
	registry = new MacroRegistry(project.packages);
}, 300_000);
afterAll(async () => {
	await host?.close();
	removeTempDirs();
});

describe('the output check of expandSource', () => {
	it('refuses an unclosed parenthesis: error at the call naming the macro, the call keeps its code, the rest expands', async () => {
		const source = 'fn f() {\n    let a = unbalanced!(a);\n    let b = add!(1, 2);\n}\n';
		const result = await expandSource(source, { registry, caller: host });
		expect(result.text).toBe('fn f() {\n    let a = unbalanced!(a);\n    let b = (1) + (2);\n}\n');
		expect(result.diagnostics).toEqual([
			{
				severity: 'error',
				code: 'invalid-output',
				message:
					'`unbalanced!` (package `bad_output_macros`) returned code that does not parse: `(` at output byte 0 is never closed\n' +
					'help: the call is left as written; `macro-host expand` shows the whole output',
				span: { start: 21, end: 35 },
				macro: { kind: 'inline', name: 'unbalanced', package: 'bad_output_macros' },
			},
		]);
	});

	it('refuses an identifier that is three words and a literal with no closing quote', async () => {
		const source = 'fn f() { let x = spaced_ident!(); let y = open_string!(); }';
		const result = await expandSource(source, { registry, caller: host });
		expect(result.text).toBe(source);
		expect(result.diagnostics.map((d) => d.message.split('\n')[0])).toEqual([
			'`spaced_ident!` (package `bad_output_macros`) returned code that does not parse: `not an ident` at output byte 0 is not an identifier: it reads as 3 tokens',
			'`open_string!` (package `bad_output_macros`) returned code that does not parse: `"abc` at output byte 0 is not valid as a literal: unterminated string literal: missing closing `"`',
		]);
	});

	it('keeps an item whose attribute macro dropped its closing brace, and still expands the calls inside it', async () => {
		const source = '#[unclosed_body]\nfn f() -> u8 {\n    add!(1, 2)\n}\n';
		const result = await expandSource(source, { registry, caller: host });
		expect(result.text).toBe('#[unclosed_body]\nfn f() -> u8 {\n    (1) + (2)\n}\n');
		expect(result.diagnostics).toHaveLength(1);
		expect(result.diagnostics[0]).toMatchObject({
			code: 'invalid-output',
			span: { start: 0, end: 16 },
			macro: { kind: 'attribute', name: 'unclosed_body' },
		});
		expect(result.diagnostics[0].message).toContain('`#[unclosed_body]` (package `bad_output_macros`) returned code that does not parse: `{` at output byte 13 is never closed');
	});

	it('keeps a derive name whose output has mismatched delimiters in the attribute', async () => {
		const source = '#[derive(Drop, Mismatched)]\nstruct S {}\n';
		const result = await expandSource(source, { registry, caller: host });
		expect(result.text).toBe(source);
		expect(result.diagnostics.map((d) => d.message.split('\n')[0])).toEqual([
			'derive `Mismatched` (package `bad_output_macros`) returned code that does not parse: `]` at output byte 19 does not match `{` at output byte 17',
		]);
	});

	it('with checkOutput false, splices the output as the macro returned it', async () => {
		const result = await expandSource('fn f() { let a = unbalanced!(a); }', { registry, caller: host, checkOutput: false });
		expect(result.text).toBe('fn f() { let a = ( a+; }');
		expect(result.diagnostics).toEqual([]);
	});
});

describe('the output check of macro-host expand', () => {
	it('prints the output as it is, with an error naming the macro and the problem at the call, exit 1', async () => {
		const project = await loadProject(host, writeProject(['bad_output_macros'], {}), { cacheDir: CACHE_DIR });
		const library = project.packages[0].library;
		const run = await runCli(['expand', library, '--inline', 'unbalanced', '--args', 'x']);
		expect(run).toMatchObject({
			exitCode: 1,
			stdout: '( x +\n',
			stderr: 'error: `unbalanced!` returned code that does not parse: `(` at output byte 0 is never closed\n --> <args>:1:1\n  |\n1 | x\n  | ^\n\n',
		});
	});
});

describe('the output check of macro-host expand-project', () => {
	it('is an invalid-output error that fails the build; --no-check-output writes the output as returned', async () => {
		const project = writeProject(['bad_output_macros'], { 'src/lib.cairo': 'fn f() -> u8 {\n    unbalanced!(a)\n}\n' });
		const checked = await runCli(['expand-project', project, '--cache-dir', CACHE_DIR, '--no-expansion-cache'], { env: { NO_COLOR: '1' } });
		expect(checked.exitCode).toBe(1);
		expect(checked.stderr).toContain('error[invalid-output]: `unbalanced!` (package `bad_output_macros`) returned code that does not parse: `(` at output byte 0 is never closed\n');
		expect(checked.stderr).toContain('2 |     unbalanced!(a)\n  |     ^^^^^^^^^^^^^^\n');
		expect(readFileSync(join(project, 'target', 'expanded', 'src', 'lib.cairo'), 'utf8')).toBe('fn f() -> u8 {\n    unbalanced!(a)\n}\n');
		const unchecked = await runCli(['expand-project', project, '--cache-dir', CACHE_DIR, '--no-expansion-cache', '--no-check-output']);
		expect(unchecked.exitCode).toBe(0);
		expect(readFileSync(join(project, 'target', 'expanded', 'src', 'lib.cairo'), 'utf8')).toBe('fn f() -> u8 {\n    ( a+\n}\n');
	});
});
