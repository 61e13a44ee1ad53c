/**
 * `macro-host expand-project <project-dir>`: builds and loads the project's macro packages into a
 * pool of hosts, expands every `.cairo` file under src/, writes the expanded files and reports the
 * diagnostics (rustc-like, or JSON lines) and a closing summary.
 */
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_RECURSION_LIMIT } from '../../protocol/expand-source.js';
import type { DriverDiagnostic } from '../../expansion/diagnostics.js';
import type { ProjectExpansion } from '../driver/expand-project.js';
import type { LoadedProject } from '../packages/load-project.js';
import { displayPath } from '../packages/errors.js';
import type { BuildProgress } from '../packages/cargo-build.js';
import { CACHE_FLAGS, cacheFlagsHelp, parseCacheFlags } from './cache-flags.js';
import { countRecords, describeLoadError, loadErrorRecords } from './load-errors.js';
import { ExitCode, HELP_FLAG, MESSAGE_FORMAT_FLAGS, OUTPUT_FLAGS, OUTPUT_FLAGS_HELP, parseFlags, parseMessageFormat, parseOutputFlags, parseWholeNumber, UsageError, type CliIo } from './usage.js';

export const EXPAND_PROJECT_HELP = `Usage: macro-host expand-project <project-dir> [--out DIR] [--jobs N] [--message-format human|json]
                                 [--recursion-limit N] [--cache-dir DIR] [--timeout-ms N]
                                 [--no-expansion-cache] [--remote-cache URL] [--remote-cache-upload=false]
                                 [--check-determinism] [--no-check-output]

Builds the project's macro packages (cargo, offline; cached), loads them into a pool of host processes
and expands every macro call in every .cairo file under src/: inline name!(…), attributes #[name] and
derives a package provides. A macro that crashes takes down only its host: that one call becomes an
error diagnostic, its code stays as written, and the build goes on.

Arguments:
  <project-dir>            directory holding the project's Scarb.toml (or the Scarb.toml itself)

Options:
  --out DIR                where the expanded files go, mirroring the project's paths (DIR/src/lib.cairo);
                           default <project-dir>/target/expanded (emptied first)
  --jobs N                 host processes expanding files in parallel (default: the number of CPU cores)
  --message-format F       human (default): diagnostics like rustc on stderr;
                           json: one JSON object per line on stdout (diagnostics, files, summary); --json is the same
  --recursion-limit N      how deep macro output may keep calling macros (default 64)
  --cache-dir DIR          where built libraries live (default: $XDG_CACHE_HOME/macro-host, else ~/.cache/macro-host)
  --timeout-ms N           give up on a macro call after N milliseconds (default 30000)
${cacheFlagsHelp(27)}  --check-determinism      expand every call in two hosts; a call whose results differ is a warning, never cached
  --no-check-output        splice macro output as it is; by default output that is not code (an identifier that
                           is not one, an unterminated literal, unbalanced delimiters) is an error at the call
${OUTPUT_FLAGS_HELP}  -h, --help               show this help

Exit codes: 0 expanded (warnings allowed), 1 an error diagnostic (a crash included) or a build failure,
2 usage error.
`;

const FLAGS = {
	...HELP_FLAG,
	out: { type: 'string' },
	jobs: { type: 'string' },
	...MESSAGE_FORMAT_FLAGS,
	'recursion-limit': { type: 'string' },
	'cache-dir': { type: 'string' },
	'timeout-ms': { type: 'string' },
	...CACHE_FLAGS,
	'check-determinism': { type: 'boolean' },
	'no-check-output': { type: 'boolean' },
	...OUTPUT_FLAGS,
} as const;

export async function runExpandProject(argv: string[], io: CliIo): Promise<number> {
	const { values, positionals } = parseFlags('expand-project', () =>
		parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: true }),
	);
	if (values.help) {
		io.out(EXPAND_PROJECT_HELP);
		return ExitCode.ok;
	}
	if (positionals.length === 0) throw new UsageError("missing <project-dir>: give the directory of the project's Scarb.toml", 'expand-project');
	if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`, 'expand-project');
	const projectDir = positionals[0]!;
	const format = parseMessageFormat(values['message-format'], 'expand-project', values.json);
	const jobs = parseWholeNumber('expand-project', '--jobs', values.jobs, 1, 256);
	const recursionLimit = parseWholeNumber('expand-project', '--recursion-limit', values['recursion-limit'], 1, MAX_RECURSION_LIMIT);
	const requestTimeoutMs = parseWholeNumber('expand-project', '--timeout-ms', values['timeout-ms'], 1, 2_147_483_647);
	const expansionCache = parseCacheFlags('expand-project', values);
	const output = parseOutputFlags(values, 'expand-project', process.stderr.isTTY === true);

	// Loaded after the flags are checked, so a usage error answers without loading the client.
	const { expandProject, validateOutDir } = await import('../driver/expand-project.js');
	const { DiagnosticRenderer, formatSummary } = await import('../driver/render.js');
	if (values.out !== undefined) {
		const root = projectDir.endsWith('Scarb.toml') ? dirname(resolve(projectDir)) : resolve(projectDir);
		try {
			validateOutDir(root, values.out);
		} catch (error) {
			throw new UsageError(`--out: ${(error as Error).message}`, 'expand-project');
		}
	}

	const progress = output.quiet ? undefined : buildProgressPrinter(io);
	let run: ProjectExpansion;
	try {
		run = await expandProject(projectDir, {
			outDir: values.out,
			jobs,
			recursionLimit,
			build: { cacheDir: values['cache-dir'], onProgress: progress },
			host: requestTimeoutMs === undefined ? undefined : { requestTimeoutMs },
			expansionCache,
			checkDeterminism: values['check-determinism'] ?? false,
			checkOutput: values['no-check-output'] !== true,
		});
	} catch (error) {
		if (format === 'json') {
			const records = loadErrorRecords(error);
			for (const record of records) io.out(`${JSON.stringify(record)}\n`);
			// The summary comes last, as after a run: tools read one stream shape either way.
			io.out(`${JSON.stringify({ type: 'summary', files: 0, expansions: 0, ...countRecords(records), outDir: null })}\n`);
		} else for (const line of describeLoadError(error)) io.err(`error: ${line}\n`);
		return ExitCode.failure;
	}

	const sources = new Map(run.files.map((f) => [f.displayPath, f.source]));
	// Package warnings point into manifests: their text lets the renderer show the line.
	for (const m of run.project.resolved.packages) sources.set(displayPath(m.manifestPath), m.text);
	if (format === 'json') {
		const renderer = new DiagnosticRenderer(sources, false);
		for (const d of run.diagnostics) io.out(`${renderer.json(d)}\n`);
		for (const f of run.files) {
			io.out(`${JSON.stringify({ type: 'file', source: f.displayPath, output: displayPath(f.outputPath), expansions: f.expansions })}\n`);
		}
		io.out(`${JSON.stringify({ type: 'summary', ...run.summary, outDir: displayPath(run.outDir) })}\n`);
	} else {
		const renderer = new DiagnosticRenderer(sources, output.color);
		if (output.verbose) io.err(describeLibraries(run.project));
		for (const d of run.diagnostics as DriverDiagnostic[]) io.err(renderer.human(d));
		if (output.verbose) for (const f of run.files) io.err(`${f.displayPath}: ${f.expansions} expansion${f.expansions === 1 ? '' : 's'}\n`);
		if (!output.quiet) {
			const written = run.files.filter((f) => f.isReadable).length;
			io.err(`Wrote ${written} expanded file${written === 1 ? '' : 's'} to ${displayPath(run.outDir)}\n`);
			io.err(`${formatSummary(run.summary)}\n`);
		}
	}
	return run.summary.errors > 0 ? ExitCode.failure : ExitCode.ok;
}

/** `-v`: one line per macro package, with where its library came from. */
export function describeLibraries(project: LoadedProject): string {
	return project.packages.map((p) => `${p.name} v${p.version}: ${p.source === 'cache' ? 'cached' : p.source} library ${p.libraryPath}\n`).join('');
}

/** Build progress as one line on stderr per step (the compiler's own output stays out of the way). */
export function buildProgressPrinter(io: CliIo): (progress: BuildProgress) => void {
	return (p) => {
		if (p.phase === 'finished') io.err(`Built ${p.package} v${p.version} in ${(p.elapsedMs / 1000).toFixed(1)}s\n`);
		else if (p.unit === undefined) io.err(p.phase === 'waiting-for-lock' ? `Waiting for another build of ${p.package} v${p.version}\n` : `Compiling ${p.package} v${p.version}\n`);
	};
}
