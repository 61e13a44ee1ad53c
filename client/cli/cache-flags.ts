/**
 * The expansion cache's flags, shared by the commands that expand through it (`expand-project`,
 * `proc-macro-server`): their parseArgs options, their help lines and their reading as the
 * `expansionCache` option.
 */
import { REMOTE_CACHE_ENV, type ExpansionCacheOptions } from '../expansion-cache/expansion-cache.js';
import { UsageError } from './usage.js';

/** parseArgs options of the cache flags. */
export const CACHE_FLAGS = {
	'no-expansion-cache': { type: 'boolean' },
	'remote-cache': { type: 'string' },
	'remote-cache-upload': { type: 'string' },
} as const;

/** Help lines of the cache flags, aligned with `column` spaces before the text. */
export function cacheFlagsHelp(column: number): string {
	const line = (flag: string, text: string) => `  ${flag.padEnd(column - 2)}${text}\n`;
	return (
		line('--no-expansion-cache', 'expand every call, and keep no result (the cache is in <cache-dir>/expansions)') +
		line('--remote-cache URL', 'also read (and write) a Bazel-layout HTTP cache at URL (default: $MACRO_HOST_REMOTE_CACHE)') +
		line('--remote-cache-upload B', 'false: only read the remote cache (default true)')
	);
}

/** The values of the cache flags. */
export interface CacheFlagValues {
	'no-expansion-cache'?: boolean;
	'remote-cache'?: string;
	'remote-cache-upload'?: string;
}

/** The cache flags of `command` as the `expansionCache` option; a UsageError names a bad value. */
export function parseCacheFlags(command: string, values: CacheFlagValues, env: NodeJS.ProcessEnv = process.env): false | ExpansionCacheOptions {
	const upload = values['remote-cache-upload'];
	if (upload !== undefined && upload !== 'true' && upload !== 'false') {
		throw new UsageError(`--remote-cache-upload must be true or false, not '${upload}'`, command);
	}
	if (values['no-expansion-cache']) {
		if (values['remote-cache'] !== undefined) throw new UsageError('--remote-cache cannot be used with --no-expansion-cache', command);
		return false;
	}
	const url = values['remote-cache'] ?? env[REMOTE_CACHE_ENV];
	if (url === undefined || url === '') return {};
	if (!/^https?:\/\/./.test(url)) throw new UsageError(`--remote-cache must be an http:// or https:// URL, not '${url}'`, command);
	return { remote: { url, upload: upload !== 'false' } };
}
