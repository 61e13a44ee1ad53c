/**
 * The JSON body encoding (the default). Token records may be a Uint32Array in memory (the tokenizer
 * and the library produce one); JSON.stringify would write that as an object keyed "0", "1", …, so
 * this encoder turns such records into number arrays on the way out, in one pass and without
 * touching the caller's objects. Both the host and the client write through it.
 */
import type { ContentTypeEncoder, Message } from 'vscode-jsonrpc';

// A web-platform global in Node and browsers alike; declared here because protocol/ compiles without DOM or Node types.
declare const TextEncoder: { new (): { encode(input: string): Uint8Array } };
const utf8 = new TextEncoder();

/** vscode-jsonrpc's name for JSON bodies. */
export const JSON_CONTENT_TYPE = 'application/json';

/** Encodes one JSON-RPC message as a UTF-8 JSON body. */
export const jsonEncoder: ContentTypeEncoder = {
	name: JSON_CONTENT_TYPE,
	encode(msg: Message): Promise<Uint8Array> {
		return Promise.resolve(encodeJsonBody(msg));
	},
};

/** Encodes one JSON-RPC message as a UTF-8 JSON body, synchronously. */
export function encodeJsonBody(msg: Message): Uint8Array {
	return utf8.encode(encodeJsonText(msg));
}

/**
 * Encodes one JSON-RPC message as JSON text. The frame writer takes the text as it is and has the
 * stream encode it while writing, which spares an encoded copy of every body.
 */
export function encodeJsonText(msg: Message): string {
	return JSON.stringify(withPlainRecords(msg));
}

/**
 * Returns `msg` with every token stream's typed records replaced by a number array. Streams sit in a
 * request's params (`args`, `item`) or a response's `result.tokens`, and in a batch's calls and
 * answers; other messages pass unchanged.
 */
export function withPlainRecords(msg: Message): Message {
	const m = msg as { params?: unknown; result?: unknown };
	if (isObject(m.params)) {
		// A batch's streams sit one level down, in each call's params (protocol/batch.ts).
		const params = Array.isArray(m.params.calls) ? plainStreamsInEach(m.params, 'calls', 'params') : plainStreamsIn(m.params);
		if (params !== m.params) return { ...msg, params } as Message;
	}
	if (isObject(m.result)) {
		const result = Array.isArray(m.result.answers) ? plainStreamsInEach(m.result, 'answers', 'result') : plainStreamsIn(m.result);
		if (result !== m.result) return { ...msg, result } as Message;
	}
	return msg;
}

/** `holder` with the streams of each `holder[list][i][field]` made plain; unchanged when none is typed. */
function plainStreamsInEach(holder: Record<string, unknown>, list: string, field: string): Record<string, unknown> {
	const items = holder[list] as unknown[];
	let copy: unknown[] | undefined;
	for (let i = 0; i < items.length; i++) {
		const item = items[i];
		if (!isObject(item) || !isObject(item[field])) continue;
		const inner = plainStreamsIn(item[field] as Record<string, unknown>);
		if (inner === item[field]) continue;
		copy ??= items.slice();
		copy[i] = { ...item, [field]: inner };
	}
	return copy === undefined ? holder : { ...holder, [list]: copy };
}

function plainStreamsIn(holder: Record<string, unknown>): Record<string, unknown> {
	let copy: Record<string, unknown> | undefined;
	for (const key of Object.keys(holder)) {
		const value = holder[key];
		if (isObject(value) && value.records instanceof Uint32Array) {
			copy ??= { ...holder };
			copy[key] = { ...value, records: toNumberArray(value.records) };
		}
	}
	return copy ?? holder;
}

/**
 * The records as a number array. A counted loop into a preallocated array: Array.from walks a typed
 * array through its iterator, 10× slower (2.3 µs against 0.2 µs for a 20-token stream, 5× for 200,000).
 */
function toNumberArray(records: Uint32Array): number[] {
	const out = new Array<number>(records.length);
	for (let i = 0; i < records.length; i++) out[i] = records[i]!;
	return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
	return value !== null && typeof value === 'object' && !Array.isArray(value) && !ArrayBuffer.isView(value);
}
