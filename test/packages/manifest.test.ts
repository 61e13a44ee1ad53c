/** Manifest errors, each at file:line:col, and what a valid manifest yields. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestError, type ManifestDiagnostic } from '../../dist/client/packages/errors.js';
import { parseManifest, readManifest } from '../../dist/client/packages/manifest.js';
import { TomlLocations } from '../../dist/client/packages/toml-locations.js';
import { removeTempDirs, tempDir, writeFiles, writeMacroPackage } from './helpers.js';

afterAll(removeTempDirs);

let dir: string;
beforeAll(() => {
	dir = tempDir('manifest');
	writeMacroPackage(join(dir, 'add-macro'), { name: 'add_macro' });
	writeFiles(join(dir, 'rust-helper'), { 'Cargo.toml': '[package]\nname = "rust-helper"\nversion = "0.1.0"\n', 'src/lib.rs': '' });
});

/** The diagnostics of parsing `text` as `<dir>/proj/Scarb.toml`, as `line:col: message` strings. */
function problems(text: string): string[] {
	const file = join(dir, 'proj', 'Scarb.toml');
	try {
		parseManifest(file, text);
	} catch (error) {
		expect(error).toBeInstanceOf(ManifestError);
		const diagnostics = (error as ManifestError).diagnostics as ManifestDiagnostic[];
		for (const d of diagnostics) expect(d.file).toBe(file);
		return diagnostics.map((d) => `${d.line}:${d.column}: ${d.message}`);
	}
	throw new Error('expected a ManifestError');
}

describe('manifest errors, each at file:line:col', () => {
	it('a TOML syntax error carries smol-toml\'s line and column', () => {
		expect(problems('[package]\nname = "x"\nversion = 0.1.0\n')).toEqual(['3:14: TOML syntax error: illegal character in numeric literal']);
		expect(problems('[package]\nname = "x"\nname = "y"\n')).toEqual(['3:1: TOML syntax error: trying to redefine an already defined table or value']);
	});

	it('the message is file:line:col: message, with the file relative to the working directory', () => {
		const file = join(process.cwd(), 'some', 'Scarb.toml');
		try {
			parseManifest(file, '[package\n');
			expect.unreachable();
		} catch (error) {
			expect((error as Error).message).toMatch(/^some\/Scarb\.toml:1:9: TOML syntax error: /);
		}
	});

	it('a missing table or field points at the enclosing table header', () => {
		expect(problems('[dependencies]\n')).toEqual(['1:1: missing [package] table']);
		expect(problems('# a comment\n\n[package]\nname = "x"\n')).toEqual(['3:1: missing field `version` in [package]']);
		expect(problems('[package]\nversion = "0.1.0"\n')).toEqual(['1:1: missing field `name` in [package]']);
	});

	it('a wrong type points at the value and names both types', () => {
		expect(problems('[package]\nname = "x"\nversion = 1\n')).toEqual(['3:11: package.version must be a string, found an integer']);
		expect(problems('package = "x"\n')).toEqual(['1:11: package must be a table, found a string']);
		expect(problems('[package]\nname = ["x"]\nversion = "0.1.0"\n')).toEqual(['2:8: package.name must be a string, found an array']);
	});

	it('an invalid version or requirement points at it', () => {
		expect(problems('[package]\nname = "x"\nversion = "0.1"\n')).toEqual([
			'3:11: package version: "0.1" is not a semantic version (expected MAJOR.MINOR.PATCH, e.g. "0.1.0")',
		]);
		expect(problems('[package]\nname = "x"\nversion = "0.1.0"\n[dependencies]\nadd_macro = { path = "../add-macro", version = "bad" }\n')).toEqual([
			'5:48: dependency "add_macro": "bad" is not a version requirement ("bad" is not a version)',
		]);
	});

	it('an unknown dependency path points at the path value', () => {
		const text = '[package]\nname = "x"\nversion = "0.1.0"\n\n[dependencies]\nnope = { path = "../nowhere", version = "0.1.0" }\n';
		expect(problems(text)).toEqual([`6:17: dependency "nope": unknown dependency path "../nowhere": ${join(dir, 'nowhere')} does not exist`]);
		const noManifest = '[package]\nname = "x"\nversion = "0.1.0"\n[dependencies.helper]\npath = "../rust-helper"\n';
		expect(problems(noManifest)).toEqual([`5:8: dependency "helper": unknown dependency path "../rust-helper": ${join(dir, 'rust-helper')} has no Scarb.toml`]);
	});

	it('a dependency without a path, or by registry version, says how to write it', () => {
		expect(problems('[package]\nname = "x"\nversion = "0.1.0"\n[dependencies]\nadd_macro = { version = "0.1.0" }\n')).toEqual([
			'5:1: missing field `path` in dependency "add_macro"',
		]);
		expect(problems('[package]\nname = "x"\nversion = "0.1.0"\n[dependencies]\nadd_macro = "0.1.0"\n')).toEqual([
			'5:13: dependency "add_macro" must be given by path, e.g. add_macro = { path = "../add_macro", version = "0.1.0" } (registry dependencies are not available)',
		]);
	});

	it('reports every problem of a manifest at once', () => {
		expect(problems('[package]\nname = "a b"\nversion = 3\n')).toEqual([
			'2:8: package name "a b" is not valid: use letters, digits, "_" and "-", starting with a letter or "_"',
			'3:11: package.version must be a string, found an integer',
		]);
	});

	it('a [cairo-plugin] package has no other targets and no Cairo dependencies', () => {
		expect(problems('[package]\nname = "m"\nversion = "0.1.0"\n[cairo-plugin]\n[lib]\n')).toEqual([
			'5:1: a [cairo-plugin] package has no other targets; remove [lib]',
		]);
		expect(problems('[package]\nname = "m"\nversion = "0.1.0"\n[cairo-plugin]\n[dependencies]\nadd_macro = { path = "../add-macro" }\n')).toEqual([
			'6:1: a [cairo-plugin] package cannot have Cairo dependencies; Rust dependencies go under [tool.cargo.pkg.dependencies]',
		]);
	});

	it('[tool.cargo.pkg.dependencies] takes path dependencies only, that exist', () => {
		const text = (deps: string) => `[package]\nname = "m"\nversion = "0.1.0"\n[cairo-plugin]\n\n[tool.cargo.pkg.dependencies]\n${deps}\n`;
		expect(problems(text('serde = "1.0"'))).toEqual([
			'7:9: Rust dependency "serde" must be a path dependency such as { path = "../serde" }: cargo runs offline, so only path dependencies can build',
		]);
		expect(problems(text('helper = { path = "../gone" }'))).toEqual([
			`7:19: Rust dependency "helper": unknown dependency path "../gone": ${join(dir, 'gone')} does not exist`,
		]);
		expect(problems(text('macro-host-sdk = { path = "../rust-helper" }'))).toEqual([
			'7:1: "macro-host-sdk" is added by macro-host itself (the bundled SDK); remove it',
		]);
		expect(problems('[package]\nname = "m"\nversion = "0.1.0"\n[cairo-plugin]\n[tool.cargo.pkg.lib]\nname = "x"\n')).toEqual([
			'5:1: [tool.cargo.pkg.lib] cannot be set: macro-host generates the library target',
		]);
	});

	it('allow-prebuilt-plugins must be an array of names', () => {
		expect(problems('[package]\nname = "x"\nversion = "0.1.0"\n[tool.scarb]\nallow-prebuilt-plugins = "add_macro"\n')).toEqual([
			'5:26: tool.scarb.allow-prebuilt-plugins must be an array of package names, found a string',
		]);
		expect(problems('[package]\nname = "x"\nversion = "0.1.0"\n[tool.scarb]\nallow-prebuilt-plugins = ["a", 3]\n')).toEqual([
			'5:32: tool.scarb.allow-prebuilt-plugins must hold package names (strings), found an integer',
		]);
	});

	it('a manifest that cannot be read is an error at 1:1', () => {
		const file = join(dir, 'missing', 'Scarb.toml');
		expect(() => readManifest(file)).toThrow(`${file}:1:1: cannot read the manifest: no such file`);
	});
});

describe('valid manifests', () => {
	it('a consuming project: dependencies with absolute dirs and requirements', () => {
		const file = join(dir, 'proj', 'Scarb.toml');
		const m = parseManifest(
			file,
			'[package]\nname = "hello-macros"\nversion = "0.1.0"\n\n[dependencies]\nadd-macro = { path = "../add-macro", version = "0.1.0" }\n\n[tool.scarb]\nallow-prebuilt-plugins = ["add-macro"]\n',
		);
		expect(m).toMatchObject({ name: 'hello-macros', id: 'hello_macros', versionText: '0.1.0', isMacroPackage: false, allowPrebuiltPlugins: ['add_macro'] });
		expect(m.dependencies).toHaveLength(1);
		expect(m.dependencies[0]).toMatchObject({ name: 'add-macro', id: 'add_macro', dir: join(dir, 'add-macro'), keyPosition: { line: 6, column: 1 } });
		expect(m.dependencies[0]!.requirement!.text).toBe('0.1.0');
	});

	it('a macro package: [tool.cargo.pkg] with absolute dependency paths', () => {
		const m = parseManifest(
			join(dir, 'pkg', 'Scarb.toml'),
			'[package]\nname = "m"\nversion = "0.2.0"\n[cairo-plugin]\n[tool.cargo.pkg.dependencies]\nhelper = { path = "../rust-helper" }\n[tool.cargo.pkg.features]\nfast = []\n',
		);
		expect(m.isMacroPackage).toBe(true);
		expect(m.cargoTable).toEqual({ dependencies: { helper: { path: join(dir, 'rust-helper') } }, features: { fast: [] } });
		expect(m.cargoPathDependencies).toEqual([{ name: 'helper', dir: join(dir, 'rust-helper') }]);
	});
});

describe("the author's own Cargo.toml (Scarb's layout)", () => {
	it('a native macro package with a Cargo.toml beside its Scarb.toml is built from it; a wasm package never is', () => {
		writeFiles(join(dir, 'own'), { 'Cargo.toml': '[package]\nname = "own"\nversion = "0.1.0"\n', 'src/lib.rs': '' });
		const native = parseManifest(join(dir, 'own', 'Scarb.toml'), '[package]\nname = "own"\nversion = "0.1.0"\n[cairo-plugin]\n');
		expect(native.cargoManifestPath).toBe(join(dir, 'own', 'Cargo.toml'));
		// rustc alone compiles a wasm package, so a Cargo.toml there (for an editor, say) changes nothing.
		const wasm = parseManifest(join(dir, 'own', 'Scarb.toml'), '[package]\nname = "own"\nversion = "0.1.0"\n[cairo-plugin]\ntarget = "wasm"\n');
		expect(wasm.cargoManifestPath).toBeUndefined();
		const cairo = parseManifest(join(dir, 'own', 'Scarb.toml'), '[package]\nname = "own"\nversion = "0.1.0"\n');
		expect(cairo.cargoManifestPath).toBeUndefined();
		expect(parseManifest(join(dir, 'add-macro', 'Scarb.toml'), '[package]\nname = "add_macro"\nversion = "0.1.0"\n[cairo-plugin]\n').cargoManifestPath).toBeUndefined();
	});

	it('a Cairo dependency of such a package points at its Cargo.toml for Rust dependencies', () => {
		expect(() => parseManifest(join(dir, 'own', 'Scarb.toml'), '[package]\nname = "own"\nversion = "0.1.0"\n[cairo-plugin]\n[dependencies]\nx = { path = "../x" }\n')).toThrow(
			'6:1: a [cairo-plugin] package cannot have Cairo dependencies; Rust dependencies go in its Cargo.toml',
		);
	});
});

describe('TomlLocations', () => {
	it('finds headers, dotted keys, quoted keys, inline tables and array elements', () => {
		const text = [
			'title = "t" # comment',
			'[a.b]',
			'"quoted key".x = 1',
			"s = '''multi",
			"line''' ",
			'c = { d = { e = "}" }, f = [1, [2, 3]] }',
			'[[arr]]',
			'v = 1',
			'[[arr]]',
			'v = 2',
		].join('\n');
		const loc = new TomlLocations(text);
		expect(loc.get(['title'])).toEqual({ key: { line: 1, column: 1 }, value: { line: 1, column: 9 } });
		expect(loc.get(['a', 'b'])!.header).toEqual({ line: 2, column: 1 });
		expect(loc.get(['a', 'b', 'quoted key', 'x'])!.value).toEqual({ line: 3, column: 18 });
		expect(loc.get(['a', 'b', 'c', 'd', 'e'])!.value).toEqual({ line: 6, column: 17 });
		expect(loc.get(['a', 'b', 'c', 'f', '1', '0'])!.value).toEqual({ line: 6, column: 33 });
		expect(loc.get(['arr', '1', 'v'])!.value).toEqual({ line: 10, column: 5 });
		expect(loc.locate(['a', 'b', 'missing'])).toEqual({ line: 2, column: 1 });
		expect(loc.locate(['nothing'])).toEqual({ line: 1, column: 1 });
	});
});
