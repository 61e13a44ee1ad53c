/**
 * `macro-host list` and `macro-host expand` on .wasm modules: the CLI hands the path to a real
 * host, which loads it into the wasm sandbox.
 */
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { fixture } from './harness.js';

const CLI = fileURLToPath(new URL('../../dist/client/cli/main.js', import.meta.url));

function cli(...args: string[]) {
	return execa(process.execPath, [CLI, ...args], { reject: false });
}

describe('the CLI on wasm modules', () => {
	it('lists a wasm module', async () => {
		const result = await cli('list', fixture('rust_macros.wasm'), '--json');
		expect(result.exitCode).toBe(0);
		const listed = JSON.parse(result.stdout) as unknown;
		const native = JSON.parse((await cli('list', fixture('librust_macros.so'), '--json')).stdout) as unknown;
		expect(JSON.stringify(listed)).toContain('"sandbox":"wasm"');
		expect(JSON.stringify(listed).replace(/rust_macros\.wasm/g, 'X').replace(/"wasm"/g, '"S"')).toBe(
			JSON.stringify(native).replace(/librust_macros\.so/g, 'X').replace(/"native"/g, '"S"'),
		);
	});

	it('expands with a wasm module', async () => {
		const result = await cli('expand', fixture('rust_macros.wasm'), '--inline', 'add', '--args', 'x, 2');
		expect({ code: result.exitCode, stdout: result.stdout }).toEqual({ code: 0, stdout: '(x) + (2)' });
	});

	it('reports a trap as an error diagnostic, exit code 1', async () => {
		const path = fixture('wasm_misbehave.wasm');
		const result = await cli('expand', path, '--inline', 'wasm_unreachable', '--args', 'x');
		expect(result.exitCode).toBe(1);
		expect(result.stderr).toContain(`error: the inline macro wasm_unreachable (${path}) trapped: unreachable`);
	});

	it('refuses a module with imports, naming the import', async () => {
		const path = fixture('wasm_imports_clock.wasm');
		const result = await cli('list', path);
		expect(result.exitCode).toBe(1);
		expect(result.stderr).toContain(
			`cannot load macro library ${path}: the module imports env.clock_time_get; wasm macros must import nothing (no clock, randomness or I/O)`,
		);
	});
});

describe('expand --help', () => {
	it('says a library may be a .wasm module', async () => {
		const result = await cli('expand', '--help');
		expect(result.exitCode).toBe(0);
		expect(result.stdout).toContain('<library>            path of the shared library (.so) or WebAssembly module (.wasm) that provides the macro');
	});
});
