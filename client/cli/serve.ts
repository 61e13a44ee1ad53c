/** `macro-host serve`: runs the host in this process (server/main.ts does the work). */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { Encoding } from '../../protocol/handshake.js';
import { ExitCode, HELP_FLAG, parseFlags, UsageError, type CliIo } from './usage.js';

/** The server module's entry, as server/main.ts exports it. */
interface ServerModule {
	runServer(argv: string[]): Promise<void>;
	/** The one help text of `serve`. */
	SERVE_USAGE: string;
}

/**
 * The host's bundle (dist/server/host-bundle.cjs, the code dist/server/host.cjs runs), required at run time
 * from dist/client/cli/ so that the CLI does not load the server unless asked to. Required, not imported:
 * the command's own bundle runs from a V8 code cache (client/cli/cli-loader.cts), where Node 20 has no
 * dynamic import.
 */
async function loadServer(): Promise<ServerModule> {
	return createRequire(import.meta.url)('../../server/host-bundle.cjs') as ServerModule;
}

/**
 * Validates the flags, then runs the server until it ends. Returns undefined: the server owns the
 * process from here (its stdout is the protocol channel), so nothing may be printed or forced.
 */
export async function runServe(args: string[], io: CliIo): Promise<number | undefined> {
	const { values, positionals } = parseFlags('serve', () =>
		parseArgs({
			args,
			options: {
				...HELP_FLAG,
				encoding: { type: 'string' },
				'memory-limit-mib': { type: 'string' },
				'wasm-timeout-ms': { type: 'string' },
				'wasm-max-memory-pages': { type: 'string' },
			},
			strict: true,
			allowPositionals: true,
		}),
	);
	if (values.help) {
		io.out((await loadServer()).SERVE_USAGE);
		return ExitCode.ok;
	}
	if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, 'serve');
	if (values.encoding !== undefined && !Encoding.is(values.encoding)) {
		throw new UsageError(`--encoding must be json or msgpack, not '${values.encoding}'`, 'serve');
	}
	await (await loadServer()).runServer(args);
	return undefined;
}
