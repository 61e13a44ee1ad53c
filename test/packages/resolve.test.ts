/** Dependency resolution over real folders: one version per package, requirements checked, errors at file:line:col. */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManifestError } from '../../dist/client/packages/errors.js';
import { resolveProject } from '../../dist/client/packages/resolve.js';
import { EXAMPLES, removeTempDirs, tempDir, writeCairoPackage, writeMacroPackage } from './helpers.js';

afterAll(removeTempDirs);

/** The resolution problems, as `file-relative-to-root:line:col: message`. */
function problems(root: string, projectDir: string): string[] {
	try {
		resolveProject(projectDir);
	} catch (error) {
		expect(error).toBeInstanceOf(ManifestError);
		return (error as ManifestError).diagnostics.map((d) => `${d.file.slice(root.length + 1)}:${d.line}:${d.column}: ${d.message}`);
	}
	throw new Error('expected a ManifestError');
}

describe('resolveProject', () => {
	it('resolves the hello-macros example to its four macro packages', () => {
		const project = resolveProject(join(EXAMPLES, 'hello-macros'));
		expect(project.root.name).toBe('hello_macros');
		expect(project.macroPackages.map((p) => [p.manifest.name, p.manifest.versionText, p.requiredBy, p.prebuiltAllowed])).toEqual([
			['add_macro', '0.1.0', ['hello_macros'], false],
			['tracing_macro', '0.1.0', ['hello_macros'], false],
			['to_value_macro', '0.1.0', ['hello_macros'], false],
			['crash_macro', '0.1.0', ['hello_macros'], false],
		]);
	});

	it('walks Cairo library dependencies to the macro packages they use, each package once', () => {
		const root = tempDir('resolve-walk');
		writeMacroPackage(join(root, 'add-macro'), { name: 'add_macro' });
		writeCairoPackage(join(root, 'mathlib'), 'mathlib', { 'add-macro': '{ path = "../add-macro", version = "^0.1" }' });
		writeCairoPackage(join(root, 'app'), 'app', {
			mathlib: '{ path = "../mathlib", version = "0.1.0" }',
			add_macro: '{ path = "../add-macro" }',
		}, '[tool.scarb]\nallow-prebuilt-plugins = ["mathlib"]\n');
		const project = resolveProject(join(root, 'app', 'Scarb.toml'));
		expect(project.packages.map((p) => p.name)).toEqual(['app', 'mathlib', 'add_macro']);
		// Allowing mathlib allows the plugins it depends on, as in Scarb.
		expect(project.macroPackages.map((p) => [p.manifest.name, p.requiredBy, p.prebuiltAllowed])).toEqual([['add_macro', ['mathlib', 'app'], true]]);
	});

	it('a version conflict names both requirers and both versions', () => {
		const root = tempDir('resolve-conflict');
		writeMacroPackage(join(root, 'add-macro-1'), { name: 'add_macro', version: '0.1.0' });
		writeMacroPackage(join(root, 'add-macro-2'), { name: 'add_macro', version: '0.2.0' });
		writeCairoPackage(join(root, 'lib'), 'mylib', { add_macro: '{ path = "../add-macro-2", version = "0.2.0" }' });
		writeCairoPackage(join(root, 'app'), 'app', {
			add_macro: '{ path = "../add-macro-1", version = "0.1.0" }',
			mylib: '{ path = "../lib" }',
		});
		expect(problems(root, join(root, 'app'))).toEqual([
			`lib/Scarb.toml:6:1: package add_macro is required in two versions: 0.1.0 (${join(root, 'add-macro-1')}), required by app, ` +
				`and 0.2.0 (${join(root, 'add-macro-2')}), required by mylib; only one version of a package is allowed`,
		]);
	});

	it('a requirement that the package does not match points at the requirement', () => {
		const root = tempDir('resolve-mismatch');
		writeMacroPackage(join(root, 'add-macro'), { name: 'add_macro', version: '0.1.0' });
		writeCairoPackage(join(root, 'app'), 'app', { add_macro: '{ path = "../add-macro", version = "^0.2" }' });
		expect(problems(root, join(root, 'app'))).toEqual([
			`app/Scarb.toml:6:48: dependency "add_macro" requires version ^0.2, but ${join(root, 'add-macro', 'Scarb.toml')} is add_macro 0.1.0`,
		]);
	});

	it('a missing package path is reported where the dependency gives it', () => {
		const root = tempDir('resolve-missing');
		writeCairoPackage(join(root, 'app'), 'app', { add_macro: '{ path = "../add-macro", version = "0.1.0" }' });
		expect(problems(root, join(root, 'app'))).toEqual([
			`app/Scarb.toml:6:22: dependency "add_macro": unknown dependency path "../add-macro": ${join(root, 'add-macro')} does not exist`,
		]);
	});

	it('a problem in a dependency\'s manifest is reported in that file', () => {
		const root = tempDir('resolve-nested');
		writeCairoPackage(join(root, 'app'), 'app', { broken: '{ path = "../broken" }' });
		writeCairoPackage(join(root, 'broken'), 'broken', {});
		writeMacroPackage(join(root, 'broken'), { name: 'broken', version: '1' });
		expect(problems(root, join(root, 'app'))).toEqual([
			'broken/Scarb.toml:3:11: package version: "1" is not a semantic version (expected MAJOR.MINOR.PATCH, e.g. "0.1.0")',
		]);
	});

	it('a dependency key must name the package at its path', () => {
		const root = tempDir('resolve-name');
		writeMacroPackage(join(root, 'add-macro'), { name: 'add_macro' });
		writeCairoPackage(join(root, 'app'), 'app', { adder: '{ path = "../add-macro" }' });
		expect(problems(root, join(root, 'app'))).toEqual([
			`app/Scarb.toml:6:1: dependency "adder" points at ${join(root, 'add-macro', 'Scarb.toml')}, which is package "add_macro", not "adder"`,
		]);
	});

	it('a dependency cycle is an error', () => {
		const root = tempDir('resolve-cycle');
		writeCairoPackage(join(root, 'a'), 'a', { b: '{ path = "../b" }' });
		writeCairoPackage(join(root, 'b'), 'b', { a: '{ path = "../a" }' });
		expect(problems(root, join(root, 'a'))).toEqual(['b/Scarb.toml:6:1: dependency cycle: a -> b -> a']);
	});

	it('a project directory without Scarb.toml', () => {
		const root = tempDir('resolve-empty');
		expect(problems(root, root)).toEqual(['Scarb.toml:1:1: cannot read the manifest: no such file']);
	});
});
