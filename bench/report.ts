/**
 * The bench's results: one Row per measurement, printed as a table with ours/theirs ratios and
 * written as JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Summary } from './stats.js';

/** One line of the table. Every summary is in the row's unit. */
export interface Row {
	/** Stable key, e.g. "round-trip/echo/20000". */
	id: string;
	/** What is measured, for people. */
	title: string;
	/** "ms" (lower is better) or "/s" (higher is better). */
	unit: 'ms' | '/s' | 'x';
	/** macro-host with JSON bodies. */
	json?: Summary;
	/** macro-host with msgpack bodies. */
	msgpack?: Summary;
	/** The in-process floor (no RPC), or another baseline named in `floorLabel`. */
	floor?: Summary;
	/** What `floor` is, when it is not the in-process call (e.g. "node -e 0"). */
	floorLabel?: string;
	/** rust-analyzer's proc-macro server; undefined when it was skipped or has no equivalent. */
	theirs?: Summary;
	/** Why `theirs` is absent. */
	theirsNote?: string;
	/** The target from the issue, as text, and whether it is met (undefined when it cannot be judged). */
	target?: { text: string; met: boolean | undefined };
	/** Anything a reader must know to trust the row. */
	note?: string;
}

/** Everything one run produced. */
export interface BenchReport {
	startedAt: string;
	quick: boolean;
	machine: Machine;
	raServer: { path?: string; apiVersion?: number; skipped?: string };
	rows: Row[];
}

/** Where the numbers were taken. */
export interface Machine {
	cpus: number;
	cpuModel: string;
	node: string;
	platform: string;
}

/** ours / theirs for a row's main (json) number; for throughput rows (higher is better) theirs / ours, so below 1 is always better. */
export function ratio(row: Row, ours: Summary | undefined = row.json): number | undefined {
	if (!ours || !row.theirs || row.theirs.median === 0 || ours.median === 0) return undefined;
	return row.unit === '/s' ? row.theirs.median / ours.median : ours.median / row.theirs.median;
}

/** The table as text, one row per line, columns padded. */
export function formatTable(rows: readonly Row[]): string {
	const header = ['row', 'macro-host json', 'macro-host msgpack', 'floor / baseline', 'rust-analyzer', 'json/RA', 'msgpack/RA', 'target', 'met'];
	const lines = rows.map((row) => rowCells(row, 'NO'));
	const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
	const pad = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join(' | ').trimEnd();
	const out = [pad(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...lines.map(pad)];
	const notes = rows.filter((r) => r.note).map((r) => `- ${r.title}: ${r.note}`);
	return [...out, ...(notes.length ? ['', 'Notes:', ...notes] : [])].join('\n');
}

/** One row's cells, in header order; `unmet` is how a missed target reads in that format. */
function rowCells(row: Row, unmet: string): string[] {
	return [
		row.title,
		cell(row.json, row.unit),
		cell(row.msgpack, row.unit),
		row.floor ? `${cell(row.floor, row.unit)}${row.floorLabel ? ` (${row.floorLabel})` : ''}` : '',
		row.theirs ? cell(row.theirs, row.unit) : (row.theirsNote ?? ''),
		formatRatio(ratio(row)),
		formatRatio(ratio(row, row.msgpack)),
		row.target?.text ?? '',
		row.target ? (row.target.met === undefined ? '?' : row.target.met ? 'yes' : unmet) : '',
	];
}

/** The same table in Markdown, for docs/performance.md. */
export function formatMarkdown(rows: readonly Row[]): string {
	const header = '| row | macro-host json | macro-host msgpack | floor / baseline | rust-analyzer | json/RA | msgpack/RA | target | met |';
	const rule = '|---|---|---|---|---|---|---|---|---|';
	const lines = rows.map((row) => `| ${rowCells(row, '**no**').join(' | ')} |`);
	return [header, rule, ...lines].join('\n');
}

/** Writes the report as pretty JSON, creating the directory. */
export function writeReport(path: string, report: BenchReport): void {
	mkdirSync(dirname(path), { recursive: true });
	writeFileSync(path, JSON.stringify(report, null, '\t') + '\n');
}

function cell(summary: Summary | undefined, unit: Row['unit']): string {
	if (!summary) return '';
	if (summary.n === 1) return `${num(summary.median)} ${unit}`;
	return `${num(summary.median)} ${unit} (${num(summary.min)}–${num(summary.max)})`;
}

function formatRatio(value: number | undefined): string {
	return value === undefined ? '' : `${value.toFixed(2)}×`;
}

/** Three significant digits, no exponent. */
function num(value: number): string {
	if (value >= 100) return Math.round(value).toLocaleString('en-US');
	if (value >= 10) return value.toFixed(1);
	if (value >= 1) return value.toFixed(2);
	return value.toFixed(3);
}
