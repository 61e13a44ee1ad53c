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
import type { DriverDiagnostic } from '../../expansion/diagnostics.js';

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
	 * A diagnostic placed in the input its span falls in, with the span made relative to that input, ready for
	 * the driver's renderer (rustc's layout: source line and carets). A diagnostic without a span (or with the
	 * generated-span value) points to `callSite`; with no call site either (post-processing concerns the whole
	 * run) it names no input.
	 */
	place(diagnostic: Pick<Diagnostic, 'severity' | 'message' | 'span'>, callSite: Span | undefined): DriverDiagnostic {
		const span = diagnostic.span !== undefined && diagnostic.span.start !== SPAN_CALL_SITE ? diagnostic.span : callSite;
		const base = { severity: diagnostic.severity, message: diagnostic.message };
		if (span === undefined || this.files.length === 0) return base;
		let file = this.files[0]!;
		for (const f of this.files) if (f.base <= span.start) file = f;
		return { ...base, file: file.name, span: { start: span.start - file.base, end: Math.max(span.start, span.end) - file.base } };
	}

	/** The text of every input, by name: what the renderer shows lines from. */
	texts(): Map<string, string> {
		return new Map(this.files.map((f) => [f.name, f.text]));
	}
}
