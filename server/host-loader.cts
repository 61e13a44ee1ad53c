/**
 * The host's start-up entry, dist/server/host.cjs (scripts/bundle-host.js copies this file's output
 * there; the client spawns it): runs the bundled host, dist/server/host-bundle.cjs, from a V8 code
 * cache, so that a start deserialises the bytecode of the functions a start runs instead of
 * compiling them. See docs/performance.md (cold start).
 *
 * The cache is an optimisation and never a condition: a cache that is missing, made for another
 * bundle or another Node, rejected by V8, corrupt or unreadable leaves the host compiling from
 * source, exactly as without one. A host that found no usable cache writes a fresh one once it has
 * run for {@link CACHE_WRITE_AFTER_MS} (by then it has answered initialize and loaded its libraries,
 * so the functions those need are compiled and go into the cache), atomically (temporary file, then
 * rename), so hosts starting together never read a half-written cache. The build writes the first
 * one (scripts/train-host-code-cache.js).
 *
 * The bundle runs as this file's body: it gets this module's `require`, `module`, `__filename` and
 * `__dirname` (it sits in the same directory), so it resolves its packages and files, and sees
 * itself as the main module, as it did when it was host.cjs.
 *
 * Environment:
 * - `MACRO_HOST_CODE_CACHE`: `off`, or the cache file to use (default: host-bundle.v8cache beside
 *   the bundle).
 * - `MACRO_HOST_STARTUP_LOG=1`: one stderr line per decision (`macro-host: code cache: accepted`,
 *   `… written <file>`, …), for tests and diagnosis.
 */
import { readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Script } from 'node:vm';

/** The bundled host, beside this loader. */
export const BUNDLE_FILE = join(__dirname, 'host-bundle.cjs');

/** The code cache's default place, beside the bundle. */
export const DEFAULT_CACHE_FILE = join(__dirname, 'host-bundle.v8cache');

/** Environment variable naming the cache file, or `off`. */
export const CACHE_ENV = 'MACRO_HOST_CODE_CACHE';

/** Environment variable that, set to `1`, makes the loader report its decisions on stderr. */
export const STARTUP_LOG_ENV = 'MACRO_HOST_STARTUP_LOG';

/** How long a host that found no usable cache runs before it writes one. */
export const CACHE_WRITE_AFTER_MS = 1000;

/**
 * The bundle's first line: this prefix, then a hash of the bundle made by the build. V8 checks a
 * cache against the source's length only, so this id is what ties a cache to one bundle.
 */
export const BUNDLE_ID_PREFIX = '// macro-host bundle ';

/** First word of a cache file's header line. */
export const CACHE_MAGIC = 'macro-host-code-cache-v1';

/** What the loader found, as reported on the startup log. */
export type CacheState = 'off' | 'missing' | 'unreadable' | 'stale' | 'rejected' | 'accepted';

/** A cache file's header: V8's data follows it. */
export function cacheHeader(bundleId: string): string {
	return `${CACHE_MAGIC} ${bundleId} ${process.version} ${process.arch}\n`;
}

// Node's own CommonJS wrapper, applied by hand because vm.Script compiles scripts, not modules.
const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const WRAPPER_TAIL = '\n})';

type BundleMain = (this: unknown, exports: unknown, require: NodeJS.Require, module: NodeJS.Module, filename: string, dirname: string) => void;

const logging = process.env[STARTUP_LOG_ENV] === '1';

function log(line: string): void {
	// writeSync: no stderr stream is made this early; only when logging was asked for.
	if (logging) writeSync(2, `macro-host: ${line}\n`);
}

/** The cache file from the environment; undefined when caching is off. */
function cacheFileFromEnv(): string | undefined {
	const given = process.env[CACHE_ENV];
	if (given === 'off') return undefined;
	return given ? resolve(given) : DEFAULT_CACHE_FILE;
}

/** The bundle's id from its first line; undefined when it has none (not made by our build). */
function bundleIdOf(source: string): string | undefined {
	if (!source.startsWith(BUNDLE_ID_PREFIX)) return undefined;
	const id = source.slice(BUNDLE_ID_PREFIX.length, source.indexOf('\n')).trim();
	return /^[0-9a-f]+$/.test(id) ? id : undefined;
}

/** Reads the cache file: V8's data when the header matches this bundle and this Node. */
function readCache(file: string, header: string): { state: CacheState; data?: Buffer } {
	let bytes: Buffer;
	try {
		bytes = readFileSync(file);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		return { state: code === 'ENOENT' ? 'missing' : 'unreadable' };
	}
	if (bytes.length <= header.length || bytes.toString('latin1', 0, header.length) !== header) return { state: 'stale' };
	return { state: 'accepted', data: bytes.subarray(header.length) };
}

/**
 * V8 only checksums a code cache under --verify-snapshot-checksum; without it, a corrupt cache can
 * crash V8 instead of being rejected. The flag is on only while a cache is made or read: every V8
 * flag enters the hash V8 checks Node's own code caches against, so leaving it on would make every
 * Node module loaded afterwards compile from source.
 */
function withChecksums<T>(run: () => T): T {
	// Required here, not at the top: only a start that has a cache to read pays for loading it.
	const v8 = require('node:v8') as typeof import('node:v8');
	v8.setFlagsFromString('--verify-snapshot-checksum');
	try {
		return run();
	} finally {
		v8.setFlagsFromString('--no-verify-snapshot-checksum');
	}
}

/** Compiles the wrapped bundle, from the cache when there is one. */
function compile(code: string, cachedData: Buffer | undefined): Script {
	if (cachedData !== undefined) {
		try {
			return withChecksums(() => new Script(code, { filename: BUNDLE_FILE, cachedData }));
		} catch (error) {
			// Not seen in practice (V8 rejects bad data rather than throwing); a source error throws again below.
			log(`code cache: not used (${(error as Error).message})`);
		}
	}
	return new Script(code, { filename: BUNDLE_FILE });
}

/** Writes the cache for this script, atomically; a failure is only reported. */
function writeCache(script: Script, file: string, header: string): void {
	const temporary = `${file}.${process.pid}.tmp`;
	try {
		const data = withChecksums(() => script.createCachedData());
		writeFileSync(temporary, Buffer.concat([Buffer.from(header, 'latin1'), data]));
		renameSync(temporary, file);
		log(`code cache: written ${file}`);
	} catch (error) {
		try {
			unlinkSync(temporary);
		} catch {
			// Usually it was never created.
		}
		log(`code cache: not written (${(error as Error).message})`);
	}
}

function startHost(): void {
	const source = readFileSync(BUNDLE_FILE, 'utf8');
	const cacheFile = cacheFileFromEnv();
	const bundleId = cacheFile === undefined ? undefined : bundleIdOf(source);
	const header = bundleId === undefined ? undefined : cacheHeader(bundleId);
	const found: { state: CacheState; data?: Buffer } = cacheFile !== undefined && header !== undefined ? readCache(cacheFile, header) : { state: 'off' };
	const script = compile(WRAPPER_HEAD + source + WRAPPER_TAIL, found.data);
	const state: CacheState = found.data !== undefined && script.cachedDataRejected === true ? 'rejected' : found.state;
	log(`code cache: ${state}${cacheFile === undefined ? '' : bundleId === undefined ? ' (the bundle has no id)' : ` ${cacheFile}`}`);
	const main = script.runInThisContext() as BundleMain;
	if (state !== 'accepted' && state !== 'off' && cacheFile !== undefined && header !== undefined) {
		// unref: a host that is done sooner exits without writing.
		setTimeout(() => writeCache(script, cacheFile, header), CACHE_WRITE_AFTER_MS).unref();
	}
	main.call(module.exports, module.exports, require, module, __filename, __dirname);
}

// Only as the process's entry: a test may require this file for its constants.
if (require.main === module) startHost();
