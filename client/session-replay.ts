/**
 * Bringing a new host to the session's state: initialized (unless it already is), then every library
 * the client loaded, in load order (cache hits in the host unless a file changed). A restart and the
 * warm standby both use it, so a host that takes over always has what the one before it had.
 */
import type { InitializeResult } from '../protocol/handshake.js';
import type { LibraryInfo } from '../protocol/library.js';
import { LoadLibraryRequest } from '../protocol/methods.js';
import { HostCrashError, MacroHostRequestError } from './errors.js';
import type { HostProcess } from './host-process.js';
import type { LibraryRegistry, LoadedLibrary } from './library-registry.js';

/** What {@link replaySession} tells its caller as it goes. */
export interface ReplayListener {
	/** A library loaded again; `info` is the new host's answer. */
	loaded?(path: string, info: LibraryInfo): void;
	/** A library the host refused (the file changed or vanished since it was loaded). */
	refused?(library: LoadedLibrary, error: MacroHostRequestError): void;
	/** The host died (or hung) while loading `library`; the replay then rejects with `crash`. */
	crashed?(library: LoadedLibrary, crash: HostCrashError): void;
}

/**
 * Initializes `host` (unless `init` is its answer already) and loads every library of `libraries`
 * (read once initialize has answered) into it, one after another. A library the host refuses is reported and skipped; any other failure
 * (the host died, a timeout) rejects, as HostProcess.request does, after telling `crashed` which library was loading.
 */
export async function replaySession(
	host: HostProcess,
	options: { readonly clientName: string; readonly timeoutMs: number; readonly init?: InitializeResult },
	libraries: Pick<LibraryRegistry, 'entries'>,
	listener: ReplayListener = {},
): Promise<InitializeResult> {
	const init = options.init ?? (await host.initialize(options.clientName, options.timeoutMs));
	for (const library of libraries.entries()) {
		try {
			// Sent first: an optional call skips evaluating its arguments when there is no listener.
			const info = await host.request(LoadLibraryRequest.type, { path: library.path }, options.timeoutMs);
			listener.loaded?.(library.path, info);
		} catch (error) {
			if (error instanceof HostCrashError) listener.crashed?.(library, error);
			if (!(error instanceof MacroHostRequestError)) throw error;
			listener.refused?.(library, error);
		}
	}
	return init;
}
