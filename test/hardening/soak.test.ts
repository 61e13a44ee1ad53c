/**
 * The short soak CI runs: 2,000 expansions through one MacroHost, about 1% of them crashing the host
 * at random, in a mix of kinds (inline, attribute, derive) and sizes (1 to 2,000 tokens), with every
 * answer checked. Nothing may be lost and no process may be left behind. The full run (100,000
 * expansions, with the client's memory measured) is `node dist/bench/soak.js`; see docs/reliability.md.
 */
import { describe, expect, it } from 'vitest';
import { runSoak, type SoakReport } from '../../dist/bench/soak.js';
import { LIBC_BASIC, LIBC_FAULTS, LIBC_LOAD_FAULTS } from './support.js';

/** Nothing lost or wrong, nothing left behind. */
function expectClean(report: SoakReport): void {
	expect(report.lostExamples).toEqual([]);
	expect(report.lost).toBe(0);
	expect(report.leakedProcesses).toBe(0);
	expect(report.leakedBulkDirs).toBe(0);
}

describe('the soak, short', () => {
	it('2,000 expansions with ~1% crashes: no answer lost or wrong, no process or bulk directory leaked', async () => {
		const report = await runSoak({ expansions: 2_000, crashRate: 0.01, inFlight: 32, seed: 7, library: LIBC_BASIC });
		expectClean(report);
		// Every crashing call crashed the host exactly once, and each crash was followed by one restart.
		expect(report.crashCalls).toBeGreaterThan(5);
		expect(report.crashes).toBe(report.crashCalls);
		expect(report.restarts).toBe(report.crashes);
		expect(report.hostsStarted).toBe(report.restarts + 1);
		expect(Object.keys(report.mix).sort()).toEqual(
			expect.arrayContaining(['aux', 'bail', 'derive', 'noop', 'tag', 'wrap']),
		);
	}, 120_000);

	it('2,000 expansions with crashes, threads that crash the host later and a library whose reload crashes: no answer lost or wrong, nobody blamed', async () => {
		const report = await runSoak({
			expansions: 2_000,
			crashRate: 0.01,
			inFlight: 32,
			seed: 11,
			library: LIBC_BASIC,
			faultLibraries: { faults: LIBC_FAULTS, loadFaults: LIBC_LOAD_FAULTS },
		});
		// Every innocent call got its exact answer: a host-crash on any of them would be a wrong answer.
		expectClean(report);
		expect(report.threadCrashCalls).toBeGreaterThan(0);
		// The threads crashed hosts too; a crasher that ran on a host with threads left is run again, and crashes twice.
		expect(report.crashes).toBeGreaterThan(report.crashCalls);
		expect(report.restarts).toBe(report.crashes);
		expect(report.droppedCalls).toBeGreaterThan(0);
	}, 180_000);
});
