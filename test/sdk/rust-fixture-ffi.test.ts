/**
 * Loads librust_macros.so (built from test/fixtures/rust with the Rust SDK) into this process with
 * koffi and calls its C entry points directly, as the host does: struct layouts must agree with
 * the C compiler's, results must decode, and a panic must come back as BAIL instead of crashing.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUST_FIXTURE_LIBRARY } from '../fixtures/rust/build.js';

const CALL_SITE = 0xffffffff;
const headerDir = fileURLToPath(new URL('../../sdk/c/', import.meta.url));
const layoutSource = fileURLToPath(new URL('./abi-layout.c', import.meta.url));
const abiDoc = readFileSync(new URL('../../docs/abi.md', import.meta.url), 'utf8');

// Pointers are `void *` so koffi hands them back as addresses instead of reading C strings.
const mh_str = koffi.struct('sdk_test_mh_str', { ptr: 'void *', len: 'size_t' });
const mh_span = koffi.struct('sdk_test_mh_span', { start: 'uint32_t', end: 'uint32_t' });
const mh_token = koffi.struct('sdk_test_mh_token', {
	kind: 'uint32_t',
	flags: 'uint32_t',
	text_off: 'uint32_t',
	text_len: 'uint32_t',
	span_start: 'uint32_t',
	span_end: 'uint32_t',
});
const mh_token_stream = koffi.struct('sdk_test_mh_token_stream', {
	tokens: 'void *',
	len: 'size_t',
	text: 'void *',
	text_len: 'size_t',
});
const mh_request = koffi.struct('sdk_test_mh_request', {
	kind: 'uint32_t',
	name: mh_str,
	args: mh_token_stream,
	item: mh_token_stream,
	call_site: mh_span,
});
const mh_diagnostic = koffi.struct('sdk_test_mh_diagnostic', { severity: 'uint32_t', span: mh_span, message: mh_str });
const mh_result = koffi.struct('sdk_test_mh_result', {
	outcome: 'uint32_t',
	tokens: mh_token_stream,
	aux_data: mh_str,
	diagnostics: 'void *',
	diagnostics_len: 'size_t',
});
const koffiTypes: Record<string, TypeObject> = {
	mh_str,
	mh_span,
	mh_token,
	mh_token_stream,
	mh_request,
	mh_diagnostic,
	mh_result,
};

interface CLayout {
	size: number;
	align: number;
	fields: Record<string, number>;
}

interface RawStr {
	ptr: unknown;
	len: number | bigint;
}
interface RawStream {
	tokens: unknown;
	len: number | bigint;
	text: unknown;
	text_len: number | bigint;
}
interface RawResult {
	outcome: number;
	tokens: RawStream;
	aux_data: RawStr;
	diagnostics: unknown;
	diagnostics_len: number | bigint;
}
interface RawDiagnostic {
	severity: number;
	span: { start: number; end: number };
	message: RawStr;
}

/** A result copied out of library memory, as the host would. */
interface Expansion {
	outcome: number;
	/** Tokens printed with a space unless the JOINT flag is set. */
	code: string;
	records: number[];
	auxData: string | undefined;
	diagnostics: { severity: number; start: number; end: number; message: string }[];
}

let layouts: Record<string, CLayout>;
let workDir: string;
let lib: LibraryHandle;
let mhAbiVersion: () => number;
let mhManifest: () => RawStr;
let mhExpand: (request: unknown) => unknown;
let mhFreeResult: (result: unknown) => void;
let mhPostProcess: (aux: unknown) => unknown;

beforeAll(async () => {
	workDir = mkdtempSync(join(tmpdir(), 'macro-host-sdk-test-'));
	const exe = join(workDir, 'abi-layout');
	await execa('gcc', ['-std=c11', '-Wall', '-Werror', '-I', headerDir, layoutSource, '-o', exe]);
	layouts = JSON.parse((await execa(exe)).stdout) as Record<string, CLayout>;

	lib = koffi.load(RUST_FIXTURE_LIBRARY);
	mhAbiVersion = lib.func('uint32_t mh_abi_version(void)');
	mhManifest = lib.func('mh_manifest', mh_str, []);
	mhExpand = lib.func('mh_expand', 'void *', [koffi.pointer(mh_request)]);
	mhFreeResult = lib.func('mh_free_result', 'void', ['void *']);
	mhPostProcess = lib.func('mh_post_process', 'void *', [mh_str]);
});

afterAll(() => {
	lib?.unload();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function decodeText(ptr: unknown, len: number | bigint): string {
	const n = Number(len);
	if (n === 0) return '';
	return Buffer.from(koffi.decode(ptr, 'uint8_t', n) as Uint8Array).toString('utf8');
}

/** A stream from space-separated tokens of a virtual source (spans are offsets in `source`). */
function stream(source: string): { tokens: Uint32Array | null; len: number; text: Buffer | null; text_len: number } {
	const records: number[] = [];
	let text = '';
	for (const m of source.matchAll(/\S+/g)) {
		const word = m[0];
		const kind = /^[A-Za-z_]/.test(word) ? 0 : /^["'0-9]/.test(word) ? 2 : 1;
		const off = Buffer.byteLength(text);
		const start = Buffer.byteLength(source.slice(0, m.index));
		records.push(kind, 0, off, Buffer.byteLength(word), start, start + Buffer.byteLength(word));
		text += word;
	}
	const count = records.length / 6;
	return {
		tokens: count ? new Uint32Array(records) : null,
		len: count,
		text: text ? Buffer.from(text) : null,
		text_len: Buffer.byteLength(text),
	};
}

function copyResult(pointer: unknown): Expansion {
	expect(pointer).not.toBeNull();
	const raw = koffi.decode(pointer, mh_result) as RawResult;
	const count = Number(raw.tokens.len);
	const records = count ? Array.from(koffi.decode(raw.tokens.tokens, 'uint32_t', count * 6) as Uint32Array) : [];
	const text = Buffer.from(decodeText(raw.tokens.text, raw.tokens.text_len));
	let code = '';
	for (let i = 0; i < records.length; i += 6) {
		code += text.subarray(records[i + 2], records[i + 2] + records[i + 3]).toString('utf8');
		if (i + 6 < records.length && (records[i + 1] & 1) === 0) code += ' ';
	}
	const diagnostics = [];
	for (let i = 0; i < Number(raw.diagnostics_len); i++) {
		const d = koffi.decode(raw.diagnostics, koffi.sizeof(mh_diagnostic) * i, mh_diagnostic) as RawDiagnostic;
		diagnostics.push({
			severity: d.severity,
			start: d.span.start,
			end: d.span.end,
			message: decodeText(d.message.ptr, d.message.len),
		});
	}
	const auxData = raw.aux_data.ptr === null ? undefined : decodeText(raw.aux_data.ptr, raw.aux_data.len);
	const expansion = { outcome: raw.outcome, code, records, auxData, diagnostics };
	mhFreeResult(pointer);
	return expansion;
}

function expand(kind: number, name: string, args: string, item = ''): Expansion {
	const nameBytes = Buffer.from(name);
	return copyResult(
		mhExpand({
			kind,
			name: { ptr: nameBytes, len: nameBytes.length },
			args: stream(args),
			item: stream(item),
			call_site: { start: 0, end: 100 },
		}),
	);
}

const INLINE = 0;
const ATTRIBUTE = 1;
const DERIVE = 2;
const LEAVE = 0;
const REPLACE = 1;
const BAIL = 3;
const ERROR = 0;
const NOTE = 2;

describe('ABI struct layout', () => {
	it('koffi lays out every struct as gcc does', () => {
		expect(Object.keys(layouts)).toEqual(Object.keys(koffiTypes));
		for (const [name, layout] of Object.entries(layouts)) {
			const type = koffiTypes[name];
			expect({ name, size: koffi.sizeof(type), align: koffi.alignof(type) }).toEqual({
				name,
				size: layout.size,
				align: layout.align,
			});
			for (const [field, offset] of Object.entries(layout.fields)) {
				expect({ name, field, offset: koffi.offsetof(type, field) }).toEqual({ name, field, offset });
			}
		}
		expect(layouts.mh_token.size).toBe(24);
	});

	it('docs/abi.md gives the same sizes and offsets as gcc', () => {
		const documented: Record<string, CLayout> = {};
		let current: CLayout | undefined;
		for (const line of abiDoc.split('\n')) {
			const heading = /^### `(mh_\w+)`: (\d+) bytes, align (\d+)/.exec(line);
			if (heading) {
				current = { size: Number(heading[2]), align: Number(heading[3]), fields: {} };
				documented[heading[1]] = current;
				continue;
			}
			const row = /^\| (\d+) \| \d+ \| `(\w+)` \|/.exec(line);
			if (row && current) current.fields[row[2]] = Number(row[1]);
		}
		expect(documented).toEqual(layouts);
	});
});

describe('librust_macros.so called in-process', () => {
	it('reports ABI version 1 and a manifest of every fixture macro', () => {
		expect(mhAbiVersion()).toBe(1);
		const m = mhManifest();
		const manifest = JSON.parse(decodeText(m.ptr, m.len)) as { name: string; kind: string; doc: string }[];
		expect(manifest.map(({ name, kind }) => `${kind} ${name}`)).toEqual([
			'inline add',
			'inline bang_panic',
			'inline rust_prints_stdout',
			'inline count_aux',
			'attribute instrument',
			'derive ToValue',
			'derive Describe',
			'inline noop',
		]);
		expect(manifest[0].doc).toBe('`add!(a, b)` expands to `(a) + (b)`.');
	});

	it('expands add!(a, 1) to (a) + (1), keeping the arguments\' spans', () => {
		const out = expand(INLINE, 'add', 'a , 1');
		expect(out).toMatchObject({ outcome: REPLACE, code: '(a) + (1)', auxData: undefined, diagnostics: [] });
		// `(` generated, `a` from the source (span 0..1), `)` `+` `(` generated, `1` from 4..5, `)`.
		const spans = [];
		for (let i = 0; i < out.records.length; i += 6) spans.push([out.records[i + 4], out.records[i + 5]]);
		expect(spans).toEqual([
			[CALL_SITE, CALL_SITE],
			[0, 1],
			[CALL_SITE, CALL_SITE],
			[CALL_SITE, CALL_SITE],
			[CALL_SITE, CALL_SITE],
			[4, 5],
			[CALL_SITE, CALL_SITE],
		]);
	});

	it('bails from add! with one argument', () => {
		expect(expand(INLINE, 'add', 'a')).toEqual({
			outcome: BAIL,
			code: '',
			records: [],
			auxData: undefined,
			diagnostics: [
				{ severity: ERROR, start: CALL_SITE, end: CALL_SITE, message: 'add! takes two arguments separated by a comma' },
			],
		});
	});

	it('turns the panic of bang_panic into BAIL with the panic message', () => {
		expect(expand(INLINE, 'bang_panic', 'x').diagnostics).toEqual([
			{ severity: ERROR, start: CALL_SITE, end: CALL_SITE, message: 'macro `bang_panic` panicked: boom at the macro' },
		]);
		expect(expand(INLINE, 'bang_panic', '').outcome).toBe(BAIL);
		// The library still works after a panic.
		expect(expand(INLINE, 'add', 'b , 2').code).toBe('(b) + (2)');
	});

	it('bails on an unknown macro name and on a wrong kind', () => {
		expect(expand(INLINE, 'nope', '').diagnostics[0].message).toBe(
			'this library has no macro named `nope` (called as an inline macro); it provides: ' +
				'add, bang_panic, rust_prints_stdout, count_aux, instrument, ToValue, Describe, noop',
		);
		expect(expand(ATTRIBUTE, 'add', '', 'fn f ( ) { }').diagnostics[0].message).toBe(
			'macro `add` is an inline macro, but was called as an attribute macro',
		);
	});

	it('leaves with aux data for count_aux and with nothing for noop', () => {
		expect(expand(INLINE, 'count_aux', 'a , b')).toMatchObject({
			outcome: LEAVE,
			auxData: '{"macro":"count_aux","args":3}',
		});
		expect(expand(INLINE, 'noop', 'a')).toEqual({
			outcome: LEAVE,
			code: '',
			records: [],
			auxData: undefined,
			diagnostics: [],
		});
	});

	it('instruments a function body', () => {
		expect(expand(ATTRIBUTE, 'instrument', '', 'fn f ( x : u32 ) { g ( x ) ; }').code).toBe(
			'fn f ( x : u32 ) { println!("enter f"); g ( x ) ; println!("exit f"); }',
		);
		expect(expand(ATTRIBUTE, 'instrument', '', 'struct S ;').diagnostics[0].message).toBe(
			'#[instrument] expects a function with a body',
		);
	});

	it('derives ToValue and Describe', () => {
		expect(expand(DERIVE, 'ToValue', '', 'struct Point { x : u32 }').code).toBe(
			'impl ToValue for Point { fn to_value(self) -> felt252 { 0 } }',
		);
		expect(expand(DERIVE, 'Describe', '', 'enum Color { Red }').code).toBe(
			'impl Describe for Color { fn describe() -> ByteArray { "Color" } }',
		);
		expect(expand(DERIVE, 'Describe', '', 'fn f ( ) { }').diagnostics[0].message).toBe(
			'derive(Describe) expects a struct or an enum',
		);
	});

	it('post-processes a JSON array of aux values', () => {
		const aux = Buffer.from('[{"macro":"count_aux","args":3},{"a":[1,2]},7]');
		const out = copyResult(mhPostProcess({ ptr: aux, len: aux.length }));
		expect(out).toMatchObject({
			outcome: LEAVE,
			diagnostics: [{ severity: NOTE, start: CALL_SITE, end: CALL_SITE, message: 'rust post-process saw 3 aux values' }],
		});
		const bad = Buffer.from('[1,');
		expect(copyResult(mhPostProcess({ ptr: bad, len: bad.length })).diagnostics[0].message).toBe(
			'post_process: the aux data is not a JSON array: expected a JSON value at the end of the text',
		);
	});
});
