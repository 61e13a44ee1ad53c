/**
 * The soak run: many expansions through one MacroHost, about 1% of them crashing the host at random,
 * in a mix of kinds and sizes, with every answer checked against what the macro must return.
 *
 *   node dist/bench/soak.js [--expansions 100000] [--crash-rate 0.01] [--in-flight 32] [--seed 1] [--faults] [--json]
 *
 * With `--faults` the mix also holds a macro whose thread crashes the host 200 ms after it answered (while
 * innocent calls run: they must still get their right answers), and a library whose reload crashes the new
 * host from the middle of the run on (it must be dropped, its calls answered `library-dropped`).
 *
 * It counts what must stay zero (lost or wrong answers, host processes or bulk-stream directories left
 * after close) and the client's resident memory from warm-up to the end. test/hardening/soak.test.ts runs the same
 * workload small; docs/reliability.md quotes a full run.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { defaultBulkRoot } from '../client/bulk-channel.js';
import { MacroHost, type ExpandResult, type MacroHostOptions, type TokenStream } from '../client/index.js';
import { mulberry32 } from './seeded-random.js';

/** Options of {@link runSoak}. */
export interface SoakOptions {
	/** Expansions to run. */
	expansions: number;
	/** Share of expansions that call a macro that kills the host (0..1). */
	crashRate: number;
	/** Calls kept in flight at once, as a driver pipelines them. */
	inFlight: number;
	/** Seed of the workload's random choices, so a run can be repeated. */
	seed: number;
	/** The fixture library (test/fixtures/c/libc_basic.c, compiled). */
	library: string;
	/** The fault fixtures (libc_faults.so, libc_load_faults.so): when given, the mix holds their faults too. */
	faultLibraries?: { faults: string; loadFaults: string };
	/** Called now and then with the number of answers so far. */
	onProgress?: (done: number) => void;
}

/** What a soak run measured. */
export interface SoakReport {
	expansions: number;
	/** Calls that were meant to crash the host. */
	crashCalls: number;
	/** Calls that left a thread behind that crashes the host 200 ms later (with `faultLibraries`). */
	threadCrashCalls: number;
	/** Calls answered `library-dropped`: the library whose reload crashes was dropped (with `faultLibraries`). */
	droppedCalls: number;
	/** Host deaths the client reported. */
	crashes: number;
	restarts: number;
	/** Calls never answered, or answered with anything but the exact expected result. */
	lost: number;
	/** The first few wrong answers, for the report. */
	lostExamples: string[];
	/** Host processes, warm standbys included (or anything in their process groups), still alive after close(). */
	leakedProcesses: number;
	/** Bulk-stream directories (one per host process) still present after close(). */
	leakedBulkDirs: number;
	/** Host processes that served as the active host, in all (warm standbys not counted until swapped in). */
	hostsStarted: number;
	/** Most host processes alive at once, sampled during the run (the one in use, plus one dying). */
	maxLiveHosts: number;
	/** The client's resident memory after warm-up and at the end, after a garbage collection, in MiB. */
	clientRssWarmMiB: number;
	clientRssEndMiB: number;
	/** (end − warm) / warm. */
	clientRssGrowth: number;
	/** Wall time of the whole run, in seconds. */
	seconds: number;
	/** Non-crashing expansions per second, crashes and restarts included. */
	expansionsPerSecond: number;
	/** The calls per kind, e.g. {wrap: 40213, …}. */
	mix: Record<string, number>;
}

/** The fixture library the soak loads, compiled from test/fixtures/c/ when missing. */
export const SOAK_LIBRARY = fileURLToPath(new URL('../../test/fixtures/build/libc_basic.so', import.meta.url));
/** The fault fixtures `--faults` loads (built by the tests' global setup: run a test first). */
const SOAK_FAULT_LIBRARIES = {
	faults: fileURLToPath(new URL('../../test/fixtures/build/libc_faults.so', import.meta.url)),
	loadFaults: fileURLToPath(new URL('../../test/fixtures/build/libc_load_faults.so', import.meta.url)),
};

const CRASHERS = ['bang_segv', 'bang_abort', 'bang_exit3', 'bang_exit0'] as const;

/** One call of the workload and the answer it must get. */
interface Job {
	kind: string;
	run: (host: MacroHost) => Promise<ExpandResult>;
	check: (result: ExpandResult) => string | undefined;
}

/** Runs the soak and returns its numbers; throws only when the host cannot start at all. */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
	const random = mulberry32(options.seed);
	const gc = exposeGc();
	const started = Date.now();
	// A root of its own for the hosts' bulk-stream directories, so that any left behind are counted.
	const bulkRoot = mkdtempSync(join(defaultBulkRoot(), 'macro-host-soak-'));
	// Once this file exists, loading libc_load_faults crashes the host (see test/fixtures/c/libc_load_faults.c).
	const reloadMarker = join(bulkRoot, 'reload-crashes');
	const hostOptions: MacroHostOptions = {
		// A crash storm is the point here, not something to stop: restart at once, quarantine nothing.
		restart: { maxRestarts: 1_000, windowMs: 1_000, backoffInitialMs: 0, backoffMaxMs: 0 },
		quarantineAfter: Number.MAX_SAFE_INTEGER,
		stderrTailBytes: 512,
		bulk: { dir: bulkRoot },
		env: { MH_FIXTURE_CRASH_ON_LOAD_IF: reloadMarker },
	};
	const host = await MacroHost.start(hostOptions);
	const pids = new Set<number>([host.pid!]);
	// Warm standbys that never became the active host are only seen here; they must not leak either.
	const standbyPids = new Set<number>();
	const noteStandby = (): void => {
		if (host.standbyPid !== undefined) standbyPids.add(host.standbyPid);
	};
	let crashes = 0;
	host.onCrash(() => crashes++);
	host.onRestart((event) => {
		if (event.pid !== undefined) pids.add(event.pid);
	});
	await host.loadLibrary(options.library);
	if (options.faultLibraries !== undefined) {
		await host.loadLibrary(options.faultLibraries.faults);
		await host.loadLibrary(options.faultLibraries.loadFaults);
	}
	const withFaults = options.faultLibraries !== undefined;

	const mix: Record<string, number> = {};
	const lostExamples: string[] = [];
	let lost = 0;
	let crashCalls = 0;
	let threadCrashCalls = 0;
	let droppedCalls = 0;
	let done = 0;
	let next = 0;
	let maxLiveHosts = 1;
	let rssWarm = 0;
	const warmAt = Math.max(1, Math.floor(options.expansions / 20));

	const fail = (job: Job, problem: string): void => {
		lost++;
		if (lostExamples.length < 5) lostExamples.push(`${job.kind}: ${problem}`);
	};
	const worker = async (): Promise<void> => {
		while (next < options.expansions) {
			next++;
			const job = makeJob(random, options.crashRate, withFaults);
			mix[job.kind] = (mix[job.kind] ?? 0) + 1;
			if ((CRASHERS as readonly string[]).includes(job.kind)) crashCalls++;
			if (job.kind === THREAD_CRASHER) threadCrashCalls++;
			// From the middle of the run on, the next host to load libc_load_faults crashes.
			if (withFaults && next === Math.floor(options.expansions / 2)) writeFileSync(reloadMarker, '');
			try {
				const result = await job.run(host);
				if (result.diagnostics[0]?.code === 'library-dropped') droppedCalls++;
				const problem = job.check(result);
				if (problem !== undefined) fail(job, problem);
			} catch (error) {
				fail(job, `rejected: ${(error as Error).message}`);
			}
			done++;
			if (done === warmAt) rssWarm = measureRss(gc);
			if (done % 100 === 0) noteStandby();
			if (done % 1000 === 0) {
				maxLiveHosts = Math.max(maxLiveHosts, [...pids].filter(isAlive).length);
				options.onProgress?.(done);
			}
		}
	};
	await Promise.all(Array.from({ length: options.inFlight }, worker));
	const rssEnd = measureRss(gc);
	const restarts = host.restarts;
	noteStandby();
	await host.close();
	const seconds = (Date.now() - started) / 1000;

	const leakedProcesses = [...new Set([...pids, ...standbyPids])].filter((pid) => isAlive(pid) || groupHasMembers(pid)).length;
	rmSync(reloadMarker, { force: true });
	const leakedBulkDirs = readdirSync(bulkRoot).length;
	rmSync(bulkRoot, { recursive: true, force: true });
	return {
		expansions: options.expansions,
		crashCalls,
		threadCrashCalls,
		droppedCalls,
		crashes,
		restarts,
		lost: lost + (options.expansions - done),
		lostExamples,
		leakedProcesses,
		leakedBulkDirs,
		hostsStarted: pids.size,
		maxLiveHosts,
		clientRssWarmMiB: toMiB(rssWarm),
		clientRssEndMiB: toMiB(rssEnd),
		clientRssGrowth: rssWarm > 0 ? (rssEnd - rssWarm) / rssWarm : 0,
		seconds,
		expansionsPerSecond: Math.round((options.expansions - crashCalls) / seconds),
		mix,
	};
}

// ---- The workload ----

function makeJob(random: () => number, crashRate: number, withFaults: boolean): Job {
	if (random() < crashRate) return crashJob(CRASHERS[Math.floor(random() * CRASHERS.length)]);
	if (withFaults) {
		const fault = random();
		if (fault < crashRate / 2) return threadCrashJob();
		if (fault < 0.02) return loadFaultTagJob();
	}
	// Sizes from 1 to about 2,000 tokens, most of them small, as real macro calls are.
	const size = Math.max(1, Math.floor(Math.exp(random() * Math.log(2000))));
	const pick = random();
	if (pick < 0.4) return wrapJob(size);
	if (pick < 0.55) return simpleInlineJob('noop', size);
	if (pick < 0.65) return simpleInlineJob('aux', size);
	if (pick < 0.75) return simpleInlineJob('bail', size);
	if (pick < 0.9) return tagJob(size);
	return deriveJob(size);
}

/** `size` identifier tokens `t0 t1 …` with spans starting at `spanBase`, text back to back. */
function identStream(size: number, spanBase: number, prefix = 't'): TokenStream {
	let text = '';
	const records: number[] = [];
	for (let i = 0; i < size; i++) {
		const t = `${prefix}${i}`;
		records.push(0, 0, text.length, t.length, spanBase + text.length, spanBase + text.length + t.length);
		text += t;
	}
	return { text, records };
}

function wrapJob(size: number): Job {
	const args = identStream(size, 100);
	return {
		kind: 'wrap',
		run: (host) => host.expandInline({ name: 'wrap', args }),
		check: (r) => {
			if (r.outcome !== 'replace' || r.diagnostics.length !== 0 || r.tokens === undefined) return describe(r);
			if (r.tokens.text !== `(${args.text})`) return `text ${r.tokens.text.slice(0, 40)}`;
			const out = Array.from(r.tokens.records);
			if (out.length !== (size + 2) * 6) return `${out.length / 6} tokens, expected ${size + 2}`;
			for (let i = 0; i < size; i++) {
				const o = (i + 1) * 6;
				if (out[o + 4] !== args.records[i * 6 + 4] || out[o + 5] !== args.records[i * 6 + 5]) return `span of token ${i}`;
			}
			return undefined;
		},
	};
}

function simpleInlineJob(name: 'noop' | 'aux' | 'bail', size: number): Job {
	const args = identStream(size, 7);
	return {
		kind: name,
		run: (host) => host.expandInline({ name, args }),
		check: (r) => {
			if (name === 'noop') return r.outcome === 'leave' && r.diagnostics.length === 0 && r.auxData === undefined ? undefined : describe(r);
			if (name === 'aux') {
				const aux = r.auxData as { tokens?: number } | undefined;
				return r.outcome === 'leave' && aux?.tokens === size ? undefined : describe(r);
			}
			const messages = r.diagnostics.map((d) => d.message).join('|');
			return r.outcome === 'bail' && messages === 'bail: refused to expand|bail: second thought' ? undefined : describe(r);
		},
	};
}

function tagJob(size: number): Job {
	const item = identStream(size, 50, 'f');
	return {
		kind: 'tag',
		run: (host) => host.expandAttribute({ name: 'tag', args: { text: '', records: [] }, item }),
		check: (r) =>
			r.outcome === 'replace' && r.tokens?.text === `#[tagged]${item.text}` && r.tokens.records.length === (size + 4) * 6
				? undefined
				: describe(r),
	};
}

function deriveJob(size: number): Job {
	// `struct S<size> f0 f1 …`: the derives name the type after `struct`.
	const name = `S${size}`;
	const head = `struct${name}`;
	const body = identStream(size, 20 + head.length, 'f');
	const records = [0, 0, 0, 6, 10, 16, 0, 0, 6, name.length, 17, 17 + name.length];
	for (let i = 0; i < body.records.length; i += 6) {
		const r = body.records.slice(i, i + 6);
		r[2] += head.length;
		records.push(...r);
	}
	const item = { text: head + body.text, records };
	const expected = `implNamedfor${name}{}fnhello_${name}(){}`;
	return {
		kind: 'derive',
		run: (host) => host.expandDerive({ derives: ['Named', 'Hello'], item }),
		check: (r) => (r.outcome === 'replace' && r.tokens?.text === expected ? undefined : describe(r)),
	};
}

function crashJob(name: string): Job {
	return {
		kind: name,
		run: (host) => host.expandInline({ name, args: identStream(1, 0) }),
		check: (r) =>
			r.outcome === 'bail' && r.diagnostics.length === 1 && r.diagnostics[0].code === 'host-crash' ? undefined : describe(r),
	};
}

/** A macro that answers at once and leaves a thread that crashes the host 200 ms later. */
const THREAD_CRASHER = 'fault_thread_crash_later';

function threadCrashJob(): Job {
	return {
		kind: THREAD_CRASHER,
		run: (host) => host.expandInline({ name: THREAD_CRASHER, args: identStream(1, 0) }),
		check: (r) => (r.outcome === 'leave' && r.diagnostics.length === 0 ? undefined : describe(r)),
	};
}

/** The macro of the library whose reload crashes: it answers, or its library was dropped. */
function loadFaultTagJob(): Job {
	return {
		kind: 'load_fault_tag',
		run: (host) => host.expandInline({ name: 'load_fault_tag', args: identStream(1, 0) }),
		check: (r) => {
			if (r.outcome === 'leave' && (r.auxData as { loaded?: boolean } | undefined)?.loaded === true) return undefined;
			return r.outcome === 'bail' && r.diagnostics.length === 1 && r.diagnostics[0].code === 'library-dropped' ? undefined : describe(r);
		},
	};
}

function describe(result: ExpandResult): string {
	return JSON.stringify(result).slice(0, 300);
}

// ---- Measuring ----

/** A garbage collector to call before measuring, so the numbers are live memory rather than GC timing. */
function exposeGc(): (() => void) | undefined {
	try {
		setFlagsFromString('--expose-gc');
		return runInNewContext('gc') as () => void;
	} catch {
		return undefined;
	}
}

function measureRss(gc: (() => void) | undefined): number {
	gc?.();
	gc?.();
	return process.memoryUsage().rss;
}

function toMiB(bytes: number): number {
	return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
		return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
	} catch {
		return false;
	}
}

/** True when any live process is in process group `pgid` (a host leads its own group). */
export function groupHasMembers(pgid: number): boolean {
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			// Fields after the command: state, ppid, pgrp.
			if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
		} catch {
			// It ended while we looked.
		}
	}
	return false;
}

// ---- Command line ----

async function ensureLibrary(library: string): Promise<void> {
	const source = fileURLToPath(new URL('../../test/fixtures/c/libc_basic.c', import.meta.url));
	if (library !== SOAK_LIBRARY || (existsSync(library) && statSync(library).mtimeMs >= statSync(source).mtimeMs)) return;
	const sdk = fileURLToPath(new URL('../../sdk/c/', import.meta.url));
	await promisify(execFile)('gcc', ['-shared', '-fPIC', '-O1', '-I', sdk, '-o', library, source]);
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			expansions: { type: 'string', default: '100000' },
			'crash-rate': { type: 'string', default: '0.01' },
			'in-flight': { type: 'string', default: '32' },
			seed: { type: 'string', default: '1' },
			library: { type: 'string', default: SOAK_LIBRARY },
			faults: { type: 'boolean', default: false },
			json: { type: 'boolean', default: false },
		},
	});
	const library = values.library!;
	await ensureLibrary(library);
	const options: SoakOptions = {
		expansions: Number(values.expansions),
		crashRate: Number(values['crash-rate']),
		inFlight: Number(values['in-flight']),
		seed: Number(values.seed),
		library,
		faultLibraries: values.faults ? SOAK_FAULT_LIBRARIES : undefined,
		onProgress: (n) => {
			if (n % 10_000 === 0) process.stderr.write(`soak: ${n} answered\n`);
		},
	};
	const report = await runSoak(options);
	if (values.json) {
		console.log(JSON.stringify(report, null, 2));
	} else {
		console.log(
			[
				`expansions            ${report.expansions} (seed ${options.seed}, ${options.inFlight} in flight)`,
				`crashing calls        ${report.crashCalls} (${((report.crashCalls / report.expansions) * 100).toFixed(2)}%), thread crashers ${report.threadCrashCalls}, library-dropped answers ${report.droppedCalls}`,
				`host crashes          ${report.crashes}, restarts ${report.restarts}, hosts started ${report.hostsStarted}`,
				`lost or wrong answers ${report.lost}${report.lostExamples.length ? `: ${report.lostExamples.join('; ')}` : ''}`,
				`leaked processes      ${report.leakedProcesses} (most hosts alive at once: ${report.maxLiveHosts})`,
				`leaked bulk dirs      ${report.leakedBulkDirs}`,
				`client RSS            ${report.clientRssWarmMiB} MiB after warm-up, ${report.clientRssEndMiB} MiB at the end (${(report.clientRssGrowth * 100).toFixed(1)}%)`,
				`time                  ${report.seconds.toFixed(1)} s (${report.expansionsPerSecond} expansions/s, crashes included)`,
				`mix                   ${Object.entries(report.mix).map(([k, v]) => `${k} ${v}`).join(', ')}`,
			].join('\n'),
		);
	}
	const ok = report.lost === 0 && report.leakedProcesses === 0 && report.leakedBulkDirs === 0 && report.clientRssGrowth < 0.1;
	process.exitCode = ok ? 0 : 1;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
	main().catch((error: unknown) => {
		console.error(`soak: ${(error as Error).stack ?? String(error)}`);
		process.exitCode = 1;
	});
}
