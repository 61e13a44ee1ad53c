/**
 * Where keys, values and table headers sit in a TOML text, so that semantic manifest errors (a missing field, a wrong
 * type, a bad path) can point at `file:line:col` as precisely as syntax errors do.
 *
 * smol-toml returns plain objects without positions, so this is a small second scanner over a text that smol-toml has
 * already accepted: it only has to follow valid TOML (headers, dotted and quoted keys, the four string forms, inline
 * tables and arrays, comments) and never reports errors of its own.
 */

/** A 1-based line and column (columns count UTF-16 code units, as editors do for ASCII manifests). */
export interface TextPosition {
	line: number;
	column: number;
}

/** What is known about one key path. Paths of array elements and `[[array]]` tables use the index as a segment. */
export interface KeyLocation {
	/** The `[table]` or `[[table]]` header that opened this table. */
	header?: TextPosition;
	/** The key itself (`name` in `name = "x"`; for a dotted key, its first segment that defines this path). */
	key?: TextPosition;
	/** The start of the value. */
	value?: TextPosition;
}

/** Positions of everything in one TOML text. */
export class TomlLocations {
	private readonly entries = new Map<string, KeyLocation>();
	private readonly lineStarts: number[] = [0];

	constructor(private readonly text: string) {
		for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
		new Scanner(text, (path, what, offset) => this.record(path, what, offset)).run();
	}

	/** Everything recorded for a path, or undefined when the text never mentions it. */
	get(path: readonly string[]): KeyLocation | undefined {
		return this.entries.get(pathKey(path));
	}

	/**
	 * The best position to blame for `path`: its value, else its key, else its header; for a path the text does not
	 * contain, the nearest enclosing table that it does contain (a missing key points at its table's header), and 1:1
	 * as the last resort.
	 */
	locate(path: readonly string[], prefer: 'value' | 'key' = 'value'): TextPosition {
		for (let n = path.length; n > 0; n--) {
			const entry = this.get(path.slice(0, n));
			if (!entry) continue;
			const pos = prefer === 'value' ? (entry.value ?? entry.key ?? entry.header) : (entry.key ?? entry.header ?? entry.value);
			if (pos) return pos;
		}
		return { line: 1, column: 1 };
	}

	/** Converts a character offset of the text to a position. */
	positionAt(offset: number): TextPosition {
		let lo = 0;
		let hi = this.lineStarts.length - 1;
		while (lo < hi) {
			const mid = (lo + hi + 1) >> 1;
			if (this.lineStarts[mid]! <= offset) lo = mid;
			else hi = mid - 1;
		}
		return { line: lo + 1, column: offset - this.lineStarts[lo]! + 1 };
	}

	private record(path: string[], what: keyof KeyLocation, offset: number): void {
		const key = pathKey(path);
		let entry = this.entries.get(key);
		if (!entry) this.entries.set(key, (entry = {}));
		// The first mention wins: it is where the reader first sees the thing defined.
		if (entry[what] === undefined) entry[what] = this.positionAt(offset);
	}
}

function pathKey(path: readonly string[]): string {
	return path.join('\u0000');
}

type Recorder = (path: string[], what: keyof KeyLocation, offset: number) => void;

/** A forward-only scanner over valid TOML that reports positions through `record`. */
class Scanner {
	private i = 0;
	private table: string[] = [];
	private readonly arrayTableCounts = new Map<string, number>();

	constructor(
		private readonly s: string,
		private readonly record: Recorder,
	) {}

	run(): void {
		const s = this.s;
		while (this.i < s.length) {
			this.skipTrivia(true);
			if (this.i >= s.length) break;
			const start = this.i;
			if (s.startsWith('[[', this.i)) {
				this.i += 2;
				const path = this.parseKey().map((k) => k.name);
				this.skipTrivia(false);
				this.i += 2; // ]]
				const count = this.arrayTableCounts.get(pathKey(path)) ?? 0;
				this.arrayTableCounts.set(pathKey(path), count + 1);
				this.record(path, 'header', start);
				this.table = [...path, String(count)];
				this.record(this.table, 'header', start);
			} else if (s[this.i] === '[') {
				this.i += 1;
				const path = this.parseKey().map((k) => k.name);
				this.skipTrivia(false);
				this.i += 1; // ]
				this.table = path;
				// `[a.b.c]` also defines `a` and `a.b` when nothing did before: blame them here too.
				for (let n = 1; n <= path.length; n++) this.record(path.slice(0, n), 'header', start);
			} else {
				this.parseKeyValue(this.table);
			}
			this.skipLine();
		}
	}

	/** `key.path = value`, recording each dotted prefix and the value under `prefix`. */
	private parseKeyValue(prefix: string[]): void {
		const keys = this.parseKey();
		const path = [...prefix];
		for (const key of keys) {
			path.push(key.name);
			this.record([...path], 'key', key.offset);
		}
		this.skipTrivia(false);
		this.i += 1; // =
		this.skipTrivia(false);
		this.parseValue(path);
	}

	private parseValue(path: string[]): void {
		const s = this.s;
		this.record(path, 'value', this.i);
		const c = s[this.i];
		if (c === '{') {
			this.i += 1;
			for (;;) {
				this.skipTrivia(true);
				if (s[this.i] === '}') {
					this.i += 1;
					return;
				}
				if (s[this.i] === ',') {
					this.i += 1;
					continue;
				}
				if (this.i >= s.length) return;
				this.parseKeyValue(path);
			}
		} else if (c === '[') {
			this.i += 1;
			let index = 0;
			for (;;) {
				this.skipTrivia(true);
				if (s[this.i] === ']') {
					this.i += 1;
					return;
				}
				if (s[this.i] === ',') {
					this.i += 1;
					continue;
				}
				if (this.i >= s.length) return;
				this.parseValue([...path, String(index++)]);
			}
		} else if (c === '"' || c === "'") {
			this.parseString();
		} else {
			// Numbers, booleans and dates end at the first delimiter.
			while (this.i < s.length && !/[,\]}\s#]/.test(s[this.i]!)) this.i++;
			// Offset date-times may contain one space between date and time.
			if (s[this.i] === ' ' && /^\d/.test(s[this.i + 1] ?? '') && /\d{4}-\d{2}-\d{2}$/.test(s.slice(Math.max(0, this.i - 10), this.i))) {
				this.i++;
				while (this.i < s.length && !/[,\]}\s#]/.test(s[this.i]!)) this.i++;
			}
		}
	}

	/** A dotted key; each part with its decoded name and the offset where it starts. */
	private parseKey(): { name: string; offset: number }[] {
		const s = this.s;
		const keys: { name: string; offset: number }[] = [];
		for (;;) {
			this.skipTrivia(false);
			const offset = this.i;
			if (s[this.i] === '"' || s[this.i] === "'") {
				keys.push({ name: this.parseString(), offset });
			} else {
				const start = this.i;
				while (this.i < s.length && /[A-Za-z0-9_-]/.test(s[this.i]!)) this.i++;
				keys.push({ name: s.slice(start, this.i), offset });
			}
			this.skipTrivia(false);
			if (s[this.i] !== '.') return keys;
			this.i += 1;
		}
	}

	/** Any of the four string forms; returns the decoded value (escapes resolved well enough for key names). */
	private parseString(): string {
		const s = this.s;
		const quote = s[this.i]!;
		const multi = s.startsWith(quote.repeat(3), this.i);
		const delimiter = multi ? quote.repeat(3) : quote;
		this.i += delimiter.length;
		let out = '';
		while (this.i < s.length) {
			if (s.startsWith(delimiter, this.i)) {
				this.i += delimiter.length;
				// A multi-line string may end with up to two extra quotes that belong to its content.
				while (multi && s[this.i] === quote) {
					out += quote;
					this.i++;
				}
				return out;
			}
			const ch = s[this.i]!;
			if (ch === '\\' && quote === '"') {
				const next = s[this.i + 1] ?? '';
				const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '"': '"', '\\': '\\', e: '\x1b' };
				if (next in simple) {
					out += simple[next];
					this.i += 2;
				} else if (next === 'u' || next === 'U' || next === 'x') {
					const len = next === 'u' ? 4 : next === 'U' ? 8 : 2;
					out += String.fromCodePoint(parseInt(s.slice(this.i + 2, this.i + 2 + len), 16));
					this.i += 2 + len;
				} else {
					// A line-ending backslash in a multi-line string trims the following whitespace.
					this.i += 1;
					while (this.i < s.length && /\s/.test(s[this.i]!)) this.i++;
				}
				continue;
			}
			out += ch;
			this.i++;
		}
		return out;
	}

	/** Skips spaces, tabs and comments; with `newlines`, line breaks too. */
	private skipTrivia(newlines: boolean): void {
		const s = this.s;
		while (this.i < s.length) {
			const c = s[this.i]!;
			if (c === ' ' || c === '\t' || (newlines && (c === '\n' || c === '\r'))) this.i++;
			else if (c === '#') while (this.i < s.length && s[this.i] !== '\n') this.i++;
			else break;
		}
	}

	/** Skips the rest of the current line (a trailing comment). */
	private skipLine(): void {
		this.skipTrivia(false);
		while (this.i < this.s.length && this.s[this.i] !== '\n') this.i++;
	}
}
