/**
 * Compiles every fixture macro library from source before the tests run, into test/fixtures/build/.
 * Each builder skips work whose output is newer than its sources, so a re-run costs little.
 */
import { buildCFixtures } from './fixtures/c/build.js';
import { buildRustFixtures } from './fixtures/rust/build.js';
import { buildScarbFixtures } from './fixtures/scarb/build.js';
import { buildWasmFixtures } from './fixtures/wasm/build.js';

export default async function setup(): Promise<void> {
	await buildCFixtures();
	await buildRustFixtures();
	await buildScarbFixtures();
	await buildWasmFixtures();
}
