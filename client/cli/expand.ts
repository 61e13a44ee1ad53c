/**
 * `macro-host expand`: tokenizes the input, expands one macro call in a separate host process, prints
 * the resulting code on stdout and the diagnostics, with FILE:line:col, on stderr.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { MacroHostErrorCodes } from '../../protocol/errors.js';
import type { Diagnostic, ExpandResult, Span } from '../../protocol/expand.js';
import type { LibraryInfo } from '../../protocol/library.js';
import { kindWithArticle } from '../../protocol/macro-lookup.js';
import { emptyTokenStream, type TokenStream } from '../../protocol/token-stream.js';
import { macroLabel } from '../../expansion/diagnostics.js';
import { DiagnosticRenderer } from '../driver/render.js';
import type { MacroHost } from '../index.js';
import { checkTokenStream } from '../../tokens/output-check.js';
import { printTokens } from '../../tokens/token-printer.js';
import { tokenize } from '../../tokens/tokenizer.js';
import { loadLibraryOrReport, requireLibrary, validateEncodingFlag, withHost } from './host-session.js';
import { SourceMap, type SourceFile } from './source-map.js';
import { CACHE_FLAGS, parseCacheFlags } from './cache-flags.js';
import { EXPAND_HELP, ExitCode, HELP_FLAG, MESSAGE_FORMAT_FLAGS, OUTPUT_FLAGS, parseFlags, parseOutputFlags, parseMessageFormat, parseWholeNumber, UsageError, type CliIo } from './usage.js';

/** The macro call the flags ask for. */
type Call = { kind: 'inline' | 'attribute'; name: string } | { kind: 'derive'; derives: string[] };

const FLAGS = {
	...HELP_FLAG,
	inline: { type: 'string' },
	attribute: { type: 'string' },
	derive: { type: 'string' },
	args: { type: 'string' },
	input: { type: 'string' },
	encoding: { type: 'string' },
	'timeout-ms': { type: 'string' },
	file: { type: 'string' },
	line: { type: 'string' },
	column: { type: 'string' },
	...MESSAGE_FORMAT_FLAGS,
	'cache-dir': { type: 'string' },
	...CACHE_FLAGS,
	quiet: OUTPUT_FLAGS.quiet,
	color: OUTPUT_FLAGS.color,
} as const;

export async function runExpand(argv: string[], io: CliIo): Promise<number> {
	const { values, positionals } = parseFlags('expand', () =>
		parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: true }),
	);
	if (values.help) {
		io.out(EXPAND_HELP);
		return ExitCode.ok;
	}
	const library = requireLibrary(positionals, 'expand');
	if (isProjectMode(library, values)) return runAtPlace(library, values, io);
	for (const flag of ['cache-dir', 'no-expansion-cache', 'remote-cache', 'remote-cache-upload', 'quiet'] as const) {
		if (values[flag] !== undefined) throw new UsageError(`--${flag} is only for a project: macro-host expand <project-dir> --file F --line N`, 'expand');
	}
	const call = parseCall(values);
	checkInputs(call, values.args, values.input);
	const encoding = validateEncodingFlag(values.encoding, 'expand');
	const output = parseOutputFlags(values, 'expand', process.stderr.isTTY === true);
	const format = parseMessageFormat(values['message-format'], 'expand', values.json);
	const requestTimeoutMs = parseTimeout(values['timeout-ms']);

	// Lay the inputs out in one span space: the input first (spans = its byte offsets), then --args.
	const sources = new SourceMap();
	const input = values.input === undefined ? undefined : await readInput(values.input, sources);
	if (typeof input === 'string') {
		// Like a library that cannot be loaded: the command line was right, the file is not there (exit 1).
		io.err(`error: ${input}\n`);
		return ExitCode.failure;
	}
	const args = values.args !== undefined || input === undefined ? sources.add('<args>', values.args ?? '') : undefined;
	const primary = (input ?? args)!;
	const callSite: Span = { start: primary.base, end: primary.base + primary.lines.byteLength };

	const renderer = new DiagnosticRenderer(sources.texts(), output.color);
	// JSON: the diagnostics as expand-project's records on stdout, after a record of the call.
	const show = (d: Pick<Diagnostic, 'severity' | 'message' | 'span'>, at: Span | undefined): void =>
		format === 'json' ? io.out(`${renderer.json(sources.place(d, at))}\n`) : io.err(renderer.human(sources.place(d, at)));
	const streams = tokenizeInputs([input, args], sources, callSite, show);
	if (streams === undefined) return ExitCode.failure;
	const tokensOf = (file: SourceFile | undefined) => (file === undefined ? emptyTokenStream() : streams.get(file)!);
	const inputs: CallInputs = { args: tokensOf(input ?? args), attributeArgs: tokensOf(args), item: tokensOf(input), callSite };

	return withHost({ encoding, requestTimeoutMs, onStderr: (text: string) => io.err(text) }, io, async (host) => {
		const info = await loadLibraryOrReport(host, library, io);
		if (info === undefined) return ExitCode.failure;
		let result: ExpandResult;
		try {
			result = await expandCall(host, call, inputs, info.library);
		} catch (error) {
			const isUnknown = (error as { code?: unknown }).code === MacroHostErrorCodes.UnknownMacro;
			io.err(`error: ${(error as Error).message}\n${isUnknown ? hintFor(call, info) : ''}`);
			return ExitCode.failure;
		}
		if (format === 'json') {
			const output = result.outcome === 'replace' && result.tokens !== undefined ? printTokens(result.tokens) : null;
			const macro = { kind: call.kind, name: call.kind === 'derive' ? call.derives.join(', ') : call.name };
			io.out(`${JSON.stringify({ type: 'call', macro, library, outcome: result.outcome, output, auxData: result.auxData ?? null })}\n`);
		} else {
			printOutcome(result, primary, io);
		}
		const diagnostics = [...result.diagnostics];
		for (const d of result.diagnostics) show(d, callSite);
		const invalid = checkOutput(result, call);
		if (invalid !== undefined) {
			show(invalid, callSite);
			diagnostics.push(invalid);
		}
		if (result.auxData !== undefined) {
			if (format === 'human') io.err(`note: aux data: ${JSON.stringify(result.auxData)}\n`);
			const post = await postProcess(host, info, call.kind === 'derive' ? (result.auxData as unknown[]) : [result.auxData], io);
			if (post === undefined) return ExitCode.failure;
			// Post-processing concerns the whole run, not one place in the input: no location line.
			for (const d of post) show(d, undefined);
			diagnostics.push(...post);
		}
		const errors = diagnostics.filter((d) => d.severity === 'error').length;
		if (format === 'json') io.out(`${JSON.stringify({ type: 'summary', calls: 1, errors })}\n`);
		return errors > 0 ? ExitCode.failure : ExitCode.ok;
	});
}

/** A project directory (or its Scarb.toml), or --file/--line given: expand the call at a place in a project. */
function isProjectMode(target: string, values: { file?: string; line?: string; column?: string }): boolean {
	if (values.file !== undefined || values.line !== undefined || values.column !== undefined) return true;
	return target.endsWith('Scarb.toml') || existsSync(join(target, 'Scarb.toml'));
}

/** Checks the project-mode flags and runs client/cli/expand-at.ts. */
async function runAtPlace(projectDir: string, values: Record<string, string | boolean | undefined>, io: CliIo): Promise<number> {
	const libraryFlags = ['inline', 'attribute', 'derive', 'args', 'input', 'encoding'].filter((f) => values[f] !== undefined);
	if (libraryFlags.length > 0) {
		throw new UsageError(`--${libraryFlags[0]} is for a library; with a project the call is the one at --file F --line N [--column C]`, 'expand');
	}
	const file = values.file as string | undefined;
	if (file === undefined || values.line === undefined) {
		throw new UsageError('a project needs the place of the call: --file F --line N [--column C] (F relative to the project)', 'expand');
	}
	const line = parseWholeNumber('expand', '--line', values.line as string, 1, 10_000_000)!;
	const column = parseWholeNumber('expand', '--column', values.column as string | undefined, 1, 10_000_000);
	const format = parseMessageFormat(values['message-format'] as string | undefined, 'expand', values.json as boolean | undefined);
	const requestTimeoutMs = parseTimeout(values['timeout-ms'] as string | undefined);
	const { quiet, color } = parseOutputFlags(values as { quiet?: boolean; color?: string }, 'expand', process.stderr.isTTY === true);
	const expansionCache = parseCacheFlags('expand', values);
	const { runExpandAt } = await import('./expand-at.js');
	return runExpandAt({ projectDir, file, line, column, format, cacheDir: values['cache-dir'] as string | undefined, expansionCache, requestTimeoutMs, quiet, color }, io);
}

/** The tokens of one call; which ones a kind uses is its business. */
interface CallInputs {
	/** Inline arguments: the input, or else --args. */
	args: TokenStream;
	/** Attribute arguments: --args. */
	attributeArgs: TokenStream;
	/** The item of an attribute or derive: the input. */
	item: TokenStream;
	callSite: Span;
}

function expandCall(host: MacroHost, call: Call, inputs: CallInputs, library: string): Promise<ExpandResult> {
	const { callSite } = inputs;
	switch (call.kind) {
		case 'inline':
			return host.expandInline({ name: call.name, args: inputs.args, callSite, library });
		case 'attribute':
			return host.expandAttribute({ name: call.name, args: inputs.attributeArgs, item: inputs.item, callSite, library });
		case 'derive':
			return host.expandDerive({ derives: call.derives, item: inputs.item, callSite, library });
	}
}

/** Tokenizes each input; on errors shows them all (with `show`) and returns undefined. */
function tokenizeInputs(
	files: Array<SourceFile | undefined>,
	sources: SourceMap,
	callSite: Span,
	show: (d: Pick<Diagnostic, 'severity' | 'message' | 'span'>, at: Span | undefined) => void,
): Map<SourceFile, TokenStream> | undefined {
	const streams = new Map<SourceFile, TokenStream>();
	let failed = false;
	for (const file of files) {
		if (file === undefined) continue;
		const { stream, errors } = tokenize(file.text, { spanBase: file.base });
		for (const e of errors) show({ severity: 'error', message: e.message, span: { start: e.start, end: e.end } }, callSite);
		failed ||= errors.length > 0;
		streams.set(file, stream);
	}
	return failed ? undefined : streams;
}

/** The code after the call: the new tokens for "replace", the input as written for "leave"/"bail", nothing for "remove". */
function printOutcome(result: ExpandResult, primary: SourceFile, io: CliIo): void {
	if (result.outcome === 'replace' && result.tokens !== undefined) {
		const code = printTokens(result.tokens);
		if (code !== '') io.out(`${code}\n`);
	} else if (result.outcome === 'leave' || result.outcome === 'bail') {
		// The code stays as written: echo the input itself, comments and layout included.
		if (primary.text !== '') io.out(primary.text.endsWith('\n') ? primary.text : `${primary.text}\n`);
	}
}

/**
 * The driver's output check (tokens/output-check.ts) on a REPLACE output: an error when it is not
 * code. The output is printed anyway, since seeing it is what `expand` is for.
 */
function checkOutput(result: ExpandResult, call: Call): Diagnostic | undefined {
	if (result.outcome !== 'replace' || result.tokens === undefined) return undefined;
	const problem = checkTokenStream(result.tokens);
	if (problem === undefined) return undefined;
	const label = macroLabel(call.kind, call.kind === 'derive' ? call.derives.join(', ') : call.name);
	return { severity: 'error', message: `${label} returned code that does not parse: ${problem.message}` };
}

/** Exactly one of --inline, --attribute, --derive. */
function parseCall(values: { inline?: string; attribute?: string; derive?: string }): Call {
	const given = (['inline', 'attribute', 'derive'] as const).filter((k) => values[k] !== undefined);
	if (given.length === 0) {
		throw new UsageError('no macro to expand: give one of --inline NAME, --attribute NAME or --derive NAME[,NAME]', 'expand');
	}
	if (given.length > 1) {
		throw new UsageError(`${given.map((k) => `--${k}`).join(' and ')} cannot be used together: give exactly one`, 'expand');
	}
	const kind = given[0];
	if (kind === 'derive') {
		const derives = values.derive!.split(',').map((n) => n.trim());
		if (derives.some((n) => n === '')) {
			throw new UsageError(`--derive needs comma-separated names, got '${values.derive}'`, 'expand');
		}
		return { kind, derives };
	}
	const name = values[kind]!.trim();
	if (name === '') throw new UsageError(`--${kind} needs a macro name`, 'expand');
	return { kind, name };
}

/** Which inputs each kind takes. */
function checkInputs(call: Call, args: string | undefined, input: string | undefined): void {
	if (call.kind === 'inline' && args !== undefined && input !== undefined) {
		throw new UsageError('--inline takes its arguments from --args or from --input, not both', 'expand');
	}
	if (call.kind === 'derive' && args !== undefined) {
		throw new UsageError('--args has no meaning with --derive: a derive takes only the item (--input)', 'expand');
	}
	if (call.kind !== 'inline' && input === undefined) {
		throw new UsageError(`--${call.kind} needs the item to expand: give --input FILE, or --input - to read stdin`, 'expand');
	}
}

function parseTimeout(value: string | undefined): number | undefined {
	if (value === undefined) return undefined;
	const ms = Number(value);
	if (!/^\d+$/.test(value) || !Number.isSafeInteger(ms) || ms < 1 || ms > 2_147_483_647) {
		throw new UsageError(`--timeout-ms must be a whole number of milliseconds from 1 to 2147483647, not '${value}'`, 'expand');
	}
	return ms;
}

/** Reads --input (a file, or stdin for `-`) into the source map; for an unreadable file, the sentence saying why. */
async function readInput(spec: string, sources: SourceMap): Promise<SourceFile | string> {
	if (spec === '-') {
		const chunks: Buffer[] = [];
		for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
		return sources.add('<stdin>', Buffer.concat(chunks).toString('utf8'));
	}
	try {
		return sources.add(spec, await readFile(spec, 'utf8'));
	} catch (error) {
		return `cannot read --input '${spec}': ${describeFsError(error as NodeJS.ErrnoException)}`;
	}
}

function describeFsError(error: NodeJS.ErrnoException): string {
	switch (error.code) {
		case 'ENOENT':
			return 'no such file';
		case 'EISDIR':
			return 'it is a directory';
		case 'EACCES':
		case 'EPERM':
			return 'permission denied';
		default:
			return error.message;
	}
}

/** Runs the library's post-processing over the aux data, when it has one; undefined after a printed error. */
async function postProcess(host: MacroHost, info: LibraryInfo, auxData: unknown[], io: CliIo): Promise<Diagnostic[] | undefined> {
	if (!info.hasPostProcess) return [];
	try {
		return (await host.postProcess({ library: info.library, auxData })).diagnostics;
	} catch (error) {
		io.err(`error: post-processing failed: ${(error as Error).message}\n`);
		return undefined;
	}
}

/** After a refused call: the right flag when the name is another kind, else the macros of that kind. */
function hintFor(call: Call, info: LibraryInfo): string {
	const names = call.kind === 'derive' ? call.derives : [call.name];
	for (const name of names) {
		const other = info.macros.find((m) => m.name === name && m.kind !== call.kind);
		if (other !== undefined) {
			return `hint: '${name}' is ${kindWithArticle(other.kind)} macro: use --${other.kind} ${name}\n`;
		}
	}
	const same = info.macros.filter((m) => m.kind === call.kind).map((m) => m.name);
	const lib = basename(info.library);
	return same.length === 0
		? `hint: ${lib} provides no ${call.kind} macros\n`
		: `hint: ${lib} provides these ${call.kind} macros: ${same.join(', ')}\n`;
}
