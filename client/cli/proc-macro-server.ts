/** `macro-host proc-macro-server`: Scarb's proc-macro server protocol on stdin/stdout, over crash-isolated hosts. */
import { parseArgs } from 'node:util';
import { CACHE_FLAGS, cacheFlagsHelp, parseCacheFlags } from './cache-flags.js';
import { buildProgressPrinter } from './expand-project.js';
import { ExitCode, HELP_FLAG, parseFlags, parseWholeNumber, UsageError, type CliIo } from './usage.js';

export const PROC_MACRO_SERVER_HELP = `Usage: macro-host proc-macro-server [--jobs N] [--timeout-ms N] [--cache-dir DIR]
                                    [--max-pending-requests N] [--max-unread-kib N]
                                    [--no-expansion-cache] [--remote-cache URL] [--remote-cache-upload=false]
       macro-host --quiet proc-macro-server [...]

A drop-in for \`scarb proc-macro-server\`, the server the Cairo language server runs macros through: the same
protocol (newline-delimited JSON on stdin/stdout, scarb-proc-macro-server-types 0.5.0), but every macro runs in a
host process of its own, so a macro that crashes, exits or hangs costs an error diagnostic on that one call and
the server goes on. Logs go to stderr; stdout carries nothing but responses. It ends when stdin ends.
Results are kept in the expansion cache (docs/caching.md), so a restarted editor gets them at once.

Options:
  --jobs N                 host processes serving calls in parallel (default: the number of CPU cores)
  --timeout-ms N           give up on a macro call after N milliseconds (default 30000); reported like a crash
  --cache-dir DIR          where built libraries live (default: $XDG_CACHE_HOME/macro-host, else ~/.cache/macro-host)
${cacheFlagsHelp(27)}  --max-pending-requests N stop reading stdin while N requests wait for an answer (default 4096)
  --max-unread-kib N       stop reading stdin while N KiB of answers wait for the client to read them
                           (default 65536); stdin is read again once the client catches up
  --quiet                  accepted before the command, as the language server passes it to scarb
  -h, --help               show this help

Exit codes: 0 when stdin ended, 1 when the hosts could not start, 2 usage error.
`;

/** Checks the flags, then serves until stdin ends. */
export async function runProcMacroServer(args: string[], io: CliIo): Promise<number> {
	const { values, positionals } = parseFlags('proc-macro-server', () =>
		parseArgs({
			args,
			options: {
				...HELP_FLAG,
				jobs: { type: 'string' },
				'timeout-ms': { type: 'string' },
				'cache-dir': { type: 'string' },
				'max-pending-requests': { type: 'string' },
				'max-unread-kib': { type: 'string' },
				...CACHE_FLAGS,
			},
			strict: true,
			allowPositionals: true,
		}),
	);
	if (values.help) {
		io.out(PROC_MACRO_SERVER_HELP);
		return ExitCode.ok;
	}
	if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, 'proc-macro-server');
	const jobs = parseWholeNumber('proc-macro-server', '--jobs', values.jobs, 1, 256);
	const requestTimeoutMs = parseWholeNumber('proc-macro-server', '--timeout-ms', values['timeout-ms'], 1, 2_147_483_647);
	const maxPendingRequests = parseWholeNumber('proc-macro-server', '--max-pending-requests', values['max-pending-requests'], 1, 1_000_000);
	const maxUnreadKib = parseWholeNumber('proc-macro-server', '--max-unread-kib', values['max-unread-kib'], 1, 4 * 1024 * 1024);
	const expansionCache = parseCacheFlags('proc-macro-server', values);

	// Everything below writes to stderr only: stdout is the protocol's. A stray console.log (from a dependency, say)
	// would corrupt the channel, so the console's stdout methods go to stderr for the life of the server.
	console.log = console.info = console.debug = console.error;
	const { runProcMacroServer: serve } = await import('../proc-macro-server/server.js');
	try {
		await serve(process.stdin, process.stdout, {
			jobs,
			host: {
				...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
				// What a macro prints goes to the hosts' stderr; pass it on to ours, where the language server logs it.
				onStderr: (text) => io.err(text),
			},
			build: { cacheDir: values['cache-dir'], onProgress: buildProgressPrinter(io) },
			expansionCache,
			limits: {
				...(maxPendingRequests === undefined ? {} : { maxPendingRequests }),
				...(maxUnreadKib === undefined ? {} : { maxBufferedOutputBytes: maxUnreadKib * 1024 }),
			},
		});
	} catch (error) {
		io.err(`error: the proc-macro server could not start: ${(error as Error)?.message ?? String(error)}\n`);
		return ExitCode.failure;
	}
	return ExitCode.ok;
}
