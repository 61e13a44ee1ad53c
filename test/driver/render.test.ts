/** Diagnostic rendering: rustc's layout, columns after multi-byte UTF-8, JSON lines, color and NO_COLOR. */
import { describe, expect, it } from 'vitest';
import { DiagnosticRenderer, formatSummary, shouldUseColor, type DriverDiagnostic } from '../../dist/client/driver/index.js';

const SOURCE = 'fn f() {\n    let s = "héllo wörld 日本"; complain!(zz, 1);\n}\n';
// Byte offsets: é, ö are 2 bytes and 日, 本 3 bytes each, so `zz` starts at byte 55 but column 41.
const ZZ = Buffer.from(SOURCE).indexOf('zz');

const diagnostic: DriverDiagnostic = {
	severity: 'error',
	message: 'complain: I object to this argument',
	file: 'src/lib.cairo',
	span: { start: ZZ, end: ZZ + 2 },
	macro: { kind: 'inline', name: 'complain', package: 'nest_macros' },
};

describe('DiagnosticRenderer', () => {
	const renderer = new DiagnosticRenderer(new Map([['src/lib.cairo', SOURCE]]));

	it('maps byte spans to line and column counted in characters after multi-byte UTF-8', () => {
		expect(ZZ).toBe(55);
		expect(renderer.locate(diagnostic)).toEqual({ line: 2, column: 41, endLine: 2, endColumn: 43, lineText: '    let s = "héllo wörld 日本"; complain!(zz, 1);' });
	});

	it('renders like rustc: headline, arrow to file:line:col, the line, carets under the span (wide characters count two)', () => {
		expect(renderer.human(diagnostic)).toBe(
			'error: complain: I object to this argument\n' +
				' --> src/lib.cairo:2:41\n' +
				'  |\n' +
				'2 |     let s = "héllo wörld 日本"; complain!(zz, 1);\n' +
				// 40 characters before `zz`, two of them two columns wide.
				`  | ${' '.repeat(42)}^^\n\n`,
		);
	});

	it('shows macro-host codes, detail lines as notes, spans over several lines to the end of the first', () => {
		const crash: DriverDiagnostic = {
			severity: 'error',
			code: 'host-crash',
			message: 'Attribute macro `crash` crashed the macro host: the host was killed by SIGSEGV (Segmentation fault).\nHost stderr:\nline one\nline two',
			file: 'src/lib.cairo',
			span: { start: 0, end: 20 },
		};
		expect(renderer.human(crash)).toBe(
			'error[host-crash]: Attribute macro `crash` crashed the macro host: the host was killed by SIGSEGV (Segmentation fault).\n' +
				' --> src/lib.cairo:1:1\n' +
				'  |\n' +
				'1 | fn f() {\n' +
				'  | ^^^^^^^^\n' +
				'  = note: Host stderr:\n' +
				'    line one\n' +
				'    line two\n\n',
		);
	});

	it('a post-process diagnostic names its package instead of a place', () => {
		expect(renderer.human({ severity: 'note', message: 'tally saw 2 calls', package: 'nest_macros' })).toBe(
			'note: tally saw 2 calls\n --> post-process step of package `nest_macros`\n\n',
		);
	});

	it('tabs before the span stay tabs under it, so the caret lines up', () => {
		const tabbed = new DiagnosticRenderer(new Map([['t.cairo', '\tx\ty']]));
		expect(tabbed.human({ severity: 'warning', message: 'w', file: 't.cairo', span: { start: 3, end: 4 } })).toBe('warning: w\n --> t.cairo:1:4\n  |\n1 | \tx\ty\n  | \t \t^\n\n');
	});

	it('JSON: one object per diagnostic with line and column, the macro, and the rendered text', () => {
		expect(JSON.parse(renderer.json(diagnostic))).toEqual({
			type: 'diagnostic',
			severity: 'error',
			code: null,
			message: 'complain: I object to this argument',
			file: 'src/lib.cairo',
			span: { start: 55, end: 57 },
			line: 2,
			column: 41,
			endLine: 2,
			endColumn: 43,
			macro: { kind: 'inline', name: 'complain', package: 'nest_macros' },
			package: 'nest_macros',
			rendered: renderer.human(diagnostic),
		});
	});

	it('colors only when asked: severity, arrows and gutter in ANSI colors', () => {
		const colored = new DiagnosticRenderer(new Map([['src/lib.cairo', SOURCE]]), true).human(diagnostic);
		expect(colored).toContain('\x1b[1;31merror\x1b[0m\x1b[1m: complain: I object to this argument\x1b[0m');
		expect(colored).toContain('\x1b[1;34m-->\x1b[0m src/lib.cairo:2:41');
		expect(colored.replace(/\x1b\[[0-9;]*m/g, '')).toBe(renderer.human(diagnostic));
		expect(JSON.parse(new DiagnosticRenderer(new Map([['src/lib.cairo', SOURCE]]), true).json(diagnostic)).rendered).not.toContain('\x1b[');
	});
});

describe('shouldUseColor', () => {
	it('colors on a terminal only, and never with NO_COLOR set (an empty NO_COLOR does not count)', () => {
		expect(shouldUseColor({ isTTY: true }, {})).toBe(true);
		expect(shouldUseColor({ isTTY: false }, {})).toBe(false);
		expect(shouldUseColor({}, {})).toBe(false);
		expect(shouldUseColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
		expect(shouldUseColor({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
	});
});

describe('formatSummary', () => {
	it('counts files, expansions, errors and warnings, in the singular for one', () => {
		expect(formatSummary({ files: 2, expansions: 7, errors: 1, warnings: 0 })).toBe('2 files, 7 expansions, 1 error, 0 warnings');
		expect(formatSummary({ files: 1, expansions: 1, errors: 0, warnings: 1 })).toBe('1 file, 1 expansion, 0 errors, 1 warning');
	});
});
