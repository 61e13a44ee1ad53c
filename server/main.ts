/**
 * The host process entry: `node dist/server/main.js [--encoding json|msgpack]`, also reached through
 * `macro-host serve`. Thin on purpose: set up the process, parse flags, hand the streams to serve().
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Encoding } from '../protocol/handshake.js';
import { serve } from './dispatch.js';
import { applyProcessHygiene, configureMacroStack, keepFreedMemory, onEndOfInput } from './process-hygiene.js';
import { guardStdio } from './stdout-guard.js';
import { applyMemoryLimit, DEFAULT_MEMORY_LIMIT_MIB, MIN_MEMORY_LIMIT_MIB } from './memory-limit.js';
import { createFramedTransport, loadCodec } from './framing.js';
import { checkPages, checkTimeout } from './wasm/limits.js';
import type { WasmOptions } from './wasm/sandbox.js';

/** Help text of `macro-host serve`. */
export const SERVE_USAGE = `Usage: macro-host serve [--encoding json|msgpack] [options]

Runs the macro host: it loads native macro libraries and wasm modules and answers JSON-RPC 2.0
requests (Content-Length framing) on stdin/stdout. Drivers start it; people rarely do.

Options:
  --encoding json|msgpack  body encoding of every message in both directions (default: json)
  --memory-limit-mib N     memory limit in MiB; the host's data segment is capped a little above it
                           and the client kills the host at it (default: 2048)
  --wasm-timeout-ms N      wall-clock limit of one call into a wasm macro, in ms (default: 10000)
  --wasm-max-memory-pages N
                           most 64 KiB pages a wasm macro's memory may grow to (default: 4096,
                           256 MiB); a client's initialize may still set both, and the budget of
                           all wasm modules together (default: half the memory limit)
  --help                   show this help and exit
`;

/** Exit code for usage errors. */
const EXIT_USAGE = 2;

/** How long the host waits for in-flight replies after its input ends before it exits anyway. */
const DRAIN_AFTER_EOF_MS = 2000;

/** Parsed flags, or why they could not be parsed. */
type ServeFlags = { encoding: Encoding; help: boolean; memoryLimitMiB: number; wasm: Partial<WasmOptions> } | { error: string };

/**
 * Runs the host in this process until the client says `exit`, closes stdin, or dies. The returned
 * promise never resolves: the process ends through process.exit with the LSP exit code (0 after
 * shutdown or on end of input, 1 on exit without shutdown, 2 on a usage error).
 */
export async function runServer(argv: readonly string[]): Promise<void> {
	// Koffi refuses configuration once any library is loaded, and guardStdio loads libc.
	tryConfigureMacroStack();
	// Before anything else can write to stdout or load a macro library.
	const stdio = guardStdio();
	applyProcessHygiene({ onParentGone: () => process.exit(1) });
	keepFreedMemory();

	const flags = parseServeFlags(argv);
	if ('error' in flags) {
		console.error(`macro-host serve: ${flags.error}\n\n${SERVE_USAGE}`);
		process.exit(EXIT_USAGE);
	}
	if (flags.help) {
		// Help is what the user asked for, so it goes to the real stdout (now the private protocol fd).
		stdio.output.end(SERVE_USAGE, () => process.exit(0));
		return new Promise<void>(() => undefined);
	}

	// Before any macro library is loaded: a library's constructor counts too.
	applyMemoryLimit(flags.memoryLimitMiB);
	stdio.output.on('error', (error: Error) => {
		console.error(`macro-host: the client stopped reading replies (${error.message}); exiting`);
		process.exit(1);
	});
	const { reader, writer } = createFramedTransport(await loadCodec(flags.encoding), stdio.input, stdio.output);
	const session = serve(reader, writer, { encoding: flags.encoding, wasm: { budgetMiB: Math.floor(flags.memoryLimitMiB / 2), ...flags.wasm } });
	onEndOfInput(stdio.input, () => {
		// Replies still in flight are written first: the process ends on its own once nothing is pending.
		process.exitCode = 0;
		setTimeout(() => process.exit(0), DRAIN_AFTER_EOF_MS).unref();
	});
	process.exit(await session.exited);
}

/**
 * Parses `[--encoding json|msgpack] [--memory-limit-mib N] [--wasm-timeout-ms N]
 * [--wasm-max-memory-pages N] [--help]` (also `--flag=value`).
 */
export function parseServeFlags(argv: readonly string[]): ServeFlags {
	let encoding: Encoding = 'json';
	let help = false;
	let memoryLimitMiB = DEFAULT_MEMORY_LIMIT_MIB;
	const wasm: Partial<WasmOptions> = {};
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		const wasmLimit = WASM_FLAGS.find((flag) => arg === flag.name || arg.startsWith(`${flag.name}=`));
		if (wasmLimit !== undefined) {
			const value = arg === wasmLimit.name ? argv[++i] : arg.slice(wasmLimit.name.length + 1);
			const number = value !== undefined && /^\d+$/.test(value) ? Number(value) : value;
			const problem = wasmLimit.check(number, value === undefined ? 'nothing' : `"${value}"`);
			if (problem !== undefined) return { error: `${wasmLimit.name} ${problem}` };
			wasm[wasmLimit.option] = number as number;
			continue;
		}
		if (arg === '--help' || arg === '-h') {
			help = true;
		} else if (arg === '--encoding' || arg.startsWith('--encoding=')) {
			const value = arg === '--encoding' ? argv[++i] : arg.slice('--encoding='.length);
			if (value === undefined) return { error: '--encoding needs a value: json or msgpack' };
			if (value !== 'json' && value !== 'msgpack') return { error: `--encoding must be json or msgpack, got "${value}"` };
			encoding = value;
		} else if (arg === '--memory-limit-mib' || arg.startsWith('--memory-limit-mib=')) {
			const value = arg === '--memory-limit-mib' ? argv[++i] : arg.slice('--memory-limit-mib='.length);
			if (value === undefined || !/^\d+$/.test(value) || Number(value) < MIN_MEMORY_LIMIT_MIB) {
				return { error: `--memory-limit-mib must be a whole number of MiB, at least ${MIN_MEMORY_LIMIT_MIB}, got ${value === undefined ? 'nothing' : `"${value}"`}` };
			}
			memoryLimitMiB = Number(value);
		} else {
			return { error: `unknown argument "${arg}"` };
		}
	}
	return { encoding, help, memoryLimitMiB, wasm };
}

/** The wasm sandbox's limits as flags, checked as initialize checks them. */
const WASM_FLAGS = [
	{ name: '--wasm-timeout-ms', option: 'timeoutMs', check: checkTimeout },
	{ name: '--wasm-max-memory-pages', option: 'maxMemoryPages', check: checkPages },
] as const;

function tryConfigureMacroStack(): void {
	try {
		configureMacroStack();
	} catch (error) {
		// Only when the embedding process already used koffi; macros then get koffi's default stack.
		console.error(`macro-host: cannot raise the macro stack size: ${(error as Error).message}`);
	}
}

function isMainModule(): boolean {
	try {
		return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
	} catch {
		return false;
	}
}

if (isMainModule()) {
	runServer(process.argv.slice(2)).catch((error: unknown) => {
		console.error(`macro-host: ${(error as Error).stack ?? String(error)}`);
		process.exit(1);
	});
}
