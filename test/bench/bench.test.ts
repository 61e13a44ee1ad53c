/**
 * Smoke run of the benchmark (`node dist/bench/run.js --quick`): it builds its fixtures, runs every
 * row at small sizes, prints the table and writes the JSON report. Checks that it works, never how
 * fast anything is: timings belong to `npm run bench`, not to tests.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const RUN_JS = fileURLToPath(new URL('../../dist/bench/run.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'macro-host-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Summary {
	median: number;
	min: number;
	max: number;
	n: number;
}
interface Row {
	id: string;
	title: string;
	json?: Summary;
	theirs?: Summary;
	theirsNote?: string;
}
interface Report {
	quick: boolean;
	machine: { cpus: number; node: string };
	raServer: { path?: string; apiVersion?: number; skipped?: string };
	rows: Row[];
}

describe('npm run bench -- --quick', () => {
	it('runs every row, prints the table and writes the report', { timeout: 180_000 }, async () => {
		const out = join(dir, 'quick.json');
		const { stdout, stderr } = await run(process.execPath, [RUN_JS, '--quick', '--out', out], { maxBuffer: 16 * 1024 * 1024 });
		const report = JSON.parse(readFileSync(out, 'utf8')) as Report;

		expect(report.quick).toBe(true);
		expect(report.machine.node).toBe(process.version);
		expect(report.rows.map((r) => r.id)).toEqual([
			'cold-start/host',
			'cold-start/macro-host',
			'round-trip/noop/20',
			'round-trip/echo/20',
			'round-trip/pipe-floor/20',
			'round-trip/noop/2000',
			'round-trip/echo/2000',
			'round-trip/echo-inline/2000',
			'small-calls/cat/20',
			'small-calls/node-echo/20',
			'small-calls/floor-host/20',
			'small-calls/floor-client/20',
			'small-calls/raw-host/20',
			'small-calls/macro-host/20',
			// The same rounds with every process pinned to one CPU (Linux, where the tests run).
			'small-calls/one-cpu/cat/20',
			'small-calls/one-cpu/node-echo/20',
			'small-calls/one-cpu/floor-host/20',
			'small-calls/one-cpu/floor-client/20',
			'small-calls/one-cpu/raw-host/20',
			'small-calls/one-cpu/macro-host/20',
			'idle-gap/0',
			'idle-gap/1',
			'idle-gap/3',
			'pipelined/one-host',
			'pipelined/one-host-alone',
			'pool/floor/noop',
			'pool/noop',
			'pool/spin',
			'crash/recovery',
			'crash/recovery-cold',
			'crash/recovery-defaults',
			'wire-form/2000',
			'wasm/restore/256',
			'wasm/restore/4096',
			'wasm/add/20',
			'wasm/add/2000',
			'scarb/identity/20000',
			'scarb/expand-v2-alone/20000',
			'scarb/least-adapter/20000',
			'expansion-cache/first',
			'expansion-cache/unchanged',
			'expansion-cache/one-file',
			'expansion-cache/remote',
			'expand-project/cold',
			'expand-project/one-call',
		]);
		for (const row of report.rows) {
			// The pipe floors have no macro-host number: `cat` and the bare Node echo host are in the floor column.
			const main = row.id.startsWith('round-trip/pipe-floor/') || /^small-calls\/(one-cpu\/)?(cat|node-echo)\//.test(row.id) ? row.floor : row.json;
			expect(main, row.id).toBeDefined();
			expect(main!.n, row.id).toBeGreaterThan(0);
			expect(main!.min, row.id).toBeLessThanOrEqual(main!.max);
			expect(stdout, row.id).toContain(row.title);
		}
		// rust-analyzer's rows either ran or say why not, on every row that compares with it.
		const comparedWithRa = (id: string): boolean => (id.startsWith('round-trip') && !id.startsWith('round-trip/pipe-floor/')) || id.startsWith('cold-start');
		for (const row of report.rows.filter((r) => comparedWithRa(r.id))) {
			if (report.raServer.skipped) expect(row.theirsNote, row.id).toMatch(/^skipped: /);
			else expect(row.theirs?.n, row.id).toBeGreaterThan(0);
		}
		expect(stdout).toMatch(/^row +\| macro-host json/);
		expect(stderr).toContain(`bench: wrote ${out}`);
	});

	it('refuses an unknown row group with the list of known ones', async () => {
		const failure = await run(process.execPath, [RUN_JS, '--quick', '--rows', 'warp'], { maxBuffer: 1024 * 1024 }).then(
			() => undefined,
			(error: { code: number; stderr: string }) => error,
		);
		expect(failure?.code).toBe(1);
		expect(failure?.stderr).toContain('--rows: unknown row group "warp"');
		expect(failure?.stderr).toContain('[--rows cold,round-trip,small-calls,idle-gap,pipelined,pool,crash,wire,wasm,scarb,expansion-cache,expand-project]');
	});
});
