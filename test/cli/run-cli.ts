/** Runs the compiled `macro-host` command for real and captures what it printed. */
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The `macro-host` command as package.json "bin" names it: the bundled CLI (scripts/bundle-cli.js). */
export const CLI = fileURLToPath(new URL('../../dist/client/cli/macro-host.cjs', import.meta.url));
/** The C fixture library (built by the global setup). */
export const LIBC_BASIC = fileURLToPath(new URL('../fixtures/build/libc_basic.so', import.meta.url));
/** Fixture libraries that must fail to load. */
export const LIBC_ABI_V2 = fileURLToPath(new URL('../fixtures/build/libc_abi_v2.so', import.meta.url));
export const LIBC_MISSING_EXPAND = fileURLToPath(new URL('../fixtures/build/libc_missing_expand.so', import.meta.url));
export const NOT_A_LIBRARY = fileURLToPath(new URL('../fixtures/build/not-a-library.so', import.meta.url));

/** What one run of the CLI gave. */
export interface CliRun {
	exitCode: number | undefined;
	signal: string | undefined;
	stdout: string;
	stderr: string;
}

/** Runs `node dist/client/cli/macro-host.cjs ...args` in the repository root, never rejecting. */
export async function runCli(args: string[], options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
	const result = await execa(process.execPath, [CLI, ...args], {
		cwd: options.cwd ?? ROOT,
		env: options.env,
		input: options.input,
		stdin: options.input === undefined ? 'ignore' : undefined,
		reject: false,
		stripFinalNewline: false,
		timeout: 50_000,
	});
	return {
		exitCode: result.exitCode,
		signal: result.signal,
		stdout: String(result.stdout),
		stderr: String(result.stderr),
	};
}
