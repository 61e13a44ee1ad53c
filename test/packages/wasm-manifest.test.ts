/** `[cairo-plugin] target`: parsed, defaulted, and every bad use reported at file:line:col. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestError, type ManifestDiagnostic } from '../../dist/client/packages/errors.js';
import { parseManifest } from '../../dist/client/packages/manifest.js';
import { packageEdition } from '../../dist/client/packages/wasm-build.js';
import { removeTempDirs, tempDir, writeFiles } from './helpers.js';

afterAll(removeTempDirs);

let dir: string;
beforeAll(() => {
	dir = tempDir('wasm-manifest');
	writeFiles(join(dir, 'helper'), { 'Cargo.toml': '[package]\nname = "helper"\nversion = "0.1.0"\n', 'src/lib.rs': '' });
});

const HEAD = '[package]\nname = "m"\nversion = "0.1.0"\n\n[cairo-plugin]\n';

function parse(text: string) {
	return parseManifest(join(dir, 'pkg', 'Scarb.toml'), text);
}

/** The diagnostics of parsing `text`, as `line:col: message` strings. */
function problems(text: string): string[] {
	try {
		parse(text);
	} catch (error) {
		expect(error).toBeInstanceOf(ManifestError);
		return ((error as ManifestError).diagnostics as ManifestDiagnostic[]).map((d) => `${d.line}:${d.column}: ${d.message}`);
	}
	throw new Error('expected a ManifestError');
}

const WASM_CARGO_TABLE = (table: string) =>
	`[tool.cargo.pkg.${table}] cannot be used with [cairo-plugin] target = "wasm": wasm macro packages are compiled by rustc alone, ` +
	'without cargo, against the bundled SDK only; remove it, or remove target = "wasm" to build a native library with cargo';

describe('[cairo-plugin] target', () => {
	it('is "native" when absent or said, "wasm" when asked for, and "native" for a package that is not a plugin', () => {
		expect(parse(HEAD).pluginTarget).toBe('native');
		expect(parse(`${HEAD}target = "native"\n`).pluginTarget).toBe('native');
		expect(parse(`${HEAD}target = "wasm"\n`).pluginTarget).toBe('wasm');
		expect(parse('[package]\nname = "app"\nversion = "0.1.0"\n').pluginTarget).toBe('native');
		// The inline-table spelling reads the same.
		expect(parse('cairo-plugin = { target = "wasm" }\n[package]\nname = "m"\nversion = "0.1.0"\n').pluginTarget).toBe('wasm');
	});

	it('an unknown value or a wrong type points at the value and lists the targets', () => {
		expect(problems(`${HEAD}target = "wasm64"\n`)).toEqual([
			'6:10: [cairo-plugin] target must be "native" (a shared library built by cargo) or "wasm" (a WebAssembly module), found "wasm64"',
		]);
		expect(problems(`${HEAD}target = 32\n`)).toEqual([
			'6:10: [cairo-plugin] target must be "native" (a shared library built by cargo) or "wasm" (a WebAssembly module), found an integer',
		]);
		expect(problems(`${HEAD}target = ["wasm"]\n`)).toEqual([
			'6:10: [cairo-plugin] target must be "native" (a shared library built by cargo) or "wasm" (a WebAssembly module), found an array',
		]);
	});

	it('the message of the error is file:line:col: message', () => {
		const file = join(process.cwd(), 'wasm-pkg', 'Scarb.toml');
		try {
			parseManifest(file, `${HEAD}target = "WASM"\n`);
			expect.unreachable();
		} catch (error) {
			expect((error as Error).message).toBe(
				'wasm-pkg/Scarb.toml:6:10: [cairo-plugin] target must be "native" (a shared library built by cargo) or "wasm" (a WebAssembly module), found "WASM"',
			);
		}
	});
});

describe('a wasm package and [tool.cargo.pkg]', () => {
	it('[tool.cargo.pkg.dependencies] is an error at its header: there is no cargo to build them', () => {
		const text = `${HEAD}target = "wasm"\n\n[tool.cargo.pkg.dependencies]\nhelper = { path = "../helper" }\n`;
		expect(problems(text)).toEqual([`8:1: ${WASM_CARGO_TABLE('dependencies')}`]);
		// The same package built natively accepts them.
		expect(parse(text.replace('target = "wasm"\n', '')).cargoPathDependencies).toEqual([{ name: 'helper', dir: join(dir, 'helper') }]);
	});

	it('written as a dotted key or inline table, the error points at the key', () => {
		expect(problems(`${HEAD}target = "wasm"\n\n[tool.cargo.pkg]\ndependencies = { helper = { path = "../helper" } }\n`)).toEqual([
			`9:1: ${WASM_CARGO_TABLE('dependencies')}`,
		]);
		expect(problems(`${HEAD}target = "wasm"\n\n[tool]\ncargo.pkg.dependencies.helper = { path = "../helper" }\n`)).toEqual([
			`9:11: ${WASM_CARGO_TABLE('dependencies')}`,
		]);
	});

	it('every other cargo-only table is reported too, each at its own place', () => {
		const text = `${HEAD}target = "wasm"\n\n[tool.cargo.pkg.features]\nfast = []\n\n[tool.cargo.pkg.profile.release]\nopt-level = 3\n`;
		expect(problems(text)).toEqual([`8:1: ${WASM_CARGO_TABLE('features')}`, `11:1: ${WASM_CARGO_TABLE('profile')}`]);
	});

	it('[tool.cargo.pkg.package] applies: its edition is honoured, and must be a string', () => {
		const manifest = parse(`${HEAD}target = "wasm"\n\n[tool.cargo.pkg.package]\nedition = "2018"\ndescription = "metadata is fine"\n`);
		expect(manifest.pluginTarget).toBe('wasm');
		expect(packageEdition(manifest)).toBe('2018');
		expect(packageEdition(parse(`${HEAD}target = "wasm"\n`))).toBe('2021');
		expect(problems(`${HEAD}target = "wasm"\n\n[tool.cargo.pkg.package]\nedition = 2018\n`)).toEqual([
			'9:11: tool.cargo.pkg.package.edition must be a string such as "2021", found an integer',
		]);
	});

	it('a bad target and a cargo table are reported together', () => {
		expect(problems(`${HEAD}target = "wasm"\n\n[tool.cargo.pkg.dependencies]\nhelper = { path = "../helper" }\n[lib]\n`)).toEqual([
			'10:1: a [cairo-plugin] package has no other targets; remove [lib]',
			`8:1: ${WASM_CARGO_TABLE('dependencies')}`,
		]);
	});
});
