/**
 * `macro-host expand <project-dir> --file F --line N [--column C]`: builds and loads the project's macro
 * packages as `expand-project` does, finds the call at that place (client/driver/call-at.ts) and expands
 * it alone, showing the input it was given, its output and its diagnostics rendered as `expand-project`
 * renders them (or as JSON lines). The macro author's loop: edit the macro, run this, read the result.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ExpandResult } from '../../protocol/expand.js';
import { printTokens } from '../../tokens/token-printer.js';
import { checkTokenStream } from '../../tokens/output-check.js';
import { tokenize } from '../../tokens/tokenizer.js';
import { findCallAt, placeInText, type CallAtPlace } from '../driver/call-at.js';
import { fromMacroDiagnostic, inFile, invalidOutput, macroLabel, type DriverDiagnostic, type MacroOrigin } from '../../expansion/diagnostics.js';
import { MacroRegistry } from '../../expansion/macro-registry.js';
import { DiagnosticRenderer } from '../driver/render.js';
import { TokenCursor } from '../../expansion/token-cursor.js';
import type { MacroCaller } from '../../expansion/expansion-engine.js';
import { ExpansionCache, type ExpansionCacheOptions } from '../expansion-cache/expansion-cache.js';
import { ExpansionSession } from '../expansion-cache/expansion-session.js';
import { displayPath } from '../packages/errors.js';
import { loadProject, type LoadedProject } from '../packages/load-project.js';
import { defaultCacheDir } from '../packages/options.js';
import { formatPackageWarning } from '../packages/package-warnings.js';
import { buildProgressPrinter } from './expand-project.js';
import { countRecords, describeLoadError, loadErrorRecords } from './load-errors.js';
import { ExitCode, type CliIo } from './usage.js';

/** What the flags asked for. */
export interface ExpandAtRequest {
	/** The project directory (or its Scarb.toml). */
	readonly projectDir: string;
	/** The source file: relative to the project directory, or to the working directory, or absolute. */
	readonly file: string;
	readonly line: number;
	readonly column: number | undefined;
	readonly format: 'human' | 'json';
	readonly cacheDir: string | undefined;
	/** The expansion cache, as expand-project uses it (false: off). */
	readonly expansionCache: false | ExpansionCacheOptions;
	readonly requestTimeoutMs: number | undefined;
	/** No build progress. */
	readonly quiet: boolean;
	/** Color the diagnostics. */
	readonly color: boolean;
}

/** Runs the command; returns the exit code (1 for an error diagnostic, a load failure or no call at the place). */
export async function runExpandAt(request: ExpandAtRequest, io: CliIo): Promise<number> {
	const out = new Reporter(io, request.format);
	const root = resolve(request.projectDir.endsWith('Scarb.toml') ? dirname(request.projectDir) : request.projectDir);
	const path = findSource(root, request.file);
	let source: string;
	try {
		source = await readFile(path, 'utf8');
	} catch (error) {
		return out.fail(`cannot read ${displayPath(path)}: ${(error as Error).message}`);
	}
	const shown = displayPath(path);
	const place = placeInText(source, request.line, request.column);
	if ('problem' in place) return out.fail(`${shown}: ${place.problem}`);
	const { stream, errors } = tokenize(source);
	if (errors.length > 0) return out.fail(`${shown} does not tokenize (${errors[0]!.message}), so no call in it can be expanded`);

	// As expand-project: calls the expansion cache has answer from it, and a host starts only for a miss.
	const cache = ExpansionCache.open(request.expansionCache, {
		buildCacheDir: request.cacheDir ?? defaultCacheDir(),
		onWarning: (message) => io.err(`warning: ${message}\n`),
	});
	const session = new ExpansionSession({ size: 1, host: { requestTimeoutMs: request.requestTimeoutMs }, cache });
	try {
		let project: LoadedProject;
		try {
			project = await loadProject(session, root, { cacheDir: request.cacheDir, onProgress: request.quiet ? undefined : buildProgressPrinter(io) });
		} catch (error) {
			return out.loadFailure(error);
		}
		for (const pkg of project.packages) if (!pkg.expansionCache) session.excludeFromCache(pkg.library);
		for (const warning of project.warnings) io.err(formatPackageWarning(warning));
		const where = `${shown}:${request.line}${request.column === undefined ? '' : `:${request.column}`}`;
		const found = findCallAt(new TokenCursor(stream), new MacroRegistry(project.packages), place);
		if ('problem' in found) {
			const macros = project.macros.map((m) => macroLabel(m.kind, m.name)).join(', ');
			return out.fail(`${where}: ${found.problem}\nhelp: the loaded macros are ${macros === '' ? 'none' : macros}`);
		}
		const renderer = new DiagnosticRenderer(new Map([[shown, source]]), request.format === 'human' && request.color);
		let errorCount = 0;
		for (const call of found.calls) {
			const diagnostics = await expandOne(session.caller(), call, shown, out, renderer);
			errorCount += diagnostics.filter((d) => d.severity === 'error').length;
		}
		out.summary(found.calls.length, errorCount);
		return errorCount > 0 ? ExitCode.failure : ExitCode.ok;
	} finally {
		// A failing close changes nothing for the user: the command's answer is already printed.
		await session.close().catch(() => undefined);
	}
}

/** Sends one call, prints its input, outcome and output, and renders its diagnostics; returns them. */
async function expandOne(host: MacroCaller, call: CallAtPlace, file: string, out: Reporter, renderer: DiagnosticRenderer): Promise<DriverDiagnostic[]> {
	const name = call.kind === 'derive' ? call.derives.join(', ') : call.name;
	const origin: MacroOrigin = { kind: call.kind, name, package: call.provider.package };
	const location = renderer.locate({ severity: 'note', message: '', file, span: call.callSite });
	const input: CallInput = call.kind === 'inline' ? { args: printTokens(call.args) } : call.kind === 'attribute' ? { args: printTokens(call.args), item: printTokens(call.item) } : { item: printTokens(call.item) };
	let result: ExpandResult;
	try {
		result = await send(host, call);
	} catch (error) {
		const failed: DriverDiagnostic = { severity: 'error', code: 'request-failed', file, span: call.callSite, macro: origin, message: `${macroLabel(call.kind, name)} (package \`${origin.package}\`) could not be expanded: ${(error as Error).message}` };
		out.call(origin, file, location, input, undefined, undefined);
		out.diagnostic(failed, renderer);
		return [failed];
	}
	const output = result.outcome === 'replace' && result.tokens !== undefined ? printTokens(result.tokens) : undefined;
	out.call(origin, file, location, input, result.outcome, output);
	const diagnostics = result.diagnostics.map((d) => inFile(fromMacroDiagnostic(d, call.callSite, origin), file));
	const problem = result.outcome === 'replace' && result.tokens !== undefined ? checkTokenStream(result.tokens) : undefined;
	if (problem !== undefined) diagnostics.push(inFile(invalidOutput(origin, problem, call.callSite), file));
	for (const d of diagnostics) out.diagnostic(d, renderer);
	return diagnostics;
}

function send(host: MacroCaller, call: CallAtPlace): Promise<ExpandResult> {
	const { callSite, provider } = call;
	switch (call.kind) {
		case 'inline':
			return host.expandInline({ name: call.name, args: call.args, callSite, library: provider.library });
		case 'attribute':
			return host.expandAttribute({ name: call.name, args: call.args, item: call.item, callSite, library: provider.library });
		case 'derive':
			return host.expandDerive({ derives: [...call.derives], item: call.item, callSite, library: provider.library });
	}
}

/** The file as given: absolute, else inside the project when it is there, else relative to the working directory. */
function findSource(root: string, file: string): string {
	if (isAbsolute(file)) return file;
	const inProject = join(root, file);
	return existsSync(inProject) ? inProject : resolve(file);
}

/** What a call was given, printed: the arguments (inline and attribute calls) and the item (attribute and derive calls). */
interface CallInput {
	readonly args?: string;
	readonly item?: string;
}

/** Prints in the chosen format: people get sections on stdout and rendered diagnostics on stderr; tools get JSON lines on stdout. */
class Reporter {
	constructor(
		private readonly io: CliIo,
		private readonly format: 'human' | 'json',
	) {}

	call(origin: MacroOrigin, file: string, at: { line: number; column: number } | undefined, input: CallInput, outcome: ExpandResult['outcome'] | undefined, output: string | undefined): void {
		const place = at === undefined ? file : `${file}:${at.line}:${at.column}`;
		if (this.format === 'json') {
			this.io.out(`${JSON.stringify({ type: 'call', macro: origin, file, line: at?.line ?? null, column: at?.column ?? null, input, outcome: outcome ?? null, output: output ?? null })}\n`);
			return;
		}
		const indent = (text: string): string => (text === '' ? '    (nothing)' : text.replace(/^/gm, '    '));
		const lines = [`${macroLabel(origin.kind, origin.name)} (package \`${origin.package}\`) at ${place}`];
		if (input.args !== undefined) lines.push('args:', indent(input.args));
		if (input.item !== undefined) lines.push('item:', indent(input.item));
		if (outcome !== undefined) lines.push(`outcome: ${outcome}`);
		if (output !== undefined) lines.push('output:', indent(output));
		this.io.out(`${lines.join('\n')}\n`);
	}

	diagnostic(d: DriverDiagnostic, renderer: DiagnosticRenderer): void {
		if (this.format === 'json') this.io.out(`${renderer.json(d)}\n`);
		else this.io.err(renderer.human(d));
	}

	summary(calls: number, errors: number): void {
		if (this.format === 'json') this.io.out(`${JSON.stringify({ type: 'summary', calls, errors })}\n`);
	}

	/** The project could not be built or loaded: its errors as expand-project reports them, exit 1. */
	loadFailure(error: unknown): number {
		if (this.format === 'human') return this.fail(describeLoadError(error).join('\nerror: '));
		const records = loadErrorRecords(error);
		for (const record of records) this.io.out(`${JSON.stringify(record)}\n`);
		this.io.out(`${JSON.stringify({ type: 'summary', calls: 0, ...countRecords(records) })}\n`);
		return ExitCode.failure;
	}

	/** A failure before any call ran: an error line (or a JSON diagnostic), exit 1. */
	fail(message: string): number {
		if (this.format === 'json') {
			this.io.out(`${JSON.stringify({ type: 'diagnostic', severity: 'error', code: null, message, rendered: `error: ${message}\n` })}\n`);
		} else {
			this.io.err(`error: ${message}\n`);
		}
		return ExitCode.failure;
	}
}
