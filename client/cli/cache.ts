/**
 * `macro-host cache list|prune|clean`: shows the build cache and removes what is no longer used. The cache logic lives
 * in client/packages/ (cache-inventory.ts, cache-gc.ts); this module parses flags and prints.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanCache, DEFAULT_PRUNE_DAYS, pruneCache, PRUNE_GRACE_MS, type PruneResult } from '../packages/cache-gc.js';
import { readCacheInventory, statOrUndefined } from '../packages/cache-inventory.js';
import { readExpansionInventory } from '../expansion-cache/expansion-gc.js';
import { defaultCacheDir } from '../packages/options.js';
import { ExitCode, HELP_FLAG, MESSAGE_FORMAT_FLAGS, parseFlags, parseMessageFormat, UsageError, type CliIo } from './usage.js';

const CACHE_DIR_HELP = '  --cache-dir DIR    the cache (default: $XDG_CACHE_HOME/macro-host, else ~/.cache/macro-host)\n';

export const CACHE_HELP = `Usage: macro-host cache <command> [--cache-dir DIR]

Shows and trims the build cache: the libraries 'macro-host build' and loadProject() built, their
generated Cargo.toml files and cargo's target dir, and the expansion cache (expansions/: results of
macro calls). Every build that uses a library or an expansion marks it used.

Commands:
  list     list the cached libraries with their size and when a build last used them
  prune    remove the libraries unused for 30 days (--older-than), or the least recently used
           until the cache fits a size (--max-size)
  clean    remove the whole cache (the next build compiles everything again)

Options:
${CACHE_DIR_HELP}  -h, --help         show this help; 'macro-host cache <command> --help' shows a command's help

Exit codes: 0 done (also when there is no cache), 1 the cache could not be read or removed, 2 usage error.
`;

export const CACHE_LIST_HELP = `Usage: macro-host cache list [--cache-dir DIR] [--message-format human|json]

Lists the cached libraries, most recently used first: the first 16 digits of the cache key, the
package's crate name, its kind (native or wasm), the bytes removing it would free (library, generated
manifest, cargo outputs) and when a build last used it; then the totals.

Options:
${CACHE_DIR_HELP}  --message-format F  json: the entries and totals as JSON (--json is the same)
  -h, --help         show this help
`;

export const CACHE_PRUNE_HELP = `Usage: macro-host cache prune [--older-than DAYS] [--max-size MIB] [--dry-run] [--cache-dir DIR]

Removes the cached libraries no build has used for DAYS days, then, with --max-size, the least
recently used ones until the whole cache takes at most MIB MiB; also leftovers of interrupted builds.
A library used in the last ${PRUNE_GRACE_MS / 60_000} minutes is never removed, so builds running meanwhile are safe.

Options:
  --older-than DAYS  remove libraries unused for this many days (default: ${DEFAULT_PRUNE_DAYS}; 0 for all; fractions allowed)
  --max-size MIB     then remove the least recently used until the cache is at most MIB mebibytes
  --dry-run          print what would be removed, remove nothing
${CACHE_DIR_HELP}  -h, --help         show this help
`;

export const CACHE_CLEAN_HELP = `Usage: macro-host cache clean [--dry-run] [--cache-dir DIR]

Removes everything macro-host keeps in the cache directory: the libraries, the generated Cargo.toml
files, cargo's target dir and the compiled SDK. The next build compiles every package again. Files
macro-host did not put there are left alone.

Options:
  --dry-run          print what would be removed, remove nothing
${CACHE_DIR_HELP}  -h, --help         show this help
`;

const CACHE_DIR_FLAG = { 'cache-dir': { type: 'string' } } as const;
const LIST_FLAGS = { ...HELP_FLAG, ...CACHE_DIR_FLAG, ...MESSAGE_FORMAT_FLAGS } as const;
const PRUNE_FLAGS = { ...HELP_FLAG, ...CACHE_DIR_FLAG, 'older-than': { type: 'string' }, 'max-size': { type: 'string' }, 'dry-run': { type: 'boolean' } } as const;
const CLEAN_FLAGS = { ...HELP_FLAG, ...CACHE_DIR_FLAG, 'dry-run': { type: 'boolean' } } as const;

const MIB = 1024 * 1024;

export async function runCache(argv: string[], io: CliIo): Promise<number> {
	const [command, ...rest] = argv;
	switch (command) {
		case 'list':
			return runList(rest, io);
		case 'prune':
			return runPrune(rest, io);
		case 'clean':
			return runClean(rest, io);
		case '-h':
		case '--help':
		case 'help':
			io.out(CACHE_HELP);
			return ExitCode.ok;
		case undefined:
			throw new UsageError("missing cache command: give 'list', 'prune' or 'clean'", 'cache');
		default:
			throw new UsageError(
				command.startsWith('-')
					? `missing cache command before '${command}': give 'list', 'prune' or 'clean' first`
					: `unknown cache command '${command}': the cache commands are list, prune and clean`,
				'cache',
			);
	}
}

function runList(argv: string[], io: CliIo): number {
	const { values, positionals } = parseFlags('cache list', () => parseArgs({ args: argv, options: LIST_FLAGS, strict: true, allowPositionals: true }));
	if (values.help) return help(io, CACHE_LIST_HELP);
	rejectPositionals(positionals, 'cache list');
	const cacheDir = cacheDirFrom(values['cache-dir'], 'cache list');
	return withCacheDir(cacheDir, io, 'nothing is cached', () => list(cacheDir, parseMessageFormat(values['message-format'], 'cache list', values.json) === 'json', io));
}

function list(cacheDir: string, json: boolean, io: CliIo): number {
	const inventory = readCacheInventory(cacheDir);
	if (json) {
		const entries = inventory.entries.map((e) => ({ ...e, lastUsed: new Date(e.lastUsedMs).toISOString() }));
		io.out(`${JSON.stringify({ ...inventory, entries, expansions: readExpansionInventory(cacheDir) }, null, 2)}\n`);
		return ExitCode.ok;
	}
	const now = Date.now();
	const rows = inventory.entries.map((e) => [e.key.slice(0, 16), e.crate ?? '?', e.kind ?? '?', formatBytes(e.size), formatAgo(now - e.lastUsedMs)]);
	if (rows.length > 0) io.out(formatTable([['KEY', 'PACKAGE', 'KIND', 'SIZE', 'LAST USED'], ...rows]));
	const count = plural(inventory.entries.length, 'entry', 'entries');
	// ---- Expansion cache (client/expansion-cache/expansion-gc.ts) ----
	const expansions = readExpansionInventory(cacheDir);
	if (expansions.entries + expansions.libraries > 0) {
		const used = expansions.lastUsedMs === undefined ? '' : `, last used ${formatAgo(now - expansions.lastUsedMs)}`;
		io.out(`Expansion cache: ${plural(expansions.entries, 'expansion', 'expansions')}, ${formatBytes(expansions.size)}${used}\n`);
	}
	io.out(
		`${count}, ${formatBytes(inventory.totalSize - inventory.sharedSize)}; shared ${formatBytes(inventory.sharedSize)} ` +
			`(cargo's target dir, SDK builds); total ${formatBytes(inventory.totalSize)} in ${cacheDir}\n`,
	);
	return ExitCode.ok;
}

function runPrune(argv: string[], io: CliIo): number {
	const { values, positionals } = parseFlags('cache prune', () => parseArgs({ args: argv, options: PRUNE_FLAGS, strict: true, allowPositionals: true }));
	if (values.help) return help(io, CACHE_PRUNE_HELP);
	rejectPositionals(positionals, 'cache prune');
	const olderThanDays = parseAmount(values['older-than'], '--older-than', 'a number of days', 'cache prune');
	const maxSizeMib = parseAmount(values['max-size'], '--max-size', 'a size in MiB', 'cache prune');
	const cacheDir = cacheDirFrom(values['cache-dir'], 'cache prune');
	const dryRun = values['dry-run'] === true;
	return withCacheDir(cacheDir, io, 'nothing to prune', () => prune(cacheDir, { olderThanDays, maxSizeMib, dryRun }, io));
}

function prune(cacheDir: string, { olderThanDays, maxSizeMib, dryRun }: { olderThanDays: number | undefined; maxSizeMib: number | undefined; dryRun: boolean }, io: CliIo): number {
	const result = pruneCache(cacheDir, { olderThanDays, maxSizeBytes: maxSizeMib === undefined ? undefined : maxSizeMib * MIB, dryRun });
	io.out(formatPrune(result, { olderThanDays: olderThanDays ?? DEFAULT_PRUNE_DAYS, maxSizeMib, dryRun }));
	if (!result.fitsMaxSize) {
		io.err(
			`warning: the cache ${dryRun ? 'would still be' : 'is still'} ${formatBytes(result.sizeAfter)}, over --max-size ${maxSizeMib} MiB: ` +
				`the rest is shared (cargo's target dir, SDK builds) or was used in the last ${PRUNE_GRACE_MS / 60_000} minutes; ` +
				`'macro-host cache clean' removes everything\n`,
		);
	}
	return ExitCode.ok;
}

function runClean(argv: string[], io: CliIo): number {
	const { values, positionals } = parseFlags('cache clean', () => parseArgs({ args: argv, options: CLEAN_FLAGS, strict: true, allowPositionals: true }));
	if (values.help) return help(io, CACHE_CLEAN_HELP);
	rejectPositionals(positionals, 'cache clean');
	const cacheDir = cacheDirFrom(values['cache-dir'], 'cache clean');
	const dryRun = values['dry-run'] === true;
	return withCacheDir(cacheDir, io, 'nothing to clean', () => clean(cacheDir, dryRun, io));
}

function clean(cacheDir: string, dryRun: boolean, io: CliIo): number {
	const result = cleanCache(cacheDir, { dryRun });
	if (result.removed.length === 0) {
		io.out(`no macro-host cache in ${cacheDir}: nothing to clean\n`);
		return ExitCode.ok;
	}
	const what = `${plural(result.before.entries.length, 'entry', 'entries')}, ${formatBytes(result.freedBytes)}`;
	io.out(`${dryRun ? 'Would remove' : 'Removed'} the cache at ${cacheDir}: ${what}\n`);
	if (!dryRun && !result.removedCacheDir) io.out(`Kept the directory itself: it holds files macro-host did not put there\n`);
	return ExitCode.ok;
}

/** The text of a prune's outcome: the entries removed, the leftovers, what was kept and why, the size after. */
export function formatPrune(result: PruneResult, request: { olderThanDays: number; maxSizeMib: number | undefined; dryRun: boolean }): string {
	const lines: string[] = [];
	const verb = request.dryRun ? 'Would remove' : 'Removed';
	const now = Date.now();
	if (result.removed.length > 0) {
		const size = formatBytes(result.removed.reduce((sum, e) => sum + e.size, 0));
		lines.push(`${verb} ${plural(result.removed.length, 'entry', 'entries')}, ${size}:`);
		const rows = result.removed.map((e) => [
			`  ${e.key.slice(0, 16)}`,
			e.crate ?? '?',
			formatBytes(e.size),
			`last used ${formatAgo(now - e.lastUsedMs)}${e.reason === 'size' ? ' (over --max-size)' : ''}`,
		]);
		lines.push(formatTable(rows).trimEnd());
	} else {
		const reasons: string[] = [];
		if (request.olderThanDays > 0) reasons.push(`none unused for ${plural(request.olderThanDays, 'day', 'days')}`);
		if (request.maxSizeMib !== undefined && result.fitsMaxSize) reasons.push(`the cache is within --max-size ${request.maxSizeMib} MiB`);
		lines.push(`No entry to prune${reasons.length > 0 ? `: ${reasons.join(', and ')}` : ''}`);
	}
	if (result.leftovers.length > 0) {
		const leftoverBytes = result.freedBytes - result.removed.reduce((sum, e) => sum + e.size, 0);
		lines.push(`${verb} ${plural(result.leftovers.length, 'leftover', 'leftovers')} of interrupted or failed builds, ${formatBytes(leftoverBytes)}`);
	}
	if (result.expansions.removed > 0) {
		lines.push(`${verb} ${plural(result.expansions.removed, 'expansion', 'expansions')} from the expansion cache, ${formatBytes(result.expansions.freedBytes)}`);
	}
	if (result.keptRecent.length > 0) {
		lines.push(`Kept ${plural(result.keptRecent.length, 'entry', 'entries')} used in the last ${PRUNE_GRACE_MS / 60_000} minutes`);
	}
	if (result.keptInUse.length > 0) {
		lines.push(`Kept ${plural(result.keptInUse.length, 'entry', 'entries')} that a build used while the prune ran`);
	}
	const left = result.before.entries.length - result.removed.length;
	lines.push(`The cache ${request.dryRun ? 'would be' : 'is now'} ${formatBytes(result.sizeAfter)} (${plural(left, 'entry', 'entries')})`);
	return `${lines.join('\n')}\n`;
}

/** Bytes as `512 B`, `1.5 KiB`, `12.0 MiB`, `1.2 GiB`. */
export function formatBytes(bytes: number): string {
	if (bytes < 1024) return `${bytes} B`;
	const units = ['KiB', 'MiB', 'GiB', 'TiB'];
	let value = bytes / 1024;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}
	return `${value.toFixed(1)} ${units[unit]}`;
}

/** A duration in the past as `just now`, `5 minutes ago`, `3 hours ago`, `12 days ago`. */
export function formatAgo(ms: number): string {
	const minutes = Math.floor(Math.max(0, ms) / 60_000);
	if (minutes < 1) return 'just now';
	if (minutes < 60) return `${plural(minutes, 'minute', 'minutes')} ago`;
	const hours = Math.floor(minutes / 60);
	if (hours < 48) return `${plural(hours, 'hour', 'hours')} ago`;
	return `${plural(Math.floor(hours / 24), 'day', 'days')} ago`;
}

function plural(count: number, one: string, many: string): string {
	return `${count} ${count === 1 ? one : many}`;
}

/** Rows as left-aligned columns two spaces apart (the last column unpadded). */
function formatTable(rows: string[][]): string {
	const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
	return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** None of the cache commands takes an argument. */
function rejectPositionals(positionals: string[], command: string): void {
	if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, command);
}

function help(io: CliIo, text: string): number {
	io.out(text);
	return ExitCode.ok;
}

/** A non-negative decimal number from a flag, or undefined when the flag is absent. */
function parseAmount(text: string | undefined, flag: string, what: string, command: string): number | undefined {
	if (text === undefined) return undefined;
	if (!/^\d+(\.\d+)?$/.test(text)) throw new UsageError(`${flag} must be ${what} (0 or more), not '${text}'`, command);
	return Number(text);
}

function cacheDirFrom(flag: string | undefined, command: string): string {
	if (flag === '') throw new UsageError('--cache-dir needs a non-empty path', command);
	return resolve(flag ?? defaultCacheDir());
}

/**
 * Runs `action` on the cache directory `cacheDir`. A missing directory is not an error: there is nothing to do, and
 * the message says so (exit 0). A file in its place, or a file system error on the way, is (exit 1).
 */
function withCacheDir(cacheDir: string, io: CliIo, nothing: string, action: () => number): number {
	const stats = statOrUndefined(cacheDir);
	if (!stats) {
		io.out(`no cache at ${cacheDir}: ${nothing}\n`);
		return ExitCode.ok;
	}
	if (!stats.isDirectory()) {
		io.err(`error: the cache directory ${cacheDir} is not a directory\n`);
		return ExitCode.failure;
	}
	try {
		return action();
	} catch (error) {
		const { code, message } = error as NodeJS.ErrnoException;
		if (code === undefined) throw error;
		io.err(`error: ${message}\n`);
		return ExitCode.failure;
	}
}
