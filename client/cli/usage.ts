/** Usage errors (exit code 2), flag parsing with node:util parseArgs, and the help texts. */
import { readFileSync } from 'node:fs';

/** Exit codes of every subcommand. */
export namespace ExitCode {
	/** Done; warnings and notes allowed. */
	export const ok = 0;
	/** An error diagnostic, a crash, or a library that failed to load. */
	export const failure = 1;
	/** The command line is wrong. */
	export const usage = 2;
}

/** A wrong command line: printed with a hint to --help, exit code 2. */
export class UsageError extends Error {
	override readonly name = 'UsageError';
	constructor(
		message: string,
		/** The subcommand whose --help the hint names; undefined for the global help. */
		readonly command?: string,
	) {
		super(message);
	}
}

/** Where a subcommand writes. */
export interface CliIo {
	out(text: string): void;
	err(text: string): void;
}

/** The version in package.json (the compiled file sits in dist/client/cli/). */
export function packageVersion(): string {
	const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
	return pkg.version;
}

/** The -h/--help flag every command takes. */
export const HELP_FLAG = { help: { type: 'boolean', short: 'h' } } as const;

/** How much a command prints besides its answer, and in color or not: `-q`, `-v`, `--color`. */
export const OUTPUT_FLAGS = {
	quiet: { type: 'boolean', short: 'q' },
	verbose: { type: 'boolean', short: 'v' },
	color: { type: 'string' },
} as const;

/** What {@link parseOutputFlags} makes of `-q`, `-v` and `--color`. */
export interface OutputSettings {
	/** No progress and no closing lines: only diagnostics, warnings and the answer. */
	readonly quiet: boolean;
	/** Also where each macro library came from, and per file how many calls it had. */
	readonly verbose: boolean;
	/** Color the diagnostics. */
	readonly color: boolean;
}

/**
 * `-q`/`--quiet`, `-v`/`--verbose` (not both) and `--color auto|always|never`; `auto`, the default, colors on a
 * terminal unless NO_COLOR is set (`isTerminal` says whether stderr is one).
 */
export function parseOutputFlags(values: { quiet?: boolean; verbose?: boolean; color?: string }, command: string, isTerminal: boolean): OutputSettings {
	if (values.quiet === true && values.verbose === true) throw new UsageError('--quiet and --verbose cannot be used together: give one', command);
	const color = values.color ?? 'auto';
	if (color !== 'auto' && color !== 'always' && color !== 'never') throw new UsageError(`--color must be auto, always or never, not '${color}'`, command);
	const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
	return { quiet: values.quiet === true, verbose: values.verbose === true, color: color === 'always' || (color === 'auto' && isTerminal && !noColor) };
}

/** The help lines of {@link OUTPUT_FLAGS}. */
export const OUTPUT_FLAGS_HELP = `  -q, --quiet              no progress and no closing lines: only diagnostics, warnings and the answer
  -v, --verbose            also where each macro library came from (built, cached, prebuilt) and its path
  --color WHEN             color diagnostics: auto (default: on a terminal, never with NO_COLOR), always, never
`;

/**
 * Runs `parse` (a strict node:util parseArgs call) and turns its errors into UsageErrors that name
 * the flag in our words.
 */
export function parseFlags<T>(command: string, parse: () => T): T {
	try {
		return parse();
	} catch (error) {
		throw new UsageError(describeParseError(error as Error & { code?: string }), command);
	}
}

/** Reads a whole-number flag (undefined when absent); a UsageError of `command` names the flag, the range and the value. */
/** The one JSON flag of every command: `--message-format json`, and `--json` as its short form. */
export const MESSAGE_FORMAT_FLAGS = { 'message-format': { type: 'string' }, json: { type: 'boolean' } } as const;

/**
 * The --message-format flag: human (the default) or json. `json` is `--json`, the short form some commands had
 * first; giving both ways with different answers is an error.
 */
export function parseMessageFormat(value: string | undefined, command: string, json?: boolean): 'human' | 'json' {
	if (value !== undefined && value !== 'human' && value !== 'json') throw new UsageError(`--message-format must be human or json, not '${value}'`, command);
	if (json === true && value === 'human') throw new UsageError('--json and --message-format human contradict each other: give one', command);
	return json === true ? 'json' : (value ?? 'human');
}

export function parseWholeNumber(command: string, flag: string, value: string | undefined, min: number, max: number): number | undefined {
	if (value === undefined) return undefined;
	const n = Number(value);
	if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
		throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not '${value}'`, command);
	}
	return n;
}

function describeParseError(error: Error & { code?: string }): string {
	const message = error.message;
	const flag = /'(-[^' ]+)/.exec(message)?.[1];
	if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag) return `unknown flag '${flag}'`;
	if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag) {
		if (message.includes('argument missing')) return `${flag} needs a value`;
		if (message.includes('does not take an argument')) return `${flag} takes no value`;
		if (message.includes('ambiguous')) return `${flag} needs a value; for a value that starts with '-', write ${flag}=VALUE`;
	}
	return message.split('\n')[0];
}

/** Renders a usage error for stderr. */
export function formatUsageError(error: UsageError): string {
	const help = error.command === undefined ? 'macro-host --help' : `macro-host ${error.command} --help`;
	return `error: ${error.message}\nhint: run '${help}' for usage\n`;
}

export const GLOBAL_HELP = `macro-host: run procedural macros out of process, so a crashing macro cannot take the compiler down

Usage:
  macro-host serve [--encoding json|msgpack]
  macro-host list <library> [--message-format json]
  macro-host expand <library> (--inline NAME | --attribute NAME | --derive NAME[,NAME])
                    [--args TEXT] [--input FILE|-]
  macro-host expand <project-dir> --file FILE --line N [--column N] [--message-format json]
  macro-host build <project-dir> [--cache-dir DIR] [--message-format json]
  macro-host expand-project <project-dir> [--out DIR] [--jobs N] [--message-format json]
  macro-host proc-macro-server [--jobs N] [--timeout-ms N] [--cache-dir DIR]
  macro-host cache (list [--message-format json] | prune [--older-than DAYS] [--max-size MIB] [--dry-run] | clean [--dry-run])
                   [--cache-dir DIR]

Commands:
  serve    run the macro host: JSON-RPC 2.0 on stdin/stdout (clients spawn this)
  list     load a macro library and list the macros it provides
  expand   expand one macro call in a separate host process and print the result
  build    resolve a project's Scarb.toml, build its macro packages and list their macros
  expand-project  expand every macro call of a project through a pool of hosts and write the result
  proc-macro-server  serve the Cairo language server's macro calls, as \`scarb proc-macro-server\` does
  cache    list the build cache, prune libraries unused for a while, or clean it all

Options:
  -h, --help       show this help; 'macro-host <command> --help' shows a command's help
  -V, --version    print the version

Exit codes: 0 success (warnings allowed), 1 error diagnostics or a crash, 2 usage error.
`;

export const LIST_HELP = `Usage: macro-host list <library> [--message-format human|json]

Loads a macro library in a host process and lists its macros: name, kind and doc.

Arguments:
  <library>        path of the shared library (.so) to load

Options:
  --message-format F  human (default): a table; json: the library info as JSON (--json is the same)
  --encoding E     body encoding between client and host: json or msgpack (default: json)
  -h, --help       show this help

Exit codes: 0 listed, 1 the library failed to load, 2 usage error.
`;

export const EXPAND_HELP = `Usage: macro-host expand <library> (--inline NAME | --attribute NAME | --derive NAME[,NAME])
                         [--args TEXT] [--input FILE|-] [--message-format human|json]
       macro-host expand <project-dir> --file FILE --line N [--column N] [--message-format human|json]
                         [--cache-dir DIR] [--no-expansion-cache] [--remote-cache URL]

Expands one macro call in a separate host process (a crashing macro cannot take this command down)
and prints the resulting code on stdout, and diagnostics on stderr as expand-project renders them
(FILE:line:col, the source line and carets).

Arguments:
  <library>            path of the shared library (.so) or WebAssembly module (.wasm) that provides the macro

The macro (exactly one):
  --inline NAME        an inline macro NAME!(args); the args are the --input, or else --args
  --attribute NAME     an attribute #[NAME(args)] on an item; --args are its arguments, --input the item
  --derive N1[,N2]     derives on an item, expanded in order; --input is the item

Input:
  --args TEXT          the macro's arguments as source text (diagnostics point into <args>)
  --input FILE|-       the source to expand: a file, or - for stdin (diagnostics point into it)

Options:
  --encoding E         body encoding between client and host: json or msgpack (default: json)
  --timeout-ms N       give up on a macro after N milliseconds (default: the client's)
  --color WHEN         color diagnostics: auto (default: on a terminal, never with NO_COLOR), always, never
  --message-format F   json: a record of the call (outcome, output), one per diagnostic and a summary, as JSON
                       lines on stdout (--json is the same)
  -h, --help           show this help

With a project: builds and loads its macro packages as expand-project does, and expands the one call at
FILE:N (the innermost when several are there; --column picks among calls on one line), with the inputs the
driver sends for the source as written. Prints the call, its input, its outcome and output on stdout, and its
diagnostics on stderr as expand-project renders them; --message-format json prints JSON lines on stdout.
  --file FILE          the source file, relative to the project directory (or to the working directory)
  --line N, --column N the place of the call (1-based; the column counts characters)
  -q, --quiet          no build progress
  --cache-dir DIR      where built libraries live (default: $XDG_CACHE_HOME/macro-host, else ~/.cache/macro-host)
  --no-expansion-cache, --remote-cache URL, --remote-cache-upload B
                       the expansion cache, as for expand-project (on by default; a rebuilt macro always misses)

Output: for "replace" the new code; for "leave" and "bail" the input unchanged; for "remove" nothing.
A "replace" whose code does not parse (an identifier that is not one, an unterminated literal,
unbalanced delimiters) is printed anyway, with an error naming what is wrong.
Exit codes: 0 success (warnings allowed), 1 an error diagnostic, a crash, or an input that cannot be read
(a library that does not load, an --input or --file that is missing), 2 usage error (a flag or argument).
`;
