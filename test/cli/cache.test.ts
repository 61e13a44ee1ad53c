/**
 * `macro-host cache list|prune|clean`, run as real processes on a cache whose entries are published the way a build
 * publishes them (the fixture libraries, copied into `libs/<key>/` atomically), with ages set through their mtimes.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAgo, formatBytes } from '../../dist/client/cli/cache.js';
import { publishFile } from '../../dist/client/packages/atomic-file.js';
import { removeTempDirs, tempDir } from '../packages/helpers.js';
import { LIBC_BASIC, runCli } from './run-cli.js';

afterAll(removeTempDirs);

const DAY = 24 * 60 * 60 * 1000;
const RUST_LIBRARY = fileURLToPath(new URL('../fixtures/build/librust_macros.so', import.meta.url));
const RUST_WASM = fileURLToPath(new URL('../fixtures/build/rust_macros.wasm', import.meta.url));

/** A fake but well-formed cache key. */
function key(seed: string): string {
	return createHash('sha256').update(seed).digest('hex');
}

interface Published {
	key: string;
	dir: string;
	size: number;
}

/** Publishes `artifact` as `libs/<key>/<fileName>`, used `msAgo` ago. */
function publish(cacheDir: string, seed: string, artifact: string, fileName: string, msAgo: number): Published {
	const k = key(seed);
	const dir = join(cacheDir, 'libs', k);
	publishFile(artifact, join(dir, fileName));
	const when = new Date(Date.now() - msAgo);
	utimesSync(dir, when, when);
	return { key: k, dir, size: statSync(artifact).size };
}

/** Three entries: an old native one, a wasm one used two days ago, one used just now. */
function fillCache(cacheDir: string): { old: Published; wasm: Published; fresh: Published } {
	return {
		old: publish(cacheDir, 'old', RUST_LIBRARY, 'librust_macros.so', 40 * DAY),
		wasm: publish(cacheDir, 'wasm', RUST_WASM, 'rust_macros.wasm', 2 * DAY),
		fresh: publish(cacheDir, 'fresh', LIBC_BASIC, 'libc_basic.so', 0),
	};
}

describe('macro-host cache list', () => {
	let cacheDir: string;
	let cache: ReturnType<typeof fillCache>;
	beforeAll(() => {
		cacheDir = join(tempDir('cli-cache-list'), 'cache');
		cache = fillCache(cacheDir);
	});

	it('lists the entries, most recently used first, with the totals', async () => {
		const run = await runCli(['cache', 'list', '--cache-dir', cacheDir]);
		expect(run.exitCode, run.stderr).toBe(0);
		expect(run.stderr).toBe('');
		const { old, wasm, fresh } = cache;
		const total = old.size + wasm.size + fresh.size;
		const sizes = [fresh, wasm, old].map((e) => formatBytes(e.size));
		const width = Math.max(4, ...sizes.map((s) => s.length));
		expect(run.stdout).toBe(
			[
				`KEY               PACKAGE      KIND    ${'SIZE'.padEnd(width)}  LAST USED`,
				`${fresh.key.slice(0, 16)}  c_basic      native  ${sizes[0]!.padEnd(width)}  just now`,
				`${wasm.key.slice(0, 16)}  rust_macros  wasm    ${sizes[1]!.padEnd(width)}  2 days ago`,
				`${old.key.slice(0, 16)}  rust_macros  native  ${sizes[2]!.padEnd(width)}  40 days ago`,
				`3 entries, ${formatBytes(total)}; shared 0 B (cargo's target dir, SDK builds); total ${formatBytes(total)} in ${cacheDir}`,
				'',
			].join('\n'),
		);
	});

	it('--json gives the entries with ISO dates and the totals in bytes', async () => {
		const run = await runCli(['cache', 'list', '--json', '--cache-dir', cacheDir]);
		expect(run.exitCode, run.stderr).toBe(0);
		const listed = JSON.parse(run.stdout) as { cacheDir: string; totalSize: number; sharedSize: number; entries: Array<Record<string, unknown>> };
		expect(listed.cacheDir).toBe(cacheDir);
		expect(listed.totalSize).toBe(cache.old.size + cache.wasm.size + cache.fresh.size);
		expect(listed.sharedSize).toBe(0);
		expect(listed.entries.map((e) => [e.key, e.crate, e.kind, e.size, e.dir])).toEqual([
			[cache.fresh.key, 'c_basic', 'native', cache.fresh.size, cache.fresh.dir],
			[cache.wasm.key, 'rust_macros', 'wasm', cache.wasm.size, cache.wasm.dir],
			[cache.old.key, 'rust_macros', 'native', cache.old.size, cache.old.dir],
		]);
		expect(listed.entries[2]!.lastUsed).toBe(new Date(statSync(cache.old.dir).mtimeMs).toISOString());
	});

	it('reads $XDG_CACHE_HOME/macro-host without --cache-dir', async () => {
		const xdg = tempDir('cli-cache-xdg');
		publish(join(xdg, 'macro-host'), 'x', LIBC_BASIC, 'libc_basic.so', 3 * 60 * 60 * 1000);
		const run = await runCli(['cache', 'list'], { env: { XDG_CACHE_HOME: xdg } });
		expect(run.exitCode, run.stderr).toBe(0);
		expect(run.stdout).toContain(`${key('x').slice(0, 16)}  c_basic  native  ${formatBytes(statSync(LIBC_BASIC).size)}  3 hours ago\n`);
		expect(run.stdout).toMatch(new RegExp(`^1 entry, .* in ${join(xdg, 'macro-host')}\n`, 'm'));
	});
});

describe('macro-host cache prune', () => {
	let cacheDir: string;
	let cache: ReturnType<typeof fillCache>;
	beforeAll(() => {
		cacheDir = join(tempDir('cli-cache-prune'), 'cache');
		cache = fillCache(cacheDir);
	});

	it('--dry-run says what would go and removes nothing', async () => {
		const run = await runCli(['cache', 'prune', '--dry-run', '--cache-dir', cacheDir]);
		expect(run.exitCode, run.stderr).toBe(0);
		expect(run.stderr).toBe('');
		const { old, wasm, fresh } = cache;
		expect(run.stdout).toBe(
			`Would remove 1 entry, ${formatBytes(old.size)}:\n` +
				`  ${old.key.slice(0, 16)}  rust_macros  ${formatBytes(old.size)}  last used 40 days ago\n` +
				`The cache would be ${formatBytes(wasm.size + fresh.size)} (2 entries)\n`,
		);
		expect(readdirSync(join(cacheDir, 'libs')).sort()).toEqual([old.key, wasm.key, fresh.key].sort());
	});

	it('--max-size that cannot be met keeps recent entries and warns', async () => {
		const run = await runCli(['cache', 'prune', '--dry-run', '--max-size', '0.01', '--older-than', '30', '--cache-dir', cacheDir]);
		expect(run.exitCode).toBe(0);
		const { old, wasm, fresh } = cache;
		const rows = [
			[`  ${old.key.slice(0, 16)}`, formatBytes(old.size), 'last used 40 days ago'],
			[`  ${wasm.key.slice(0, 16)}`, formatBytes(wasm.size), 'last used 2 days ago (over --max-size)'],
		];
		const width = Math.max(...rows.map((r) => r[1]!.length));
		expect(run.stdout).toBe(
			`Would remove 2 entries, ${formatBytes(old.size + wasm.size)}:\n` +
				rows.map((r) => `${r[0]}  rust_macros  ${r[1]!.padEnd(width)}  ${r[2]}\n`).join('') +
				'Kept 1 entry used in the last 10 minutes\n' +
				`The cache would be ${formatBytes(fresh.size)} (1 entry)\n`,
		);
		expect(run.stderr).toBe(
			`warning: the cache would still be ${formatBytes(fresh.size)}, over --max-size 0.01 MiB: the rest is shared (cargo's target dir, SDK builds) ` +
				"or was used in the last 10 minutes; 'macro-host cache clean' removes everything\n",
		);
		expect(readdirSync(join(cacheDir, 'libs'))).toHaveLength(3);
	});

	it('removes old entries, then the least recently used until the cache fits --max-size', async () => {
		const run = await runCli(['cache', 'prune', '--max-size', '0.1', '--cache-dir', cacheDir]);
		expect(run.exitCode, run.stderr).toBe(0);
		expect(run.stderr).toBe('');
		expect(run.stdout).toMatch(/^Removed 2 entries, .*:\n/);
		expect(run.stdout).toContain(`  ${cache.wasm.key.slice(0, 16)}  rust_macros  `);
		expect(run.stdout).toMatch(/ last used 2 days ago \(over --max-size\)\n/);
		expect(run.stdout.endsWith(`The cache is now ${formatBytes(cache.fresh.size)} (1 entry)\n`)).toBe(true);
		expect(readdirSync(join(cacheDir, 'libs'))).toEqual([cache.fresh.key]);
		expect(readdirSync(cache.fresh.dir)).toEqual(['libc_basic.so']);
	});

	it('says so when there is nothing to prune', async () => {
		const run = await runCli(['cache', 'prune', '--cache-dir', cacheDir]);
		expect(run).toMatchObject({
			exitCode: 0,
			stdout: `No entry to prune: none unused for 30 days\nThe cache is now ${formatBytes(cache.fresh.size)} (1 entry)\n`,
			stderr: '',
		});
		const sized = await runCli(['cache', 'prune', '--older-than', '7.5', '--max-size', '1', '--cache-dir', cacheDir]);
		expect(sized.stdout).toBe(
			`No entry to prune: none unused for 7.5 days, and the cache is within --max-size 1 MiB\nThe cache is now ${formatBytes(cache.fresh.size)} (1 entry)\n`,
		);
		const all = await runCli(['cache', 'prune', '--older-than', '0', '--cache-dir', cacheDir]);
		expect(all.stdout).toBe(`No entry to prune\nKept 1 entry used in the last 10 minutes\nThe cache is now ${formatBytes(cache.fresh.size)} (1 entry)\n`);
		expect(existsSync(cache.fresh.dir)).toBe(true);
	});
});

describe('macro-host cache clean', () => {
	it('--dry-run reports, then clean removes the whole cache; afterwards there is nothing to do', async () => {
		const cacheDir = join(tempDir('cli-cache-clean'), 'cache');
		const { old, wasm, fresh } = fillCache(cacheDir);
		mkdirSync(join(cacheDir, 'target', 'release'), { recursive: true });
		writeFileSync(join(cacheDir, 'target', 'release', 'artifact'), 'x'.repeat(100));
		writeFileSync(join(cacheDir, 'rustc-info.json'), '{}');
		const size = formatBytes(old.size + wasm.size + fresh.size + 102);

		const dry = await runCli(['cache', 'clean', '--dry-run', '--cache-dir', cacheDir]);
		expect(dry).toMatchObject({ exitCode: 0, stdout: `Would remove the cache at ${cacheDir}: 3 entries, ${size}\n`, stderr: '' });
		expect(existsSync(join(cacheDir, 'libs', old.key, 'librust_macros.so'))).toBe(true);

		const run = await runCli(['cache', 'clean', '--cache-dir', cacheDir]);
		expect(run).toMatchObject({ exitCode: 0, stdout: `Removed the cache at ${cacheDir}: 3 entries, ${size}\n`, stderr: '' });
		expect(existsSync(cacheDir)).toBe(false);

		for (const [command, nothing] of [
			['list', 'nothing is cached'],
			['prune', 'nothing to prune'],
			['clean', 'nothing to clean'],
		] as const) {
			const again = await runCli(['cache', command, '--cache-dir', cacheDir]);
			expect(again).toMatchObject({ exitCode: 0, stdout: `no cache at ${cacheDir}: ${nothing}\n`, stderr: '' });
		}
	});

	it('leaves files it did not make, and the directory that holds them', async () => {
		const dir = tempDir('cli-cache-foreign');
		writeFileSync(join(dir, 'notes.txt'), 'mine\n');
		const nothing = await runCli(['cache', 'clean', '--cache-dir', dir]);
		expect(nothing).toMatchObject({ exitCode: 0, stdout: `no macro-host cache in ${dir}: nothing to clean\n`, stderr: '' });

		publish(dir, 'y', LIBC_BASIC, 'libc_basic.so', DAY);
		const run = await runCli(['cache', 'clean', '--cache-dir', dir]);
		expect(run.exitCode).toBe(0);
		expect(run.stdout).toBe(
			`Removed the cache at ${dir}: 1 entry, ${formatBytes(statSync(LIBC_BASIC).size)}\nKept the directory itself: it holds files macro-host did not put there\n`,
		);
		expect(readdirSync(dir)).toEqual(['notes.txt']);
	});
});

describe('macro-host cache errors and help', () => {
	it('exits 1 when the cache directory is a file', async () => {
		const file = join(tempDir('cli-cache-file'), 'cache');
		writeFileSync(file, 'not a directory\n');
		for (const command of ['list', 'prune', 'clean']) {
			const run = await runCli(['cache', command, '--cache-dir', file]);
			expect(run).toMatchObject({ exitCode: 1, stdout: '', stderr: `error: the cache directory ${file} is not a directory\n` });
		}
	});

	it('prints the help of cache and of each cache command', async () => {
		for (const args of [['cache', '--help'], ['cache', '-h'], ['help', 'cache']]) {
			const run = await runCli(args);
			expect(run.exitCode).toBe(0);
			expect(run.stdout).toMatch(/^Usage: macro-host cache <command> \[--cache-dir DIR\]\n/);
			expect(run.stdout).toContain('  prune    remove the libraries unused for 30 days (--older-than)');
		}
		const prune = await runCli(['cache', 'prune', '--help']);
		expect(prune.stdout).toMatch(/^Usage: macro-host cache prune \[--older-than DAYS\] \[--max-size MIB\] \[--dry-run\] \[--cache-dir DIR\]\n/);
		expect(prune.stdout).toContain('A library used in the last 10 minutes is never removed');
		const list = await runCli(['cache', 'list', '-h']);
		expect(list.stdout).toMatch(/^Usage: macro-host cache list \[--cache-dir DIR\] \[--message-format human\|json\]\n/);
		const clean = await runCli(['cache', 'clean', '--help']);
		expect(clean.stdout).toMatch(/^Usage: macro-host cache clean \[--dry-run\] \[--cache-dir DIR\]\n/);
		const global = await runCli(['--help']);
		expect(global.stdout).toContain('  macro-host cache (list [--message-format json] | prune [--older-than DAYS] [--max-size MIB] [--dry-run] | clean [--dry-run])\n');
		expect(global.stdout).toContain('  cache    list the build cache, prune libraries unused for a while, or clean it all\n');
	});

	it('formats sizes and ages', () => {
		expect([0, 1023, 1024, 1536, 20696, 5 * 1024 * 1024, 3 * 1024 ** 3].map(formatBytes)).toEqual(['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '20.2 KiB', '5.0 MiB', '3.0 GiB']);
		expect([0, 59_999, 60_000, 61 * 60_000, 47 * 3_600_000, 48 * 3_600_000, 40 * DAY].map(formatAgo)).toEqual([
			'just now',
			'just now',
			'1 minute ago',
			'1 hour ago',
			'47 hours ago',
			'2 days ago',
			'40 days ago',
		]);
	});
});

// Each case is its own short-lived process, so they run side by side.
describe.concurrent('cache usage errors exit with 2 and name what is wrong', () => {
	const cases: Array<[string, string[], string, string]> = [
		['no cache command', ['cache'], "missing cache command: give 'list', 'prune' or 'clean'", 'macro-host cache --help'],
		['an unknown cache command', ['cache', 'purge'], "unknown cache command 'purge': the cache commands are list, prune and clean", 'macro-host cache --help'],
		['a flag before the cache command', ['cache', '--cache-dir', 'x', 'list'], "missing cache command before '--cache-dir': give 'list', 'prune' or 'clean' first", 'macro-host cache --help'],
		['an unknown prune flag', ['cache', 'prune', '--all'], "unknown flag '--all'", 'macro-host cache prune --help'],
		['an unknown list flag', ['cache', 'list', '--dry-run'], "unknown flag '--dry-run'", 'macro-host cache list --help'],
		['a negative age', ['cache', 'prune', '--older-than=-3'], "--older-than must be a number of days (0 or more), not '-3'", 'macro-host cache prune --help'],
		['a negative age without =', ['cache', 'prune', '--older-than', '-3'], "--older-than needs a value; for a value that starts with '-', write --older-than=VALUE", 'macro-host cache prune --help'],
		['a non-numeric age', ['cache', 'prune', '--older-than', 'month'], "--older-than must be a number of days (0 or more), not 'month'", 'macro-host cache prune --help'],
		['a non-numeric size', ['cache', 'prune', '--max-size', '1G'], "--max-size must be a size in MiB (0 or more), not '1G'", 'macro-host cache prune --help'],
		['a negative size', ['cache', 'prune', '--max-size=-1'], "--max-size must be a size in MiB (0 or more), not '-1'", 'macro-host cache prune --help'],
		['an age without its value', ['cache', 'prune', '--older-than'], '--older-than needs a value', 'macro-host cache prune --help'],
		['an empty cache dir', ['cache', 'clean', '--cache-dir='], '--cache-dir needs a non-empty path', 'macro-host cache clean --help'],
		['an argument', ['cache', 'clean', 'everything'], "unexpected argument 'everything'", 'macro-host cache clean --help'],
		['a value for --dry-run', ['cache', 'clean', '--dry-run=yes'], '--dry-run takes no value', 'macro-host cache clean --help'],
	];
	for (const [what, args, message, help] of cases) {
		it(`reports ${what}`, async () => {
			const run = await runCli(args);
			expect(run.exitCode).toBe(2);
			expect(run.stdout).toBe('');
			expect(run.stderr).toBe(`error: ${message}\nhint: run '${help}' for usage\n`);
		});
	}
});
