/**
 * `macro-host build <project-dir>`: resolves the project's Scarb.toml, builds its macro packages (progress on stderr;
 * a warm cache runs no cargo), loads each library in a host process and lists the macros per package.
 */
import { parseArgs } from 'node:util';
import type { BuildProgress } from '../packages/cargo-build.js';
import { loadProject, type LoadedProject } from '../packages/load-project.js';
import { formatPackageWarning } from '../packages/package-warnings.js';
import { withHost } from './host-session.js';
import { countRecords, describeLoadError, loadErrorRecords } from './load-errors.js';
import { describeLibraries } from './expand-project.js';
import { ExitCode, HELP_FLAG, MESSAGE_FORMAT_FLAGS, OUTPUT_FLAGS, parseFlags, parseMessageFormat, parseOutputFlags, UsageError, type CliIo } from './usage.js';

export const BUILD_HELP = `Usage: macro-host build <project-dir> [--cache-dir DIR] [--message-format human|json]

Resolves the project's Scarb.toml and its path dependencies, builds every macro package with cargo
(offline; built libraries are cached, so an unchanged package is never rebuilt), loads each library
in a host process and lists the macros per package. A package with its own Cargo.toml (Scarb's layout)
is built from it as it is; for one without, macro-host generates the Cargo.toml. A prebuilt library
that [tool.scarb] allow-prebuilt-plugins allows is used unless it is missing or does not load.

Arguments:
  <project-dir>      directory holding the project's Scarb.toml (or the Scarb.toml itself)

Options:
  --cache-dir DIR    where built libraries live (default: $XDG_CACHE_HOME/macro-host, else ~/.cache/macro-host)
  --message-format F human (default): the packages and their macros as a list; json: the same as one JSON
                     object, or on failure one JSON diagnostic per line (file, line, column) and a summary
                     (--json is the same as --message-format json)
  -q, --quiet        no progress lines (warnings and errors still print)
  -v, --verbose      also where each macro library came from (built, cached, prebuilt) and its path
  -h, --help         show this help

Progress and package warnings (a Cargo/Scarb name mismatch, a prebuilt library not used) go to stderr.
Manifest errors are printed as FILE:line:col: message.
Exit codes: 0 built, 1 a manifest error, a compile error or a library that failed to load, 2 usage error.
`;

const FLAGS = { ...HELP_FLAG, 'cache-dir': { type: 'string' }, ...MESSAGE_FORMAT_FLAGS, quiet: OUTPUT_FLAGS.quiet, verbose: OUTPUT_FLAGS.verbose } as const;

export async function runBuild(argv: string[], io: CliIo): Promise<number> {
	const { values, positionals } = parseFlags('build', () => parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: true }));
	if (values.help) {
		io.out(BUILD_HELP);
		return ExitCode.ok;
	}
	if (positionals.length === 0) throw new UsageError("missing <project-dir>: give the directory of the project's Scarb.toml", 'build');
	if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`, 'build');
	const projectDir = positionals[0]!;
	const format = parseMessageFormat(values['message-format'], 'build', values.json);
	const output = parseOutputFlags(values, 'build', false);
	const progress = new ProgressPrinter(output.quiet ? QUIET_IO : io, process.stderr.isTTY === true);

	return withHost({}, io, async (host) => {
		let project: LoadedProject;
		try {
			project = await loadProject(host, projectDir, { cacheDir: values['cache-dir'], onProgress: (p) => progress.update(p) });
		} catch (error) {
			progress.clear();
			if (format === 'json') {
				const records = loadErrorRecords(error);
				for (const record of records) io.out(`${JSON.stringify(record)}\n`);
				io.out(`${JSON.stringify({ type: 'summary', packages: 0, ...countRecords(records) })}\n`);
			} else {
				for (const line of describeLoadError(error)) io.err(`error: ${line}\n`);
			}
			return ExitCode.failure;
		}
		progress.clear();
		if (output.verbose) io.err(describeLibraries(project));
		for (const pkg of project.packages) if (pkg.warnings) io.err(`${pkg.warnings}\n`);
		for (const warning of project.warnings) io.err(formatPackageWarning(warning));
		// The resolved graph holds every manifest's text and positions: the package list says what --json users need.
		const { resolved: _graph, ...shown } = project;
		io.out(format === 'json' ? `${JSON.stringify(shown, null, 2)}\n` : formatProject(project));
		return ExitCode.ok;
	});
}

/** Per package a header (name, version, where the library came from), then its macros as NAME / KIND / DOC rows. */
export function formatProject(project: LoadedProject): string {
	if (project.packages.length === 0) return `${project.name} ${project.version}: no macro packages\n`;
	const rows = project.macros.map((m) => [m.name, m.kind]);
	const nameWidth = Math.max(0, ...rows.map((r) => r[0]!.length));
	const kindWidth = Math.max(0, ...rows.map((r) => r[1]!.length));
	const lines: string[] = [];
	for (const pkg of project.packages) {
		const source = pkg.source === 'built' ? 'built' : pkg.source === 'cache' ? 'cached' : 'prebuilt';
		lines.push(`${pkg.name} ${pkg.version} (${source}): ${pkg.libraryPath}`);
		for (const m of pkg.macros) lines.push(`  ${m.name.padEnd(nameWidth)}  ${m.kind.padEnd(kindWidth)}  ${m.doc}`.trimEnd());
	}
	return `${lines.join('\n')}\n`;
}

/** Where -q sends progress: nowhere. */
const QUIET_IO: CliIo = { out: () => undefined, err: () => undefined };

/** Without a terminal, a long quiet compile still gets a line this often, so a log shows it is alive. */
const QUIET_REPEAT_MS = 10_000;

/**
 * Prints build progress on stderr: on a terminal one line rewritten in place; otherwise a line whenever the crate
 * being compiled changes (and every 10 s of a long one), and one when a package is done, so logs stay short.
 */
class ProgressPrinter {
	private lastLine = '';
	private lastPrintedMs = 0;
	private live = false;

	constructor(
		private readonly io: CliIo,
		private readonly isTty: boolean,
	) {}

	update(p: BuildProgress): void {
		const seconds = (p.elapsedMs / 1000).toFixed(1);
		const what =
			p.phase === 'finished'
				? `Built ${p.package} v${p.version} in ${seconds}s`
				: p.phase === 'waiting-for-lock'
					? `Waiting for another build of the cache (cargo's lock): ${p.package} v${p.version}`
					: `Compiling ${p.package} v${p.version}${describeUnit(p)}`;
		if (this.isTty) {
			this.io.err(`\r\x1b[K${p.phase === 'finished' ? what : `${what} (${seconds}s)`}`);
			this.live = true;
			if (p.phase === 'finished') this.clear(true);
		} else if (what !== this.lastLine) {
			// A log gets each step once, as cargo writes it; the time only on the repeats of a long step.
			this.io.err(`${what}\n`);
			this.lastPrintedMs = p.elapsedMs;
		} else if (p.elapsedMs - this.lastPrintedMs >= QUIET_REPEAT_MS) {
			this.io.err(`${what} (still running, ${seconds}s)\n`);
			this.lastPrintedMs = p.elapsedMs;
		}
		this.lastLine = what;
	}

	/** Ends the live line on a terminal (kept when `keep`, else erased). */
	clear(keep = false): void {
		if (!this.live) return;
		this.io.err(keep ? '\n' : '\r\x1b[K');
		this.live = false;
	}
}

/** `, compiling macro-host-sdk v0.1.0` while cargo compiles another crate than the package's own; else nothing. */
function describeUnit(p: BuildProgress): string {
	if (p.unit === undefined || p.unit.startsWith(`${p.package} v`) || p.unit.startsWith(`${p.package.replace(/-/g, '_')} v`)) return '';
	return `, compiling ${p.unit}`;
}
