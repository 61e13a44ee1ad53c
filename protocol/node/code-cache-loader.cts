/**
 * Runs a CommonJS bundle from a V8 code cache, so that a start deserialises the bytecode of the
 * functions a start runs instead of compiling them. Two entries use it, each bundled with it into one
 * file: the host's (dist/server/host.cjs, server/host-loader.cts) and the `macro-host` command's
 * (dist/client/cli/macro-host.cjs, client/cli/cli-loader.cts). See docs/performance.md (cold start).
 *
 * The cache is an optimisation and never a condition: a cache that is missing, made for another
 * bundle or another Node, rejected by V8, corrupt or unreadable leaves the bundle compiling from
 * source, exactly as without one. A run that found no usable cache writes a fresh one, atomically
 * (temporary file, then rename), so processes starting together never read a half-written cache:
 * after it has run for a while (a host: by then it has answered initialize and loaded its libraries),
 * or as it exits (a command, which is done in a fraction of a second). The build writes the first one.
 *
 * The bundle runs as the entry's body: it gets the entry module's `require`, `module`, `__filename`
 * and `__dirname` (it sits in the same directory), so it resolves its packages and files, and sees
 * itself as the main module, as it did when it was the entry.
 *
 * `MACRO_HOST_STARTUP_LOG=1` makes the loader write one stderr line per decision
 * (`macro-host: code cache: accepted`, `… written <file>`, …), for tests and diagnosis.
 */
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Script } from 'node:vm';

/** Environment variable that, set to `1`, makes the loader report its decisions on stderr. */
export const STARTUP_LOG_ENV = 'MACRO_HOST_STARTUP_LOG';

/**
 * A bundle's first line: this prefix, then a hash of the bundle made by the build. V8 checks a
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

/** One bundle to run, and where its cache lives. */
export interface BundleRun {
	/** The bundle, beside the entry. */
	readonly bundleFile: string;
	/** The environment variable naming the cache file, or `off`. */
	readonly cacheEnv: string;
	/** The cache's place when the environment names none. */
	readonly defaultCacheFile: string;
	/** When a run that found no usable cache writes one: after this many milliseconds of running, or as the process exits. */
	readonly writeCache: { readonly afterMs: number } | 'at-exit';
	/** The entry module (`require.main`), whose `module`, file and directory the bundle gets. */
	readonly entry: NodeJS.Module;
	/** The entry's own `require`, which the bundle gets. */
	readonly require: NodeJS.Require;
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
function cacheFileFromEnv(run: BundleRun): string | undefined {
	const given = process.env[run.cacheEnv];
	if (given === 'off') return undefined;
	return given ? resolve(given) : run.defaultCacheFile;
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
function compile(code: string, filename: string, cachedData: Buffer | undefined): Script {
	if (cachedData !== undefined) {
		try {
			return withChecksums(() => new Script(code, { filename, cachedData }));
		} catch (error) {
			// Not seen in practice (V8 rejects bad data rather than throwing); a source error throws again below.
			log(`code cache: not used (${(error as Error).message})`);
		}
	}
	return new Script(code, { filename });
}

/**
 * Writes the cache for this script, atomically; a failure is only reported. The temporary file is opened
 * before V8 serialises anything: where the cache cannot be written (a read-only install run by another
 * user), a command that exits pays one failed open, not the serialisation too.
 */
function writeCache(script: Script, file: string, header: string): void {
	const temporary = `${file}.${process.pid}.tmp`;
	let fd: number | undefined;
	try {
		fd = openSync(temporary, 'w');
		const data = withChecksums(() => script.createCachedData());
		writeFileSync(fd, Buffer.concat([Buffer.from(header, 'latin1'), data]));
		closeSync(fd);
		fd = undefined;
		renameSync(temporary, file);
		log(`code cache: written ${file}`);
	} catch (error) {
		try {
			if (fd !== undefined) closeSync(fd);
			unlinkSync(temporary);
		} catch {
			// Usually it was never created.
		}
		log(`code cache: not written (${(error as Error).message})`);
	}
}

/** Runs the bundle as the entry module's body, from its code cache when it has a usable one. */
export function runBundle(run: BundleRun): void {
	const source = readFileSync(run.bundleFile, 'utf8');
	const cacheFile = cacheFileFromEnv(run);
	const bundleId = cacheFile === undefined ? undefined : bundleIdOf(source);
	const header = bundleId === undefined ? undefined : cacheHeader(bundleId);
	const found: { state: CacheState; data?: Buffer } = cacheFile !== undefined && header !== undefined ? readCache(cacheFile, header) : { state: 'off' };
	const script = compile(WRAPPER_HEAD + source + WRAPPER_TAIL, run.bundleFile, found.data);
	const state: CacheState = found.data !== undefined && script.cachedDataRejected === true ? 'rejected' : found.state;
	log(`code cache: ${state}${cacheFile === undefined ? '' : bundleId === undefined ? ' (the bundle has no id)' : ` ${cacheFile}`}`);
	const main = script.runInThisContext() as BundleMain;
	if (state !== 'accepted' && state !== 'off' && cacheFile !== undefined && header !== undefined) {
		const write = (): void => writeCache(script, cacheFile, header);
		// unref: a host that is done sooner exits without writing.
		if (run.writeCache === 'at-exit') process.once('exit', write);
		else setTimeout(write, run.writeCache.afterMs).unref();
	}
	const entry = run.entry;
	main.call(entry.exports, entry.exports, run.require, entry, entry.filename, dirname(entry.filename));
}
