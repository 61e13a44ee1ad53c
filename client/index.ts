/** The client library: MacroHost, its options and errors, and the protocol types it speaks. */
export { MacroHost } from './macro-host.js';
export type { Disposable, Event } from './macro-host.js';
export type { MacroHostOptions } from './options.js';
export type { RestartPolicyOptions, RestartDecision } from './restart-policy.js';
export { DEFAULT_RESTART_POLICY, decideRestart, normalizeRestartPolicy } from './restart-policy.js';
export { DEFAULT_QUARANTINE_AFTER } from './quarantine.js';
export { DEFAULT_MEMORY_LIMIT_MIB } from './memory-watchdog.js';
export type { RestartEvent } from './supervisor.js';
export type { HostExit } from './host-process.js';
export {
	HostClosedError,
	HostCrashError,
	HostStartError,
	HostUnavailableError,
	MacroHostRequestError,
	RequestSendError,
	type CrashedCall,
} from './errors.js';
export * from '../protocol/index.js';
export * from './packages/index.js';
export * from './driver/index.js';
export { tokenize, sliceTokens, type TokenizeOptions, type TokenizeResult, type TokenizeError } from './tokenizer.js';
export { printTokens, type PrintOptions } from './token-printer.js';
export { LineIndex, type LineColumn } from './line-index.js';
