/**
 * Builds what the benchmark loads: the C macro library for macro-host (gcc) and the proc-macro crate
 * for rust-analyzer's server (cargo, offline, zero dependencies). Outputs are rebuilt only when older
 * than their sources, so a second `npm run bench` spends no time here.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** bench/ in the source tree (this file runs from dist/bench/). */
export const BENCH_SOURCE_DIR = fileURLToPath(new URL('../../bench/', import.meta.url));
const FIXTURES = join(BENCH_SOURCE_DIR, 'fixtures');
const BUILD = join(FIXTURES, 'build');
const SDK_C = fileURLToPath(new URL('../../sdk/c/', import.meta.url));
const RA_CRATE = join(FIXTURES, 'ra-identity');

/** What the bench loads. */
export interface BenchFixtures {
	/** The macro-host library: noop, echo, spin, bang_segv. */
	library: string;
	/** The proc-macro dylib for rust-analyzer's server, or undefined when it could not be built. */
	raLibrary: string | undefined;
	/** Why raLibrary is missing. */
	raSkipReason?: string;
}

/** Builds both fixtures as needed. A missing cargo only skips the rust-analyzer rows. */
export async function buildBenchFixtures(): Promise<BenchFixtures> {
	mkdirSync(BUILD, { recursive: true });
	const library = join(BUILD, 'libbench_macros.so');
	const source = join(FIXTURES, 'bench_macros.c');
	if (!isNewer(library, [source, join(SDK_C, 'macro_host.h')])) {
		try {
			await run('gcc', ['-shared', '-fPIC', '-O2', '-Wall', '-Wextra', '-Werror', '-I', SDK_C, '-o', library, source]);
		} catch (error) {
			throw new Error(`gcc failed to build ${library}: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`);
		}
	}
	try {
		return { library, raLibrary: await buildRaCrate() };
	} catch (error) {
		return { library, raLibrary: undefined, raSkipReason: (error as Error).message };
	}
}

/** Path of ~/.cargo/bin/<tool> when it exists, else the bare name (found on PATH). */
export function rustTool(tool: 'cargo' | 'rustc'): string {
	const home = process.env.HOME;
	const candidate = home ? join(home, '.cargo', 'bin', tool) : '';
	return candidate && existsSync(candidate) ? candidate : tool;
}

async function buildRaCrate(): Promise<string> {
	const output = join(RA_CRATE, 'target', 'release', 'libbench_identity.so');
	if (isNewer(output, [join(RA_CRATE, 'src', 'lib.rs'), join(RA_CRATE, 'Cargo.toml')])) return output;
	try {
		await run(rustTool('cargo'), ['build', '--offline', '--release', '--quiet'], { cwd: RA_CRATE });
	} catch (error) {
		const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
		throw new Error(`cargo could not build the proc-macro crate in ${RA_CRATE}: ${detail}`);
	}
	return output;
}

/** Scarb's v2 fixture package (test/fixtures/scarb/v2_macros: Scarb.toml + its own Cargo.toml, on stable ABI v2). */
const SCARB_V2_PACKAGE = fileURLToPath(new URL('../../test/fixtures/scarb/v2_macros/', import.meta.url));
const SCARB_ABI_CRATE = fileURLToPath(new URL('../../test/fixtures/scarb/scarb-macro-abi/', import.meta.url));

/** Builds the Scarb v2 macro package the scarb row loads (cargo, offline); returns the library's path. */
export async function buildScarbV2Library(): Promise<string> {
	const target = join(BUILD, 'scarb-target');
	const output = join(target, 'release', 'libv2_macros.so');
	const inputs = [join(SCARB_V2_PACKAGE, 'src', 'lib.rs'), join(SCARB_V2_PACKAGE, 'Cargo.toml')].concat(
		['lib.rs', 'ffi.rs', 'v1.rs', 'v2.rs'].map((f) => join(SCARB_ABI_CRATE, 'src', f)),
	);
	if (isNewer(output, inputs)) return output;
	try {
		await run(rustTool('cargo'), ['build', '--offline', '--release', '--quiet', '--target-dir', target], { cwd: SCARB_V2_PACKAGE });
	} catch (error) {
		const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
		throw new Error(`cargo could not build the Scarb v2 macro package in ${SCARB_V2_PACKAGE}: ${detail}`);
	}
	return output;
}

/** True when `output` exists and is newer than every input. */
function isNewer(output: string, inputs: string[]): boolean {
	if (!existsSync(output)) return false;
	const time = statSync(output).mtimeMs;
	return inputs.every((input) => statSync(input).mtimeMs <= time);
}
