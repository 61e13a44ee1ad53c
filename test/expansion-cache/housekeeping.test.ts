/**
 * The parts around the cache: keys that ignore where code stands but nothing else, entries that
 * round-trip (and corrupted ones that are named), the short diff of the determinism check, and
 * `macro-host cache list|prune|clean` over the expansion cache, run as real processes; plus the
 * expand-project flags.
 */
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { callKey, describeDifference } from '../../dist/client/expansion-cache/index.js';
import { decodeEntry, encodeEntry } from '../../dist/client/expansion-cache/entry-codec.js';
import { tokenize } from '../../dist/tokens/tokenizer.js';
import { runCli } from '../cli/run-cli.js';
import { removeTempDirs, tempDir } from './support.js';

afterAll(removeTempDirs);

const LIBRARY = { fileHash: 'f'.repeat(64), abi: 'macro-host', abiVersion: 1 } as const;

/** `double!(args)` as the driver sends it, its call starting at byte `at`. */
function call(args: string, at: number) {
	const { stream } = tokenize(args, { spanBase: at + 8 });
	return { kind: 'inline' as const, names: ['double'], args: stream, callSite: { start: at, end: at + 9 + args.length } };
}

describe('callKey', () => {
	it('is the same for the same call anywhere in the file, and differs with the input, the macro, the library and its fingerprint', () => {
		const key = callKey(LIBRARY, call('a + 1', 10))!;
		expect(key).toMatch(/^[0-9a-f]{64}$/);
		expect(callKey(LIBRARY, call('a + 1', 9_000))).toBe(key);
		expect(callKey(LIBRARY, call('a  +  1', 10))).not.toBe(key); // spacing moves spans inside the call
		expect(callKey(LIBRARY, call('a + 2', 10))).not.toBe(key);
		expect(callKey(LIBRARY, { ...call('a + 1', 10), names: ['triple'] })).not.toBe(key);
		expect(callKey(LIBRARY, { ...call('a + 1', 10), kind: 'attribute' })).not.toBe(key);
		expect(callKey({ ...LIBRARY, fileHash: 'e'.repeat(64) }, call('a + 1', 10))).not.toBe(key);
		expect(callKey({ ...LIBRARY, fingerprint: '1' }, call('a + 1', 10))).not.toBe(key);
		expect(callKey({ ...LIBRARY, fingerprint: '1' }, call('a + 1', 10))).not.toBe(callKey({ ...LIBRARY, fingerprint: '2' }, call('a + 1', 10)));
	});
});

describe('entries', () => {
	it('round-trip a result with its spans moved to another call, generated spans kept', () => {
		const { stream } = tokenize('(a) + (a)', { spanBase: 108 });
		const records = Uint32Array.from(stream.records);
		records[4] = records[5] = 0xffffffff; // the first token is generated
		const result = { outcome: 'replace' as const, tokens: { text: stream.text, records }, diagnostics: [{ severity: 'warning' as const, message: 'w', span: { start: 109, end: 110 } }], auxData: { n: [1, 'x'] } };
		const moved = decodeEntry(encodeEntry(result, 100)!, 1_000);
		expect(moved.outcome).toBe('replace');
		expect(moved.tokens!.text).toBe(stream.text);
		expect(Array.from(moved.tokens!.records)).toEqual(Array.from(records).map((v, i) => (i % 6 >= 4 && v !== 0xffffffff ? v + 900 : v)));
		expect(moved.diagnostics).toEqual([{ severity: 'warning', message: 'w', span: { start: 1009, end: 1010 } }]);
		expect(moved.auxData).toEqual({ n: [1, 'x'] });
	});

	it('name what is wrong with bytes that are not an entry', () => {
		expect(() => decodeEntry(Buffer.from('{'), 0)).toThrow(/^the entry is not JSON/);
		expect(() => decodeEntry(Buffer.from('{"v":99}'), 0)).toThrow('the entry is not of cache format 1');
		expect(() => decodeEntry(Buffer.from('{"v":1,"outcome":"bail","diagnostics":[]}'), 0)).toThrow('the entry has outcome "bail", which is never stored');
		expect(() => decodeEntry(Buffer.from('{"v":1,"outcome":"replace","diagnostics":[],"tokens":{"text":"a","records":"AAAA"}}'), 0)).toThrow('the entry has a token record of the wrong size');
	});
});

describe('describeDifference', () => {
	it('says how two results differ, briefly', () => {
		const out = (text: string) => ({ outcome: 'replace' as const, tokens: tokenize(text).stream, diagnostics: [] });
		expect(describeDifference(out('1 + 2'), out('1 + 2'))).toBeUndefined();
		expect(describeDifference(out('f(1234)'), out('f(5678)'))).toBe('the outputs differ: `f(1234)` vs `f(5678)`');
		expect(describeDifference(out('1'), { outcome: 'leave', diagnostics: [] })).toBe('the first host answered replace, the second leave');
		expect(describeDifference({ ...out('1'), auxData: 1 }, { ...out('1'), auxData: 2 })).toBe('the aux data differs: `1` vs `2`');
	});
});

describe('macro-host cache over the expansion cache', () => {
	/** A build cache directory with `fresh` entries used now and `old` ones unused for 40 days. */
	function cacheWith(fresh: number, old: number): string {
		const cacheDir = tempDir('gc');
		const longAgo = new Date(Date.now() - 40 * 24 * 3600 * 1000);
		for (let i = 0; i < fresh + old; i++) {
			const key = i.toString(16).padStart(64, '0');
			const dir = join(cacheDir, 'expansions', 'entries', key.slice(0, 2));
			mkdirSync(dir, { recursive: true });
			writeFileSync(join(dir, key), 'x'.repeat(1000));
			if (i >= fresh) utimesSync(join(dir, key), longAgo, longAgo);
		}
		return cacheDir;
	}

	it('list counts the expansions; prune removes those unused for 30 days; clean removes the folder', async () => {
		const cacheDir = cacheWith(2, 3);
		const list = await runCli(['cache', 'list', '--cache-dir', cacheDir]);
		expect(list.exitCode).toBe(0);
		expect(list.stdout).toContain('Expansion cache: 5 expansions, 4.9 KiB, last used just now\n');
		const json = JSON.parse((await runCli(['cache', 'list', '--json', '--cache-dir', cacheDir])).stdout);
		expect(json.expansions).toMatchObject({ entries: 5, libraries: 0, size: 5000 });

		const dry = await runCli(['cache', 'prune', '--dry-run', '--cache-dir', cacheDir]);
		expect(dry.stdout).toContain('Would remove 3 expansions from the expansion cache, 2.9 KiB\n');
		const prune = await runCli(['cache', 'prune', '--cache-dir', cacheDir]);
		expect(prune.stdout).toContain('Removed 3 expansions from the expansion cache, 2.9 KiB\n');
		expect((await runCli(['cache', 'list', '--cache-dir', cacheDir])).stdout).toContain('Expansion cache: 2 expansions, 2.0 KiB');

		const clean = await runCli(['cache', 'clean', '--cache-dir', cacheDir]);
		expect(clean.exitCode).toBe(0);
		expect(existsSync(join(cacheDir, 'expansions'))).toBe(false);
	});

	it('prune --max-size removes the least recently used expansions first, never one used in the last 10 minutes', async () => {
		const cacheDir = cacheWith(2, 0);
		const older = new Date(Date.now() - 60 * 60 * 1000);
		for (let i = 2; i < 5; i++) {
			const key = i.toString(16).padStart(64, '0');
			const path = join(cacheDir, 'expansions', 'entries', key.slice(0, 2), key);
			writeFileSync(path, 'x'.repeat(1000));
			utimesSync(path, older, older);
		}
		const prune = await runCli(['cache', 'prune', '--max-size', '0', '--cache-dir', cacheDir]);
		expect(prune.stdout).toContain('Removed 3 expansions from the expansion cache');
		expect(prune.stderr).toContain('over --max-size 0 MiB');
	});
});

describe('expand-project flags', () => {
	it('refuses --remote-cache-upload values other than true and false, and --remote-cache with --no-expansion-cache', async () => {
		const bad = await runCli(['expand-project', '.', '--remote-cache-upload=maybe']);
		expect(bad.exitCode).toBe(2);
		expect(bad.stderr).toContain("--remote-cache-upload must be true or false, not 'maybe'");
		const both = await runCli(['expand-project', '.', '--no-expansion-cache', '--remote-cache', 'http://127.0.0.1:1/c']);
		expect(both.exitCode).toBe(2);
		expect(both.stderr).toContain('--remote-cache cannot be used with --no-expansion-cache');
		const url = await runCli(['expand-project', '.', '--remote-cache', 'cache.example']);
		expect(url.stderr).toContain("--remote-cache must be an http:// or https:// URL, not 'cache.example'");
	});
});
