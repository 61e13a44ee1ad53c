/** What `list` and `expand` share: flag checks, a host process for the command's lifetime, loading the library. */
import { resolve } from 'node:path';
import { Encoding } from '../../protocol/handshake.js';
import type { LibraryInfo } from '../../protocol/library.js';
import type { MacroHost, MacroHostOptions } from '../index.js';
import { UsageError, type CliIo } from './usage.js';

/** The one positional argument, the library path; anything else is a usage error. */
export function requireLibrary(positionals: string[], command: string): string {
	if (positionals.length === 0) {
		throw new UsageError('missing <library>: give the path of the macro library (.so) to load', command);
	}
	if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`, command);
	return positionals[0];
}

/** The --encoding flag, checked. */
export function validateEncodingFlag(value: string | undefined, command: string): Encoding | undefined {
	if (value !== undefined && !Encoding.is(value)) {
		throw new UsageError(`--encoding must be json or msgpack, not '${value}'`, command);
	}
	return value;
}

/**
 * Starts a host process, runs `work` with it and always closes it. A host that cannot start is
 * reported on stderr and gives exit code 1.
 */
export async function withHost(options: MacroHostOptions, io: CliIo, work: (host: MacroHost) => Promise<number>): Promise<number> {
	// Imported here, after the flags are checked, so a usage error answers without loading the client.
	const { MacroHost } = await import('../macro-host.js');
	let host: MacroHost;
	try {
		// One command, then close: a warm standby would only cost a second host start.
		host = await MacroHost.start({ warmStandby: false, ...options });
	} catch (error) {
		io.err(`error: could not start the macro host: ${(error as Error).message}\n`);
		return 1;
	}
	try {
		return await work(host);
	} finally {
		// A failing close changes nothing for the user: the command's answer is already printed.
		await host.close().catch(() => undefined);
	}
}

/**
 * Loads the library at `path` (as the user typed it), or prints why it failed (the host's message
 * names the path and the reason) and returns undefined.
 */
export async function loadLibraryOrReport(host: MacroHost, path: string, io: CliIo): Promise<LibraryInfo | undefined> {
	try {
		// Sent as typed: the host resolves it against the same working directory, and names it so in errors.
		return await host.loadLibrary(path);
	} catch (error) {
		const message = (error as Error).message;
		const named = message.includes(path) || message.includes(resolve(path));
		io.err(named ? `error: ${message}\n` : `error: cannot load library '${path}': ${message}\n`);
		return undefined;
	}
}
