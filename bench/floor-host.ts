/**
 * The floor host: the smallest program that does what our host must do for one expand call, and
 * nothing more. It reads a Content-Length frame with `readSync`, parses the JSON body, calls the macro
 * through the host's own native backend (the records go into the library's input through koffi, the
 * output comes back as a flat stream), encodes the answer as the host does, and writes the frame with
 * `writeSync`. It has no dispatch, no parameter or result checks, no stdio repair, no call marks and no
 * event loop.
 *
 * The bare Node echo host is the floor of any Node server. This one is the floor of a Node server that
 * calls a native macro: the gap between the two is the library call and its framing, which no host can
 * skip. The gap between this one and our host is what our host adds.
 *
 *   node dist/bench/floor-host.js LIBRARY    (spawned by bench/rows/small-calls.ts)
 */
import { writeSync } from 'node:fs';
import type { ResponseMessage } from 'vscode-jsonrpc';
import { frameHeader } from '../protocol/frame.js';
import { encodeJsonText } from '../protocol/json.js';
import { LibraryLoader } from '../server/library-loader.js';
import type { Expansion } from '../server/library-model.js';
import { MacroRegistry } from '../server/macro-registry.js';
import { WasmSandbox } from '../server/wasm/sandbox.js';
import { readStdin } from './stdin-chunks.js';

const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
const LENGTH_AT = 'Content-Length: '.length;

const library = process.argv[2];
if (library === undefined) throw new Error('usage: node dist/bench/floor-host.js LIBRARY');
const registry = new MacroRegistry();
// Loading is synchronous for a native library; the sandbox is there because the loader takes one.
const loaded = new LibraryLoader({ sandbox: new WasmSandbox({}, () => undefined) }).load(library);
if (loaded instanceof Promise) throw new Error(`${library} is not a native library`);
registry.add(loaded);

const chunk = Buffer.allocUnsafe(1 << 16);
let pending = Buffer.alloc(0);
for (;;) {
	const n = readStdin(chunk);
	if (n === 0) break;
	pending = pending.length === 0 ? Buffer.from(chunk.subarray(0, n)) : Buffer.concat([pending, chunk.subarray(0, n)]);
	for (let end = pending.indexOf(HEADER_END); end !== -1; end = pending.indexOf(HEADER_END)) {
		const start = end + HEADER_END.length;
		const length = Number(pending.toString('latin1', LENGTH_AT, end));
		if (pending.length < start + length) break;
		const request = JSON.parse(pending.toString('utf8', start, start + length)) as {
			id: number;
			params: { name: string; args: { text: string; records: number[] | Uint32Array } };
		};
		pending = pending.subarray(start + length);
		const args = request.params.args;
		args.records = Uint32Array.from(args.records);
		const target = registry.resolve('inline', request.params.name);
		const result = target.library.backend.expand(target.macro, { args: args as { text: string; records: Uint32Array } }, undefined);
		const reply: ResponseMessage = { jsonrpc: '2.0', id: request.id, result: result as Expansion };
		const body = encodeJsonText(reply);
		const frame = Buffer.from(frameHeader(Buffer.byteLength(body, 'utf8')) + body, 'utf8');
		for (let at = 0; at < frame.length; ) at += writeSync(1, frame, at);
	}
}
