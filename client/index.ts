/**
 * The client library (`macro-host/client`): MacroHost, its options, errors, events and restart policy,
 * the HostPool, and the protocol types it speaks. The tokenizer, printer and line index are re-exported
 * from `macro-host/tokens` for convenience. The build system is `macro-host/packages`, the reference
 * compiler driver `macro-host/driver`: neither is part of this entry.
 */
export { MacroHost } from './macro-host.js';
export type { Disposable, Event } from './macro-host.js';
export type { MacroHostOptions } from './options.js';
export type { RestartPolicyOptions, RestartDecision } from './restart-policy.js';
export { DEFAULT_RESTART_POLICY, decideRestart, normalizeRestartPolicy } from './restart-policy.js';
export { DEFAULT_QUARANTINE_AFTER } from './quarantine.js';
export { DEFAULT_MEMORY_LIMIT_MIB } from './memory-watchdog.js';
export type { LibraryPackage, LoadLibraryOptions } from './library-registry.js';
export type { RestartEvent } from './supervisor.js';
export type { HostExit } from './host-exit.js';
export {
	HostClosedError,
	HostCrashError,
	HostStartError,
	HostUnavailableError,
	MacroHostRequestError,
	RequestSendError,
	type CrashedCall,
} from './errors.js';
export { HostPool, HostLease, MAX_POOL_SIZE, type HostPoolOptions } from './host-pool.js';
export * from '../protocol/index.js';
export { tokenize, sliceTokens, printTokens, LineIndex } from '../tokens/index.js';
export type { TokenizeOptions, TokenizeResult, TokenizeError, PrintOptions, LineColumn } from '../tokens/index.js';
