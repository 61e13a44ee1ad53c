/**
 * A warm standby host: spawned in the background after each start of the active host, initialized,
 * and given every library the active host has, so that a crash swaps hosts instead of waiting for a
 * new one (Node's start, initialize and the library loads: about 250 ms here). The supervisor decides
 * when to start, swap and replace one; this module only keeps one standby ready.
 *
 * The cost is one idle host process per client (about 55 MB resident with a small library loaded,
 * plus what the libraries allocate) and one host start of CPU after each start or crash.
 */
import type { InitializeResult } from '../protocol/handshake.js';
import { LoadLibraryRequest } from '../protocol/methods.js';
import type { HostExit } from './host-exit.js';
import { HostProcess } from './host-process.js';
import type { LibraryRegistry } from './library-registry.js';
import type { NormalizedOptions } from './options.js';
import { replaySession, type ReplayListener } from './session-replay.js';

/** A host started ahead of need. */
export class WarmStandby {
	/** The standby's process. */
	readonly host: HostProcess;
	/**
	 * Resolves with the host's answer to `initialize` once it has also loaded every library known when
	 * it got there; undefined when it failed or died first. Never rejects.
	 */
	readonly ready: Promise<InitializeResult | undefined>;
	/** Settles when the process is gone (see HostProcess.exited). */
	readonly exited: Promise<HostExit>;
	// Requests to the standby go one after another: initialize, the libraries, then forwarded loads.
	#queue: Promise<unknown>;
	readonly #timeoutMs: number;

	/**
	 * Spawns a standby and starts preparing it; `libraries` is read once initialize has answered, and
	 * `listener` hears how their loads went (a library that crashed the standby, above all).
	 */
	constructor(options: NormalizedOptions, libraries: LibraryRegistry, listener: ReplayListener = {}) {
		this.host = HostProcess.spawn(options);
		this.exited = this.host.exited;
		this.#timeoutMs = options.startTimeoutMs;
		this.ready = this.#prepare(options.clientName, libraries, listener);
		this.#queue = this.ready;
	}

	/** Loads a library the active host has just loaded, once the standby is ready (failures are left for the swap to see). */
	load(path: string): void {
		this.#queue = this.#queue.then(() => this.host.request(LoadLibraryRequest.type, { path }, this.#timeoutMs)).catch(() => undefined);
	}

	/** Kills the standby and waits for its process to end. */
	async kill(): Promise<void> {
		this.host.kill();
		await this.exited;
		this.host.dispose();
	}

	async #prepare(clientName: string, libraries: LibraryRegistry, listener: ReplayListener): Promise<InitializeResult | undefined> {
		try {
			// A library that no longer loads is the swap's business: it replays the session again and reports.
			return await replaySession(this.host, { clientName, timeoutMs: this.#timeoutMs }, libraries, { crashed: listener.crashed });
		} catch {
			// It died or did not answer in time: the supervisor replaces it, or restarts cold on a crash.
			return undefined;
		}
	}
}
