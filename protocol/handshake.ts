/** The handshake and the end of a session: initialize, shutdown, exit (as in LSP). */
import type { BulkOffer } from './bulk.js';

/** Body encodings the host can speak; chosen at spawn time with `serve --encoding`. */
export type Encoding = 'json' | 'msgpack';
export namespace Encoding {
	export const json: Encoding = 'json';
	export const msgpack: Encoding = 'msgpack';
	export const all: readonly Encoding[] = [json, msgpack];
	export function is(value: unknown): value is Encoding {
		return value === json || value === msgpack;
	}
}

/** Parameters for an {@link InitializeRequest}. */
export interface InitializeParams {
	/** The protocol version the client speaks (PROTOCOL_VERSION); another value is refused with VersionMismatch. */
	protocolVersion: number;
	/** Who is asking, for the host's log. */
	clientInfo?: { name: string; version?: string };
	/** Limits for wasm macros in this session; absent fields keep the host's settings. @since protocol version 1 */
	wasm?: WasmLimits;
	/**
	 * The client's own limit on one request, in ms (1..2147483647): the host stops a wasm call early enough to answer
	 * it before the client would kill the host (see docs/wasm.md). @since protocol version 1
	 */
	requestTimeoutMs?: number;
	/** A directory of slot files for large token streams (see protocol/bulk.ts); absent: every stream inline. @since protocol version 1 */
	bulk?: BulkOffer;
	/**
	 * Asks the host to write the call mark (protocol/call-mark.ts) to its stderr before it serves each request,
	 * so the client can quote only a failing call's own output. Absent or false: no marks.
	 * @since protocol version 1
	 */
	markCalls?: boolean;
}

/** Limits the host applies to wasm macros (see docs/wasm.md). */
export interface WasmLimits {
	/** Wall-clock limit of one wasm call; on expiry the worker is stopped and the call answers a diagnostic. @default 10000 */
	timeoutMs?: number;
	/** Most 64 KiB pages a module's memory may grow to (1..65536); applies to libraries loaded afterwards. @default 4096 (256 MiB) */
	maxMemoryPages?: number;
	/**
	 * Host memory, in MiB, all loaded wasm modules together may take (memories, snapshots, tables, and the growth of
	 * the one call that runs); a module that does not fit is a load error. @default half the host's memory limit
	 * @since protocol version 1
	 */
	budgetMiB?: number;
}

/** What the host can do, returned by {@link InitializeRequest}. */
export interface ServerCapabilities {
	/** The encoding this host is speaking now. */
	encoding: Encoding;
	/** Kinds of library it loads: "native" shared objects and "wasm" modules. */
	sandboxes: string[];
	/** Whether `postProcess` is served. */
	postProcess: boolean;
	/** True when the host took the `bulk` offer: large streams may then travel through its slot files. @since protocol version 1 */
	bulk?: boolean;
	/** True when the host serves `expandBatch` (protocol/batch.ts). @since expandBatch */
	batch?: boolean;
	/** True when the host serves `expandSource` (protocol/expand-source.ts). @since expandSource */
	expandSource?: boolean;
}

/** Result of an {@link InitializeRequest}. */
export interface InitializeResult {
	/** The protocol version the host speaks. */
	protocolVersion: number;
	/** The macro ABI version libraries must report. */
	abiVersion: number;
	/** Name and version of the host program. */
	serverInfo: { name: string; version: string };
	/** Process id of the host, for diagnostics. */
	pid: number;
	capabilities: ServerCapabilities;
}
