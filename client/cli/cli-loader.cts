/**
 * The `macro-host` command's entry, dist/client/cli/macro-host.cjs (scripts/bundle-cli.js bundles this
 * file with protocol/node/code-cache-loader.cts into it): runs the bundled command,
 * dist/client/cli/macro-host-bundle.cjs, from a V8 code cache, as the host's entry runs the host (see
 * code-cache-loader.cts). A command is done in a fraction of a second, so one that found no usable cache
 * writes it as it exits. The build writes the first one from a real `expand-project`
 * (scripts/train-cli-code-cache.js): a cache made by a run that compiled little (say `--help`) would be
 * accepted by every later run and spare them little.
 *
 * Environment:
 * - `MACRO_HOST_CLI_CODE_CACHE`: `off`, or the cache file to use (default: macro-host-bundle.v8cache
 *   beside the bundle).
 * - `MACRO_HOST_STARTUP_LOG=1`: one stderr line per decision, as the host's.
 */
import { join } from 'node:path';
import { runBundle } from '../../protocol/node/code-cache-loader.cjs';

export { STARTUP_LOG_ENV } from '../../protocol/node/code-cache-loader.cjs';

/** The bundled command, beside this loader. */
export const BUNDLE_FILE = join(__dirname, 'macro-host-bundle.cjs');

/** The code cache's default place, beside the bundle. */
export const DEFAULT_CACHE_FILE = join(__dirname, 'macro-host-bundle.v8cache');

/** Environment variable naming the cache file, or `off`. */
export const CACHE_ENV = 'MACRO_HOST_CLI_CODE_CACHE';

// Only as the process's entry: a test or the build may require this file for its constants.
if (require.main !== undefined && require.main.filename === __filename) {
	runBundle({ bundleFile: BUNDLE_FILE, cacheEnv: CACHE_ENV, defaultCacheFile: DEFAULT_CACHE_FILE, writeCache: 'at-exit', entry: require.main, require });
}
