/**
 * Diagnostics for people and for tools.
 *
 * People get rustc's layout: the severity (and macro-host's code) with the message's first line, an
 * arrow to `file:line:col`, the source line under a gutter of line numbers, a caret underline, and
 * the message's further lines as notes. Columns count characters, so multi-byte UTF-8 before a span
 * does not shift them. Color (ANSI) only when asked; {@link shouldUseColor} says when: on a terminal,
 * and never with NO_COLOR set.
 *
 * Tools get one JSON object per line (`--message-format json`), with the same text in `rendered`.
 */
import { LineIndex } from '../../tokens/line-index.js';
import type { DriverDiagnostic } from '../../expansion/diagnostics.js';

/** Whether to color output: only on a terminal, and never when NO_COLOR is set to a non-empty value (no-color.org). */
export function shouldUseColor(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
	if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
	return stream.isTTY === true;
}

const RESET = '\x1b[0m';
const BOLD = '\x1b[1m';
const BLUE = '\x1b[1;34m';
const SEVERITY_COLOR = { error: '\x1b[1;31m', warning: '\x1b[1;33m', note: '\x1b[1;32m' } as const;

/** Where a span starts and ends, as people count. */
export interface ResolvedLocation {
	/** 1-based line of the span's start. */
	line: number;
	/** 1-based column (characters) of the span's start. */
	column: number;
	/** Line and column of the span's end (exclusive). */
	endLine: number;
	endColumn: number;
	/** The text of the start line. */
	lineText: string;
}

/** Renders diagnostics against the sources they point into; build one per run. */
export class DiagnosticRenderer {
	private readonly indexes = new Map<string, LineIndex>();

	/** @param sources the text of each file, by the display path diagnostics carry. */
	constructor(
		private readonly sources: ReadonlyMap<string, string>,
		private readonly color = false,
	) {}

	/** Line and column of a diagnostic's span; undefined without a span or the file's text. */
	locate(diagnostic: DriverDiagnostic): ResolvedLocation | undefined {
		if (diagnostic.file === undefined || diagnostic.span === undefined) return undefined;
		const index = this.index(diagnostic.file);
		if (index === undefined) return undefined;
		const start = index.lookup(diagnostic.span.start);
		const end = index.lookup(Math.max(diagnostic.span.start, diagnostic.span.end));
		return { line: start.line, column: start.column, endLine: end.line, endColumn: end.column, lineText: start.lineText };
	}

	/** The diagnostic as rustc lays one out, ending with a blank line. */
	human(diagnostic: DriverDiagnostic): string {
		return this.layout(diagnostic, this.color);
	}

	private layout(diagnostic: DriverDiagnostic, color: boolean): string {
		const paint = (style: string, text: string): string => (color && text !== '' ? `${style}${text}${RESET}` : text);
		const severityStyle = SEVERITY_COLOR[diagnostic.severity];
		const [headline, ...details] = diagnostic.message.split('\n');
		const label = diagnostic.code === undefined ? diagnostic.severity : `${diagnostic.severity}[${diagnostic.code}]`;
		const lines = [`${paint(severityStyle, label)}${paint(BOLD, `: ${headline}`)}`];

		const at = this.locate(diagnostic);
		const gutter = ' '.repeat(at === undefined ? 1 : String(at.line).length);
		if (at !== undefined) {
			lines.push(`${gutter}${paint(BLUE, '-->')} ${diagnostic.file}:${at.line}:${at.column}`);
			lines.push(`${gutter} ${paint(BLUE, '|')}`);
			lines.push(`${paint(BLUE, `${at.line} |`)} ${at.lineText}`.trimEnd());
			lines.push(`${gutter} ${paint(BLUE, '|')} ${caretPadding(at.lineText, at.column)}${paint(severityStyle, '^'.repeat(caretCount(at)))}`);
		} else if (diagnostic.file !== undefined) {
			lines.push(`${gutter}${paint(BLUE, '-->')} ${diagnostic.file}`);
		} else if (diagnostic.package !== undefined) {
			lines.push(`${gutter}${paint(BLUE, '-->')} post-process step of package \`${diagnostic.package}\``);
		}
		details.forEach((line, i) => {
			if (i === 0) {
				const text = /^(help|note): /.test(line) ? line : `note: ${line}`;
				lines.push(`${gutter} ${paint(BLUE, '=')} ${text}`);
			} else {
				lines.push(`${gutter}   ${line}`.trimEnd());
			}
		});
		return `${lines.join('\n')}\n\n`;
	}

	/** The diagnostic as one JSON object (no trailing newline), with its uncolored rendering. */
	json(diagnostic: DriverDiagnostic): string {
		const at = this.locate(diagnostic);
		return JSON.stringify({
			type: 'diagnostic',
			severity: diagnostic.severity,
			code: diagnostic.code ?? null,
			message: diagnostic.message,
			file: diagnostic.file ?? null,
			span: diagnostic.span ?? null,
			line: at?.line ?? null,
			column: at?.column ?? null,
			endLine: at?.endLine ?? null,
			endColumn: at?.endColumn ?? null,
			macro: diagnostic.macro ?? null,
			package: diagnostic.package ?? diagnostic.macro?.package ?? null,
			rendered: this.layout(diagnostic, false),
		});
	}

	private index(file: string): LineIndex | undefined {
		let index = this.indexes.get(file);
		if (index === undefined) {
			const text = this.sources.get(file);
			if (text === undefined) return undefined;
			index = new LineIndex(text);
			this.indexes.set(file, index);
		}
		return index;
	}
}

/**
 * Blanks under the characters before `column`, as wide as they show: tabs stay tabs, wide (East Asian,
 * emoji) characters take two spaces, combining marks none, so the caret lines up under its character.
 */
function caretPadding(lineText: string, column: number): string {
	let pad = '';
	let seen = 0;
	for (const ch of lineText) {
		if (++seen >= column) break;
		pad += ch === '\t' ? '\t' : ' '.repeat(displayWidth(ch.codePointAt(0)!));
	}
	return pad;
}

/** Carets under the span's characters on its first line (two for a wide one); at least one. */
function caretCount(at: ResolvedLocation): number {
	const last = at.endLine === at.line ? at.endColumn : Infinity;
	let width = 0;
	let column = 0;
	for (const ch of at.lineText) {
		column++;
		if (column < at.column) continue;
		if (column >= last) break;
		width += ch === '\t' ? 1 : displayWidth(ch.codePointAt(0)!);
	}
	return Math.max(1, width);
}

/** Terminal columns a character takes: 0 for combining marks, 2 for wide ones, else 1. */
function displayWidth(cp: number): number {
	if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || cp === 0xfe0f) return 0;
	const isWide =
		(cp >= 0x1100 && cp <= 0x115f) ||
		(cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
		(cp >= 0xac00 && cp <= 0xd7a3) ||
		(cp >= 0xf900 && cp <= 0xfaff) ||
		(cp >= 0xfe30 && cp <= 0xfe4f) ||
		(cp >= 0xff00 && cp <= 0xff60) ||
		(cp >= 0xffe0 && cp <= 0xffe6) ||
		(cp >= 0x1f300 && cp <= 0x1f64f) ||
		(cp >= 0x1f900 && cp <= 0x1f9ff) ||
		(cp >= 0x20000 && cp <= 0x3fffd);
	return isWide ? 2 : 1;
}

/** "2 files, 6 expansions, 1 error, 0 warnings". */
export function formatSummary(summary: { files: number; expansions: number; errors: number; warnings: number }): string {
	const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
	return `${count(summary.files, 'file')}, ${count(summary.expansions, 'expansion')}, ${count(summary.errors, 'error')}, ${count(summary.warnings, 'warning')}`;
}
