import { existsSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildRustFixtures, findCargo, findCdylibArtifact, RUST_FIXTURE_LIBRARY } from '../fixtures/rust/build.js';

describe('the Rust fixture build', () => {
	it('produced librust_macros.so in the global setup', () => {
		expect(existsSync(RUST_FIXTURE_LIBRARY)).toBe(true);
	});

	it('leaves an up-to-date library alone', async () => {
		const before = statSync(RUST_FIXTURE_LIBRARY).mtimeMs;
		await buildRustFixtures();
		expect(statSync(RUST_FIXTURE_LIBRARY).mtimeMs).toBe(before);
	});

	it('says how to install Rust when cargo is missing', () => {
		expect(() => findCargo({ PATH: '/nonexistent-dir', HOME: '/nonexistent-home' })).toThrow(
			'cargo was not found on PATH or in ~/.cargo/bin; it is needed to build the Rust fixture library ' +
				'(test/fixtures/rust). Install Rust with rustup: https://rustup.rs',
		);
	});

	it("takes the artifact path from cargo's compiler-artifact message", () => {
		const lines = [
			'{"reason":"compiler-artifact","target":{"kind":["lib"]},"filenames":["/t/libmacro_host_sdk.rlib"]}',
			'{"reason":"compiler-artifact","target":{"kind":["cdylib"]},"filenames":["/t/release/librust_macros.so"]}',
			'{"reason":"build-finished","success":true}',
		].join('\n');
		expect(findCdylibArtifact(lines)).toBe('/t/release/librust_macros.so');
		expect(findCdylibArtifact('{"reason":"build-finished","success":true}')).toBeUndefined();
	});
});
