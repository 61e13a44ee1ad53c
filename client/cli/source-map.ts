/**
 * The inputs of one `expand` laid out in one span space, and diagnostics rendered against them.
 *
 * The input (a file or stdin) occupies bytes [0, n); `--args` text, when the input is also given,
 * starts one byte after it, so every span names exactly one of them and maps back to its own
 * FILE:line:col.
 */
import { SPAN_CALL_SITE } from '../../protocol/token-stream.js';
import type { Diagnostic, Span } from '../../protocol/expand.js';
import { LineIndex } from '../../tokens/line-index.js';

/** One named input text placed at `base` in the span space. */
export interface SourceFile {
	/** The name diagnostics print: the input path, `<stdin>` or `<args>`. */
	name: string;
	text: string;
	/** Span of its first byte. */
	base: number;
	/** Its line table. */
	lines: LineIndex;
}

/** Every input of one expansion, and the call site diagnostics without a span point to. */
export class SourceMap {
	private readonly files: SourceFile[] = [];

	/** Adds a text at the end of the span space (one byte after the last one) and returns it. */
	add(name: string, text: string): SourceFile {
		const last = this.files[this.files.length - 1];
		const base = last === undefined ? 0 : last.base + last.lines.byteLength + 1;
		const file = { name, text, base, lines: new LineIndex(text) };
		this.files.push(file);
		return file;
	}

	/** `FILE:line:col` of a span start. */
	locate(offset: number): string {
		let file = this.files[0];
		for (const f of this.files) if (f.base <= offset) file = f;
		const { line, column } = file.lines.lookup(offset - file.base);
		return `${file.name}:${line}:${column}`;
	}

	/**
	 * A diagnostic as rustc prints one: `error: message` and ` --> FILE:line:col`. A diagnostic
	 * without a span (or with the generated-span value) points to `callSite`; with no call site
	 * either (post-processing concerns the whole run) it has no location line.
	 */
	format(diagnostic: Pick<Diagnostic, 'severity' | 'message' | 'span'>, callSite: Span | undefined): string {
		const span = diagnostic.span !== undefined && diagnostic.span.start !== SPAN_CALL_SITE ? diagnostic.span : callSite;
		// A message of several lines (a crash report with the host's stderr) keeps its first line as the
		// headline; the location follows it, then the rest of the lines.
		const [first, ...rest] = diagnostic.message.split('\n');
		const location = span === undefined || this.files.length === 0 ? '' : ` --> ${this.locate(span.start)}\n`;
		const details = rest.length === 0 ? '' : `${rest.join('\n')}\n`;
		return `${diagnostic.severity}: ${first}\n${location}${details}`;
	}
}
