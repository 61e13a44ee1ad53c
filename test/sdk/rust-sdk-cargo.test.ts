/**
 * Runs the Rust SDK's own tests (unit tests and doc tests, including the README example) with
 * cargo, offline, and checks that the SDK and the fixture crate compile without warnings.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CARGO_TARGET_DIR, RUST_FIXTURE_DIR, RUST_SDK_DIR, cargoPath, findCargo } from '../fixtures/rust/build.js';

/** Runs cargo with the shared fixture target dir, so nothing is written into the source tree. */
async function cargo(args: string[], crateDir: string) {
	return execa(findCargo(), [...args, '--offline', '--target-dir', CARGO_TARGET_DIR, '--manifest-path', join(crateDir, 'Cargo.toml')], {
		reject: false,
		env: { PATH: cargoPath() },
	});
}

/** The warnings in cargo's JSON messages, rendered as rustc would print them. */
function warnings(jsonLines: string): string[] {
	const found: string[] = [];
	for (const line of jsonLines.split('\n')) {
		if (!line.startsWith('{')) continue;
		const m = JSON.parse(line) as { reason?: string; message?: { level?: string; rendered?: string } };
		if (m.reason === 'compiler-message' && m.message?.level === 'warning') found.push(m.message.rendered ?? '');
	}
	return found;
}

describe('the Rust SDK crate', () => {
	it('passes cargo test (unit tests and doc tests)', { timeout: 300_000 }, async () => {
		const result = await cargo(['test'], RUST_SDK_DIR);
		expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
		// One summary for the unit tests, one for the doc tests.
		expect(result.stdout.match(/test result: ok\. \d+ passed; 0 failed/g)).toHaveLength(2);
		// The README's complete example is the crate doc, so it compiles as a doc test.
		expect(result.stdout).toMatch(/test src\/lib\.rs - \(line \d+\) \.\.\. ok/);
	});

	it('builds without warnings, and so does the fixture crate', { timeout: 300_000 }, async () => {
		for (const crate of [RUST_SDK_DIR, RUST_FIXTURE_DIR]) {
			const result = await cargo(['build', '--message-format=json'], crate);
			expect(result.exitCode, result.stderr).toBe(0);
			expect(warnings(result.stdout)).toEqual([]);
		}
	});
});
