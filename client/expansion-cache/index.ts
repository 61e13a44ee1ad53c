/** The expansion cache: keys, the local and remote stores, the caching caller and a build's on-demand session (docs/caching.md). */
export { CACHE_FORMAT_VERSION, callKey, type KeyedCall, type LibraryIdentity } from './call-key.js';
export { CachingCaller, type CacheableLibrary, type CachingCallerOptions, type CallSender } from './caching-caller.js';
export { describeDifference } from './determinism.js';
export {
	EXPANSIONS_DIR,
	ExpansionCache,
	isCacheableResult,
	REMOTE_CACHE_ENV,
	type ExpansionCacheContext,
	type ExpansionCacheOptions,
	type ExpansionCacheStats,
	type RemoteCacheOptions,
} from './expansion-cache.js';
export { ExpansionSession, type ExpansionSessionOptions } from './expansion-session.js';
export { FileExpansions, type KeyedPackage } from './file-expansions.js';
export { hashLibraryFile } from './library-identity.js';
export { ENTRIES_DIR, LIBRARIES_DIR, LocalExpansionStore, type LibraryRecord } from './local-store.js';
export { DEFAULT_REMOTE_TIMEOUT_MS, INLINE_VALUE_LIMIT, RemoteExpansionStore, type RemoteStoreOptions } from './remote-store.js';
