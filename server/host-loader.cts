/**
 * The host's start-up entry, dist/server/host.cjs (scripts/bundle-host.js bundles this file with
 * protocol/node/code-cache-loader.cts into it; the client spawns it): runs the bundled host,
 * dist/server/host-bundle.cjs, from a V8 code cache (see code-cache-loader.cts for how a cache is read,
 * checked and written). A host that found no usable cache writes one once it has run for
 * {@link CACHE_WRITE_AFTER_MS}: by then it has answered initialize and loaded its libraries, so the
 * functions those need are compiled and go into the cache. The build writes the first one
 * (scripts/train-host-code-cache.js).
 *
 * Environment:
 * - `MACRO_HOST_CODE_CACHE`: `off`, or the cache file to use (default: host-bundle.v8cache beside
 *   the bundle).
 * - `MACRO_HOST_STARTUP_LOG=1`: one stderr line per decision (`macro-host: code cache: accepted`,
 *   `… written <file>`, …), for tests and diagnosis.
 */
import { join } from 'node:path';
import { runBundle } from '../protocol/node/code-cache-loader.cjs';

export { BUNDLE_ID_PREFIX, CACHE_MAGIC, cacheHeader, STARTUP_LOG_ENV, type CacheState } from '../protocol/node/code-cache-loader.cjs';

/** The bundled host, beside this loader. */
export const BUNDLE_FILE = join(__dirname, 'host-bundle.cjs');

/** The code cache's default place, beside the bundle. */
export const DEFAULT_CACHE_FILE = join(__dirname, 'host-bundle.v8cache');

/** Environment variable naming the cache file, or `off`. */
export const CACHE_ENV = 'MACRO_HOST_CODE_CACHE';

/** How long a host that found no usable cache runs before it writes one. */
export const CACHE_WRITE_AFTER_MS = 1000;

// Only as the process's entry: a test may require this file for its constants.
if (require.main !== undefined && require.main.filename === __filename) {
	runBundle({ bundleFile: BUNDLE_FILE, cacheEnv: CACHE_ENV, defaultCacheFile: DEFAULT_CACHE_FILE, writeCache: { afterMs: CACHE_WRITE_AFTER_MS }, entry: require.main, require });
}
