/**
 * Shape checks for inbound params, at the edge: each validator returns the params typed, or throws
 * an InvalidParamsError whose message names the method, the field and what was wrong with it.
 * Token streams are also checked against their text (validateTokenStream) before any library sees them.
 */
import type {
	ExpandAttributeParams,
	ExpandDeriveParams,
	ExpandInlineParams,
	PostProcessParams,
	Span,
} from '../protocol/expand.js';
import type { InitializeParams } from '../protocol/handshake.js';
import type { LoadLibraryParams } from '../protocol/library.js';
import { checkBulkRef, isBulkTokenStream } from '../protocol/bulk.js';
import { BatchMethod, type BatchCall } from '../protocol/batch.js';
import { MAX_RECURSION_LIMIT, type ExpandSourceParams, type SourcePackage } from '../protocol/expand-source.js';
import type { MacroKind } from '../protocol/library.js';
import {
	ExpandAttributeRequest,
	ExpandBatchRequest,
	ExpandDeriveRequest,
	ExpandInlineRequest,
	ExpandSourceRequest,
	InitializeRequest,
	LoadLibraryRequest,
	PostProcessRequest,
} from '../protocol/methods.js';
import { validateTokenStream, type TokenStream } from '../protocol/token-stream.js';
import { BulkReadError, type BulkSlots } from './bulk-slots.js';

/** Params that do not have the shape the method needs. dispatch.ts answers it with InvalidParams. */
export class InvalidParamsError extends Error {
	override readonly name = 'InvalidParamsError';
}

type Fields = Record<string, unknown>;

/** initialize: the shape, and the bulk offer's fields; the version itself is compared by dispatch (VersionMismatch). */
export function validateInitializeParams(params: unknown): InitializeParams {
	const m = InitializeRequest.method;
	const p = object(m, params);
	if (p.bulk !== undefined) {
		const bulk = p.bulk;
		if (bulk === null || typeof bulk !== 'object' || Array.isArray(bulk)) throw invalid(m, 'bulk', 'must be an object {dir, minBytes}', bulk);
		const b = bulk as Fields;
		string(m, b, 'dir', 'bulk.dir');
		const minBytes = b.minBytes;
		if (typeof minBytes !== 'number' || !Number.isSafeInteger(minBytes) || minBytes < 0) {
			throw invalid(m, 'bulk.minBytes', 'must be a non-negative integer number of bytes', minBytes);
		}
	}
	if (p.markCalls !== undefined && typeof p.markCalls !== 'boolean') throw invalid(m, 'markCalls', 'must be true or false', p.markCalls);
	return p as unknown as InitializeParams;
}

export function validateLoadLibraryParams(params: unknown): LoadLibraryParams {
	const m = LoadLibraryRequest.method;
	const p = object(m, params);
	return { path: string(m, p, 'path') };
}

/**
 * The expand validators take the session's bulk slots (undefined when the client did not offer any):
 * a stream sent as a slot reference is read from there, and refused when there are none.
 */
export function validateExpandInlineParams(params: unknown, bulk?: BulkSlots): ExpandInlineParams {
	const m = ExpandInlineRequest.method;
	const p = object(m, params);
	return { name: string(m, p, 'name'), args: tokenStream(m, p, 'args', bulk), ...common(m, p) };
}

export function validateExpandAttributeParams(params: unknown, bulk?: BulkSlots): ExpandAttributeParams {
	const m = ExpandAttributeRequest.method;
	const p = object(m, params);
	return { name: string(m, p, 'name'), args: tokenStream(m, p, 'args', bulk), item: tokenStream(m, p, 'item', bulk), ...common(m, p) };
}

export function validateExpandDeriveParams(params: unknown, bulk?: BulkSlots): ExpandDeriveParams {
	const m = ExpandDeriveRequest.method;
	const p = object(m, params);
	const derives = p.derives;
	if (!Array.isArray(derives) || derives.length === 0) {
		throw invalid(m, 'derives', 'must be a non-empty array of derive names', derives);
	}
	derives.forEach((d, i) => {
		if (typeof d !== 'string' || d === '') throw invalid(m, `derives[${i}]`, 'must be a non-empty string', d);
	});
	return { derives: derives as string[], item: tokenStream(m, p, 'item', bulk), ...common(m, p) };
}

/**
 * expandBatch: the list and each call's method; each call's params are checked by its own method's
 * validator when it is served, so a bad call answers its own error and the others still run.
 */
export function validateExpandBatchParams(params: unknown): { calls: BatchCall[]; id: number | undefined } {
	const m = ExpandBatchRequest.method;
	const p = object(m, params);
	const calls = p.calls;
	if (!Array.isArray(calls)) throw invalid(m, 'calls', 'must be an array of calls {method, params}', calls);
	calls.forEach((call, i) => {
		if (call === null || typeof call !== 'object' || Array.isArray(call)) throw invalid(m, `calls[${i}]`, 'must be a call {method, params}', call);
		const method = (call as Fields).method;
		if (!BatchMethod.is(method)) throw invalid(m, `calls[${i}].method`, `must be one of ${BatchMethod.all.join(', ')}`, method);
	});
	const id = p.id;
	if (id !== undefined && (!isU32(id) || id === 0)) throw invalid(m, 'id', 'must be an integer from 1 to 4294967295', id);
	return { calls: calls as BatchCall[], id };
}

/** expandSource: the text, the packages (each library must be loaded, which the registry checks per call), the options, the progress id. */
export function validateExpandSourceParams(params: unknown): ExpandSourceParams {
	const m = ExpandSourceRequest.method;
	const p = object(m, params);
	if (typeof p.text !== 'string') throw invalid(m, 'text', 'must be a string', p.text);
	if (!Array.isArray(p.packages)) throw invalid(m, 'packages', 'must be an array of packages {name, library, macros}', p.packages);
	const packages = p.packages.map((value, i) => sourcePackage(m, value, `packages[${i}]`));
	const limit = p.recursionLimit;
	if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_RECURSION_LIMIT) {
		throw invalid(m, 'recursionLimit', `must be an integer from 1 to ${MAX_RECURSION_LIMIT}`, limit);
	}
	if (typeof p.checkOutput !== 'boolean') throw invalid(m, 'checkOutput', 'must be true or false', p.checkOutput);
	const id = p.id;
	if (id !== undefined && (!isU32(id) || id === 0)) throw invalid(m, 'id', 'must be an integer from 1 to 4294967295', id);
	return { text: p.text, packages, recursionLimit: limit, checkOutput: p.checkOutput, ...(id === undefined ? {} : { id }) };
}

const MACRO_KINDS: readonly MacroKind[] = ['inline', 'attribute', 'derive'];

function sourcePackage(method: string, value: unknown, field: string): SourcePackage {
	const p = object(method, value, field);
	const name = string(method, p, 'name', `${field}.name`);
	const library = string(method, p, 'library', `${field}.library`);
	if (!Array.isArray(p.macros)) throw invalid(method, `${field}.macros`, 'must be an array of macros {name, kind}', p.macros);
	const macros = p.macros.map((macro, j) => {
		const q = object(method, macro, `${field}.macros[${j}]`);
		const kind = q.kind as MacroKind;
		if (!MACRO_KINDS.includes(kind)) throw invalid(method, `${field}.macros[${j}].kind`, `must be one of ${MACRO_KINDS.join(', ')}`, q.kind);
		return { name: string(method, q, 'name', `${field}.macros[${j}].name`), kind };
	});
	return { name, library, macros };
}

export function validatePostProcessParams(params: unknown): PostProcessParams {
	const m = PostProcessRequest.method;
	const p = object(m, params);
	if (!Array.isArray(p.auxData)) throw invalid(m, 'auxData', 'must be an array of aux data values', p.auxData);
	return { library: string(m, p, 'library'), auxData: p.auxData };
}

function object(method: string, params: unknown, field?: string): Fields {
	if (params === null || typeof params !== 'object' || Array.isArray(params)) {
		throw new InvalidParamsError(`${method}: params${field === undefined ? '' : `.${field}`} must be an object, got ${describe(params)}`);
	}
	return params as Fields;
}

function string(method: string, p: Fields, field: string, shown = field): string {
	const value = p[field];
	if (typeof value !== 'string' || value === '') throw invalid(method, shown, 'must be a non-empty string', value);
	return value;
}

/** callSite and library, both optional. */
function common(method: string, p: Fields): { callSite?: Span; library?: string } {
	const out: { callSite?: Span; library?: string } = {};
	if (p.library !== undefined) out.library = string(method, p, 'library');
	if (p.callSite !== undefined) out.callSite = span(method, p.callSite, 'callSite');
	return out;
}

function span(method: string, value: unknown, field: string): Span {
	if (value === null || typeof value !== 'object' || Array.isArray(value)) {
		throw invalid(method, field, 'must be a span {start, end}', value);
	}
	const { start, end } = value as { start?: unknown; end?: unknown };
	if (!isU32(start)) throw invalid(method, `${field}.start`, 'must be an integer from 0 to 4294967295', start);
	if (!isU32(end)) throw invalid(method, `${field}.end`, 'must be an integer from 0 to 4294967295', end);
	if (end < start) throw new InvalidParamsError(`${method}: params.${field} ends (${end}) before it starts (${start})`);
	return { start, end };
}

function tokenStream(method: string, p: Fields, field: string, bulk: BulkSlots | undefined): TokenStream {
	const value = p[field];
	if (value === null || typeof value !== 'object' || Array.isArray(value)) {
		throw invalid(method, field, 'must be a token stream {text, records}', value);
	}
	if (isBulkTokenStream(value)) return bulkTokenStream(method, value, field, bulk);
	const { text, records } = value as { text?: unknown; records?: unknown };
	if (typeof text !== 'string') throw invalid(method, `${field}.text`, 'must be a string', text);
	if (!Array.isArray(records) && !(records instanceof Uint32Array)) {
		throw invalid(method, `${field}.records`, 'must be an array of u32 numbers (or a Uint32Array in msgpack)', records);
	}
	const stream: TokenStream = { text, records };
	const problem = validateTokenStream(stream, Buffer.byteLength(text, 'utf8'), `params.${field}`);
	if (problem) throw new InvalidParamsError(`${method}: ${problem}`);
	return stream;
}

/** A stream the client sent through a slot file: the reference checked, the stream read in place and checked like any other. */
function bulkTokenStream(method: string, value: object, field: string, bulk: BulkSlots | undefined): TokenStream {
	if (bulk === undefined) {
		throw new InvalidParamsError(`${method}: params.${field} is a bulk stream, but this session has no bulk directory (offer one in initialize's bulk field)`);
	}
	const problem = checkBulkRef(value, `params.${field}`);
	if (problem) throw new InvalidParamsError(`${method}: ${problem}`);
	const ref = (value as { bulk: { textBytes: number } }).bulk;
	let stream: TokenStream;
	try {
		stream = bulk.read(value as Parameters<BulkSlots['read']>[0], `params.${field}`);
	} catch (error) {
		if (error instanceof BulkReadError) throw new InvalidParamsError(`${method}: ${error.message}`);
		throw error;
	}
	const bad = validateTokenStream(stream, ref.textBytes, `params.${field}`);
	if (bad) throw new InvalidParamsError(`${method}: ${bad}`);
	return stream;
}

function isU32(n: unknown): n is number {
	return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

function invalid(method: string, field: string, expectation: string, got: unknown): InvalidParamsError {
	return new InvalidParamsError(`${method}: params.${field} ${expectation}, got ${describe(got)}`);
}

/** A short description of a received value, for messages. */
function describe(value: unknown): string {
	if (value === undefined) return 'nothing (the field is missing)';
	if (value === null) return 'null';
	if (Array.isArray(value)) return `an array of ${value.length}`;
	if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
	if (typeof value === 'object') return 'an object';
	const text = JSON.stringify(value);
	return `${typeof value} ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`;
}
