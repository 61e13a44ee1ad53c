/**
 * Calls into Scarb macro libraries, v1 and v2, in the order Scarb's host does
 * (scarb/src/compiler/plugin/proc_macro/v2/ffi.rs, `generate_code`): build the input, call
 * `expand`, copy the output text out of the macro's arena first of all, copy the rest of the result,
 * hand it to `free_result`, then read it as Scarb's host reads a result:
 * - an empty output removes the call or the item (inline, attribute) or generates nothing (derive);
 * - an attribute whose output is its input, with no aux data, leaves the item;
 * - any other output replaces (for a derive: code added after the item).
 * Diagnostics keep their severity; a v2 diagnostic's span comes back through the call's frame, a
 * v1 diagnostic points at the call site. A result the host cannot trust is a bail, never a throw.
 */
import koffi from 'koffi';
import type { Diagnostic } from '../../protocol/expand.js';
import type { ExpandInput, Expansion, MacroEntry, TokenSink } from '../library-model.js';
import { bail, badResult, checkResultSize, MAX_RESULT_DIAGNOSTICS, MAX_RESULT_TEXT_BYTES } from '../result-checks.js';
import { collectAuxData, toAuxData } from './aux-data.js';
import { frameOf, ScarbInputBuilder } from './input-streams.js';
import { OutputRecords } from './output-records.js';
import { copyV1Output, copyV2Output, OutputBuffers, toRecords, type CopiedOutput } from './output-streams.js';
import type { SpanFrame } from './span-frame.js';
import {
	StableSeverity,
	StableTypes,
	type RawResult,
	type StableFunctions,
	type StableFunctionsV1,
	type StableFunctionsV2,
} from './stable-abi.js';

/** A macro of a Scarb library. */
export interface ScarbMacroEntry extends MacroEntry {
	/** An executable attribute: Scarb never calls it; it marks an item and leaves it. */
	executable: boolean;
}

/** What a result holds besides its tokens, copied out of library memory. */
interface ResultRest {
	diagnostics: { message: string; severity: number; span?: [number, number] }[];
	auxData?: Buffer;
	markers: string[];
}

// A valid, aligned address for empty slices the host passes (a Rust Vec's empty slice is never NULL).
const DANGLING = Buffer.allocUnsafeSlow(16);
const DANGLING_ADDRESS = Number(koffi.address(DANGLING));

/** Calls Scarb macros. One per host: it owns reusable input buffers, and koffi calls never overlap. */
export class ScarbExpander {
	private readonly attr = new ScarbInputBuilder();
	private readonly item = new ScarbInputBuilder();
	private readonly copies = new OutputBuffers();
	private readonly output = new OutputRecords();

	/** One call of a v2 macro. */
	expandV2(fns: StableFunctionsV2, macro: ScarbMacroEntry, input: ExpandInput, who: string, sink?: TokenSink): Expansion {
		if (macro.executable) return { outcome: 'leave', diagnostics: [] };
		const { frame, delimited } = this.frame(macro, input);
		const item = this.item.build(mainStream(macro, input), frame, delimited).v2();
		const args = attributeArgs(macro, input);
		const attr = this.attr.build(args, frameOf(args, undefined, true), args !== undefined).v2();
		const wrapper = fns.expand(macro.nameBytes, frame.adaptedCallSite, attr, item);
		// wrapper.input and wrapper.input_attr are the host's own buffers, reused by the next call.
		// The output text lives in the macro's arena until its next expand_v2: copy it before anything
		// else. Its spans are read in place, so the answer is made before free_result_v2.
		const prefix = { frame, input: this.item, out: this.output };
		const copy = () => copyV2Output(wrapper.output.token_stream.tokens, who, this.copies, prefix);
		return this.answerAndFree(fns, wrapper.output, StableTypes.v2.StableDiagnostic, copy, macro, frame, who, sink);
	}

	/** One call of a v1 macro. */
	expandV1(fns: StableFunctionsV1, macro: ScarbMacroEntry, input: ExpandInput, who: string, sink?: TokenSink): Expansion {
		if (macro.executable) return { outcome: 'leave', diagnostics: [] };
		const { frame, delimited } = this.frame(macro, input);
		const item = this.item.build(mainStream(macro, input), frame, delimited).v1();
		const args = attributeArgs(macro, input);
		const attr = this.attr.build(args, frame, args !== undefined).v1();
		const wrapper = fns.expand(macro.nameBytes, attr, item);
		// v1 diagnostics and output have no spans: everything is at the call site (no frame).
		const copy = () => copyV1Output(wrapper.output.token_stream.value);
		return this.answerAndFree(fns, wrapper.output, StableTypes.v1.StableDiagnostic, copy, macro, undefined, who, sink);
	}

	/**
	 * Runs the library's post-process callback over the aux data its expansions returned (each entry
	 * an expansion's auxData). Markers go with an empty full path: the host has no compiler to
	 * resolve them. Scarb's callbacks return nothing, so the only diagnostics are the host's own.
	 */
	postProcess(fns: StableFunctions<unknown>, version: 1 | 2, auxData: readonly unknown[], who: string): Diagnostic[] {
		const { data, markers, foreign } = collectAuxData(auxData);
		const keep: Buffer[] = [];
		const entries = Buffer.alloc(Math.max(1, data.length) * 24);
		data.forEach((bytes, i) => {
			const copy = Buffer.allocUnsafeSlow(Math.max(1, bytes.length));
			bytes.copy(copy);
			keep.push(copy);
			// StableOption::Some: a u8 tag in v2, a C-int tag in v1; the slice at offset 8.
			if (version === 2) entries.writeUInt8(1, i * 24);
			else entries.writeUInt32LE(1, i * 24);
			entries.writeBigUInt64LE(koffi.address(copy), i * 24 + 8);
			entries.writeBigUInt64LE(BigInt(bytes.length), i * 24 + 16);
		});
		const empty = Buffer.from([0]);
		const pairs = Buffer.alloc(Math.max(1, markers.length) * 16);
		markers.forEach((key, i) => {
			const cKey = Buffer.from(`${key}\0`, 'utf8');
			keep.push(cKey);
			pairs.writeBigUInt64LE(koffi.address(cKey), i * 16);
			pairs.writeBigUInt64LE(koffi.address(empty), i * 16 + 8);
		});
		const context = {
			aux_data: { ptr: data.length ? Number(koffi.address(entries)) : DANGLING_ADDRESS, len: data.length },
			full_path_markers: { ptr: markers.length ? Number(koffi.address(pairs)) : DANGLING_ADDRESS, len: markers.length },
		};
		// The callback hands the context back; it is the host's memory, released with these buffers.
		fns.postProcessCallback(context);
		keep.length = 0;
		if (foreign.length === 0) return [];
		return [badResult(`${who}: aux data entries ${foreign.join(', ')} are not Scarb aux data from this library; they were skipped`, 'warning')];
	}

	private frame(macro: ScarbMacroEntry, input: ExpandInput): { frame: SpanFrame; delimited: boolean } {
		const delimited = macro.kind === 'inline';
		return { frame: frameOf(mainStream(macro, input), input.callSite, delimited), delimited };
	}

	/**
	 * Copies the output, then diagnostics, aux data and markers out of the result, answers, and frees
	 * the result (always, even when a copy fails or the answer throws).
	 */
	private answerAndFree<S>(
		fns: StableFunctions<S>,
		output: RawResult<S>,
		diagnosticType: unknown,
		copy: () => CopiedOutput | string,
		macro: ScarbMacroEntry,
		frame: SpanFrame | undefined,
		who: string,
		sink: TokenSink | undefined,
	): Expansion {
		try {
			const copied = copy();
			const rest = readRest(output, diagnosticType, who);
			if (typeof copied === 'string') return bail(copied);
			if (typeof rest === 'string') return bail(rest);
			return this.answer(macro, copied, frame, rest, who, sink);
		} finally {
			fns.freeResult(output);
		}
	}

	private answer(
		macro: ScarbMacroEntry,
		copied: CopiedOutput,
		frame: SpanFrame | undefined,
		rest: ResultRest,
		who: string,
		sink: TokenSink | undefined,
	): Expansion {
		const diagnostics: Diagnostic[] = rest.diagnostics.map((d) => {
			const diagnostic: Diagnostic = { severity: d.severity === StableSeverity.error ? 'error' : 'warning', message: d.message };
			const span = d.span && frame ? frame.diagnosticSpan(d.span[0], d.span[1]) : undefined;
			if (span) diagnostic.span = span;
			return diagnostic;
		});
		const auxData = toAuxData(rest.auxData, rest.markers);
		const expansion: Expansion = { outcome: 'replace', diagnostics };
		if (auxData !== undefined) expansion.auxData = auxData;
		// No token (v2), or an empty string (v1).
		if (copied.ends.length === 0) {
			expansion.outcome = macro.kind === 'derive' ? 'leave' : 'remove';
			return expansion;
		}
		if (macro.kind === 'attribute' && rest.auxData === undefined && copied.bytes.equals(this.item.textBytes())) {
			expansion.outcome = 'leave';
			return expansion;
		}
		// The item builder still holds the input the macro was given (v1 has no frame: nothing to match).
		const records = toRecords(copied, frame, who, this.output, frame ? this.item : undefined);
		if (typeof records === 'string') return bail(records);
		const written = sink && records.byteLength + copied.bytes.length >= sink.minBytes ? sink.write(records, copied.bytes) : undefined;
		// Copied out of the reused buffer, and the text made a string, only when no sink took them
		// (toRecords checked the text is UTF-8).
		if (written !== undefined) expansion.written = written;
		else expansion.tokens = { text: copied.bytes.toString('utf8'), records: records.slice() };
		return expansion;
	}
}

/** The stream Scarb passes as the `item` argument: an inline call's arguments, else the item. */
function mainStream(macro: MacroEntry, input: ExpandInput): ExpandInput['item'] {
	return macro.kind === 'inline' ? input.args : input.item;
}

/** An attribute's arguments, when it has any (`#[name]` passes an empty stream). */
function attributeArgs(macro: MacroEntry, input: ExpandInput): ExpandInput['args'] {
	return macro.kind === 'attribute' && input.args !== undefined && input.args.records.length > 0 ? input.args : undefined;
}

function readRest<S>(output: RawResult<S>, diagnosticType: unknown, who: string): ResultRest | string {
	const count = output.diagnostics.len;
	const tooMany = checkResultSize(`${who} result`, count, 'diagnostics', MAX_RESULT_DIAGNOSTICS);
	if (tooMany !== undefined) return tooMany;
	if (count > 0 && output.diagnostics.ptr === 0) return `${who} returned ${count} diagnostics at a NULL pointer`;
	const raw = count > 0 ? (koffi.decode(output.diagnostics.ptr, diagnosticType as never, count) as RawDiagnostic[]) : [];
	const diagnostics: ResultRest['diagnostics'] = [];
	for (const d of raw) {
		const message = readCString(d.message);
		const one: ResultRest['diagnostics'][number] = { message, severity: d.severity };
		if (d.spans && d.spans.len > 0 && d.spans.ptr !== 0) {
			const span = koffi.decode(d.spans.ptr, StableTypes.StableTextSpan) as { start: number; end: number };
			one.span = [span.start, span.end];
		}
		diagnostics.push(one);
	}
	const rest: ResultRest = { diagnostics, markers: [] };
	if (output.aux_data.tag === 1) {
		const { ptr, len } = output.aux_data.value;
		const tooBig = checkResultSize(`${who} aux data`, len, 'bytes', MAX_RESULT_TEXT_BYTES);
		if (tooBig !== undefined) return tooBig;
		if (len > 0 && ptr === 0) return `${who} returned ${len} bytes of aux data at a NULL pointer`;
		rest.auxData = len > 0 ? Buffer.from(koffi.view(ptr, len).slice(0)) : Buffer.alloc(0);
	}
	const markers = output.full_path_markers;
	const tooManyMarkers = checkResultSize(`${who} result`, markers.len, 'full-path markers', MAX_RESULT_DIAGNOSTICS);
	if (tooManyMarkers !== undefined) return tooManyMarkers;
	if (markers.len > 0) {
		if (markers.ptr === 0) return `${who} returned ${markers.len} full-path markers at a NULL pointer`;
		for (const address of koffi.decode(markers.ptr, 'uintptr_t', markers.len) as number[]) rest.markers.push(readCString(address));
	}
	return rest;
}

/** A StableDiagnostic of either version as koffi decodes it (v1 has no spans). */
interface RawDiagnostic {
	message: number;
	severity: number;
	spans?: { ptr: number; len: number };
}

/** A C string the library owns, copied (NULL reads as empty, as upstream's host reads it). */
export function readCString(address: number): string {
	return address === 0 ? '' : (koffi.decode(address, 'char', -1) as string);
}
