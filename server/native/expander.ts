/**
 * Calls into a library of our own ABI: marshals a request, calls mh_expand (or mh_post_process),
 * copies the result out, checks it, and frees it. Token streams stay flat both ways: records go in as
 * one Uint32Array, text as one UTF-8 buffer, and come back as one copied Uint32Array plus one string.
 *
 * Knows nothing of the wire (no vscode-jsonrpc): dispatch.ts translates. A macro's Bail, and a
 * result the host cannot trust, are answers (outcome "bail" with diagnostics), never exceptions.
 */
import { isUtf8 } from 'node:buffer';
import koffi from 'koffi';
import type { BulkRef } from '../../protocol/bulk.js';
import { Outcome, type Diagnostic } from '../../protocol/expand.js';
import { RECORD_WIDTH, SPAN_CALL_SITE, type TokenStream } from '../../protocol/token-stream.js';
import type { ExpandInput, Expansion, FlatTokenStream, MacroEntry, MappedTokenStream, TokenSink } from '../library-model.js';
import {
	bail,
	checkDiagnostics,
	checkOutput,
	checkResultSize,
	checkStringSize,
	decodeResultText,
	MAX_RESULT_TOKENS,
	parseAuxData,
	type TextRead,
} from '../result-checks.js';
import {
	MhDiagnostic,
	TOKEN_RECORD_BYTES,
	toNumber,
	type Address,
	type LibraryFunctions,
	type RawDiagnostic,
	type RawResult,
	type RawSpan,
	type RawStr,
	type RawTokenStream,
} from './abi.js';
import { RequestMemory, ResultReader, type StreamMemory } from './call-memory.js';

const MH_OUTCOME_REPLACE = 1;
const CALL_SITE: RawSpan = { start: SPAN_CALL_SITE, end: SPAN_CALL_SITE };
/**
 * Typed records up to this size are copied into the scratch buffer, larger ones are passed where they
 * lie: a small typed array may live on V8's heap, where the collector could move it before the call.
 */
const COPY_RECORDS_BYTES = 64 * 1024;

/** Calls macros. One instance per host: it owns reusable input buffers, so calls must not overlap (they cannot: koffi calls are synchronous). */
export class Expander {
	private readonly argsScratch = new StreamScratch();
	private readonly itemScratch = new StreamScratch();
	private readonly request = new RequestMemory();
	private readonly results = new ResultReader();

	/**
	 * Expands one call of `macro` in the library `functions` belong to; a large output goes to `sink`
	 * when one is given. `who` names the macro in diagnostics.
	 */
	expand(functions: LibraryFunctions, macro: MacroEntry, input: ExpandInput, who: string, sink?: TokenSink): Expansion {
		const args = input.args ? this.argsScratch.marshal(input.args) : undefined;
		const item = input.item ? this.itemScratch.marshal(input.item) : undefined;
		const callSite = input.callSite ?? CALL_SITE;
		const request = this.request.write(macro.abiKind, macro.nameBytes, args, item, callSite.start, callSite.end);
		return this.readResult(functions.expand(request), functions, who, sink);
	}

	/** Calls the library's mh_post_process with the JSON array of aux data; returns its diagnostics. */
	postProcess(functions: LibraryFunctions, auxData: readonly unknown[], who: string): Diagnostic[] {
		const fn = functions.postProcess;
		if (!fn) return [];
		const json = Buffer.from(JSON.stringify(auxData), 'utf8');
		const result = fn({ ptr: json.length ? json : null, len: json.length });
		return this.readResult(result, functions, who).diagnostics;
	}

	/** Copies what the host needs out of a result, checks it, and frees it. */
	private readResult(pointer: Address, functions: LibraryFunctions, who: string, sink?: TokenSink): Expansion {
		if (pointer === null) return bail(`${who} returned no result (NULL)`);
		try {
			const raw = this.results.header(pointer);
			const outcome = Outcome.fromAbi[raw.outcome];
			if (outcome === undefined) return bail(`${who} returned unknown outcome ${raw.outcome}`);
			const diagnostics = this.readDiagnostics(raw, who);
			if (typeof diagnostics === 'string') return bail(diagnostics);
			const expansion: Expansion = { outcome, diagnostics };
			if (raw.outcome === MH_OUTCOME_REPLACE) {
				const tokens = this.readTokens(raw.tokens, who, sink);
				if (typeof tokens === 'string') return bail(tokens);
				if ('slot' in tokens) expansion.written = tokens;
				else expansion.tokens = tokens;
			}
			if (raw.aux_data.ptr !== null) {
				const aux = this.readString(raw.aux_data, `${who} aux data`);
				if (aux.error !== undefined) return bail(aux.error);
				const parsed = parseAuxData(aux.text, who);
				if (typeof parsed === 'string') return bail(parsed);
				expansion.auxData = parsed.value;
			}
			return expansion;
		} finally {
			functions.freeResult(pointer);
		}
	}

	private readTokens(raw: RawTokenStream, who: string, sink: TokenSink | undefined): FlatTokenStream | BulkRef | string {
		const len = toNumber(raw.len);
		const textLen = toNumber(raw.text_len);
		if (len > 0 && raw.tokens === null) return `${who} returned ${len} output tokens at a NULL pointer`;
		const tooMany = checkResultSize(`${who} output`, len, 'tokens', MAX_RESULT_TOKENS);
		if (tooMany !== undefined) return tooMany;
		if (sink !== undefined && len > 0 && len * TOKEN_RECORD_BYTES + textLen >= sink.minBytes) {
			const written = this.writeTokens(raw, len, textLen, who, sink);
			if (written !== undefined) return written;
		}
		// One copy of all records out of library memory, which mh_free_result is about to release.
		const records = len > 0 ? this.results.records(raw.tokens!, len) : new Uint32Array(0);
		const text = this.readString({ ptr: raw.text, len: textLen }, `${who} output text`);
		if (text.error !== undefined) return text.error;
		return checkOutput(records, textLen, who) ?? { text: text.text, records };
	}

	/**
	 * Checks an output where it lies in library memory and hands it to the sink; undefined when the
	 * sink could not take it (the caller copies it out instead). Same checks as the copying path.
	 */
	private writeTokens(raw: RawTokenStream, len: number, textLen: number, who: string, sink: TokenSink): BulkRef | string | undefined {
		const what = `${who} output text`;
		const text = stringView({ ptr: raw.text, len: textLen }, what);
		if (typeof text === 'string') return text;
		if (!isUtf8(text)) return `${what} is not valid UTF-8`;
		const records = new Uint32Array(koffi.view(raw.tokens, len * TOKEN_RECORD_BYTES));
		return checkOutput(records, textLen, who) ?? sink.write(records, text);
	}

	private readDiagnostics(raw: RawResult, who: string): Diagnostic[] | string {
		const count = toNumber(raw.diagnostics_len);
		// Decoded on the first read, which comes after the count was checked.
		let decoded: RawDiagnostic[] | undefined;
		return checkDiagnostics(count, raw.diagnostics === null, who, (i) => {
			decoded ??= koffi.decode(raw.diagnostics, MhDiagnostic, count) as RawDiagnostic[];
			const d = decoded[i];
			return {
				severity: d.severity,
				start: d.span.start,
				end: d.span.end,
				messageLength: toNumber(d.message.len),
				readMessage: (what) => this.readString(d.message, what),
			};
		});
	}

	/** Copies an mh_str out of library memory as text, or says what is wrong with it. */
	private readString(raw: RawStr, what: string): TextRead {
		const len = toNumber(raw.len);
		if (len === 0) return { text: '' };
		const problem = checkStringSize(raw.ptr === null, len, what);
		if (problem !== undefined) return { error: problem };
		return decodeResultText(this.results.bytes(raw.ptr!, len), what);
	}
}

/** Reusable input buffers for one stream slot (args or item): after warm-up a call allocates nothing for its input. */
class StreamScratch {
	// Off-heap (allocUnsafeSlow), so their addresses stay put.
	private records = new Uint32Array(Buffer.allocUnsafeSlow(4096).buffer);
	private text = Buffer.allocUnsafeSlow(4096);

	marshal(stream: TokenStream): StreamMemory {
		const count = stream.records.length;
		let records: Uint32Array | null = null;
		if (count > 0) {
			if (stream.records instanceof Uint32Array && stream.records.byteLength > COPY_RECORDS_BYTES) {
				records = stream.records;
			} else {
				if (count > this.records.length) this.records = new Uint32Array(Buffer.allocUnsafeSlow(Math.max(count, this.records.length * 2) * 4).buffer);
				this.records.set(stream.records);
				records = this.records;
			}
		}
		const utf8 = (stream as Partial<MappedTokenStream>).utf8;
		if (utf8 !== undefined) {
			return { tokens: records, len: count / RECORD_WIDTH, text: utf8.byteLength > 0 ? utf8 : null, textLen: utf8.byteLength };
		}
		const bytes = Buffer.byteLength(stream.text, 'utf8');
		if (bytes > this.text.length) this.text = Buffer.allocUnsafeSlow(Math.max(bytes, this.text.length * 2));
		if (bytes > 0) this.text.write(stream.text, 0, bytes, 'utf8');
		return { tokens: records, len: count / RECORD_WIDTH, text: bytes > 0 ? this.text : null, textLen: bytes };
	}
}

/** The bytes of an mh_str in library memory (no copy), or what is wrong with it: NULL with a length, or too long. */
function stringView(raw: RawStr, what: string): Uint8Array | string {
	const len = toNumber(raw.len);
	if (len === 0) return new Uint8Array(0);
	return checkStringSize(raw.ptr === null, len, what) ?? new Uint8Array(koffi.view(raw.ptr, len));
}
