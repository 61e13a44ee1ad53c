/**
 * The wasm worker: a worker thread the host owns, where every wasm macro call runs. It answers one
 * message at a time; a trap, a failed allocation or a bad result becomes an answer (outcome bail
 * with a diagnostic), so only a timeout needs the host to stop this thread (wasm-sandbox.ts).
 */
import { parentPort } from 'node:worker_threads';
import type { Diagnostic, DiagnosticCode } from '../../protocol/expand.js';
import type { Expansion } from '../library-model.js';
import { callExpand, callManifest, callPostProcess, recordedPanic, WasmBadResult, type WasmExports, type WasmExpandRequest } from './abi.js';
import { ModuleInstances, type ModuleSpec } from './instances.js';
import { WebAssemblyApi } from './runtime.js';

/** Messages the host sends to the worker. */
export type ToWorker =
	| { op: 'register'; library: string; spec: ModuleSpec }
	| { op: 'instantiate'; seq: number; library: string }
	| { op: 'manifest'; seq: number; library: string }
	| { op: 'expand'; seq: number; library: string; request: WasmExpandRequest; who: string }
	| { op: 'postProcess'; seq: number; library: string; auxJson: string; who: string };

/** Answers: an expansion, the manifest (or why it could not be read), or whether instantiation (the start function) succeeded. */
export type FromWorker =
	| { seq: number; expansion: Expansion }
	| { seq: number; instantiated: { error?: string } }
	| { seq: number; manifest: { abiVersion: number; manifest: string } | { error: string } };

const PAGE_BYTES = 65536;
const modules = new Map<string, ModuleInstances>();

/** Handles one message; exported for measurements that run it without a thread. */
export function handle(message: ToWorker): FromWorker | undefined {
	if (message.op === 'register') {
		modules.set(message.library, new ModuleInstances(message.spec));
		return undefined;
	}
	const slot = modules.get(message.library);
	if (!slot) throw new Error(`the wasm worker has no module ${message.library}`);
	if (message.op === 'instantiate') {
		// Runs the module's start function, if any, on its own: a trap there is the start function's, not mh_manifest's.
		try {
			slot.acquire();
			return { seq: message.seq, instantiated: {} };
		} catch (error) {
			slot.discard();
			return { seq: message.seq, instantiated: { error: `its start function (run when the module is instantiated) ${describeError(error)}` } };
		}
	}
	if (message.op === 'manifest') {
		try {
			return { seq: message.seq, manifest: callManifest(slot.acquire(), slot.markWritten) };
		} catch (error) {
			slot.discard();
			return { seq: message.seq, manifest: { error: describeManifestFailure(error) } };
		} finally {
			// The manifest call ran on an instance the first expansion must not see.
			slot.discard();
		}
	}
	const run =
		message.op === 'expand'
			? (e: WasmExports): Expansion => callExpand(e, message.request, message.who, slot.markWritten)
			: (e: WasmExports): Expansion => callPostProcess(e, message.auxJson, message.who, slot.markWritten);
	let exports: WasmExports | undefined;
	let pagesBefore = 0;
	try {
		exports = slot.acquire();
		pagesBefore = exports.memory.buffer.byteLength / PAGE_BYTES;
		const expansion = run(exports);
		slot.settle();
		return { seq: message.seq, expansion };
	} catch (error) {
		slot.discard();
		return { seq: message.seq, expansion: failure(error, exports, pagesBefore, slot.spec.maxPages, message.who) };
	}
}

/**
 * Turns what a call threw into the answer: the SDK's panic message, out of memory, a trap, or a bad
 * result. `pagesBefore` is the memory's size when the call began: only a call that grew the memory
 * up to its maximum ran out of memory (a module with a fixed maximum that traps did not).
 */
function failure(error: unknown, exports: WasmExports | undefined, pagesBefore: number, maxPages: number, who: string): Expansion {
	if (error instanceof WasmBadResult) return bail(`bad result: ${error.message}`, 'bad-result');
	if (error instanceof WebAssemblyApi.Exception) return bail(`${who} ${describeError(error)}`, 'wasm-trap');
	const isTrap = error instanceof WebAssemblyApi.RuntimeError || isStackExhaustion(error);
	if (!isTrap || !exports) return bail(`bad result: ${who} failed in the wasm worker: ${error instanceof Error ? error.message : String(error)}`, 'bad-result');
	const panic = afterTrap(() => recordedPanic(exports));
	// The SDK recorded the message a native build puts in its BAIL: the same answer, byte for byte.
	if (panic !== undefined) return { outcome: 'bail', diagnostics: [{ severity: 'error', message: panic }] };
	const pages = afterTrap(() => exports.memory.buffer.byteLength / PAGE_BYTES) ?? 0;
	const failed = afterTrap(() => exports.mh_alloc_failure?.()) ?? 0;
	const limit = `the limit for wasm macros is ${maxPages} pages (${formatMiB(maxPages)})`;
	if (failed > 0) {
		return bail(`${who} ran out of memory: allocating ${failed} bytes failed with ${pages} pages in use; ${limit}`, 'wasm-memory-limit');
	}
	if (pages >= maxPages && pages > pagesBefore) return bail(`${who} ran out of memory: its memory reached ${pages} pages; ${limit}`, 'wasm-memory-limit');
	return bail(`${who} ${describeError(error)}`, 'wasm-trap');
}

/** V8's RangeError for a full call stack (other RangeErrors are the host's own mistakes, not traps). */
function isStackExhaustion(error: unknown): boolean {
	return error instanceof RangeError && /call stack/i.test(error.message);
}

/** What a throw from module code was, as the end of a sentence: "trapped: unreachable", "threw a wasm exception ...". */
function describeError(error: unknown): string {
	if (error instanceof WebAssemblyApi.Exception) return 'threw a wasm exception that nothing caught';
	if (isStackExhaustion(error)) return 'trapped: call stack exhausted';
	if (error instanceof Error) return `trapped: ${error.message}`;
	return `threw ${String(error)}`;
}

function describeManifestFailure(error: unknown): string {
	if (error instanceof WasmBadResult) return error.message;
	return `its manifest (mh_manifest) ${describeError(error)}`;
}

/** Runs a read on a trapped instance; a second trap there means "nothing to learn". */
function afterTrap<T>(read: () => T): T | undefined {
	try {
		return read();
	} catch {
		return undefined;
	}
}

function bail(message: string, code: DiagnosticCode): Expansion {
	const diagnostic: Diagnostic = { severity: 'error', message, code };
	return { outcome: 'bail', diagnostics: [diagnostic] };
}

function formatMiB(pages: number): string {
	return `${(pages * PAGE_BYTES) / (1024 * 1024)} MiB`;
}

if (parentPort) {
	const port = parentPort;
	port.on('message', (message: ToWorker) => {
		const answer = handle(message);
		if (answer) {
			const records = 'expansion' in answer ? answer.expansion.tokens?.records : undefined;
			port.postMessage(answer, records ? [records.buffer as ArrayBuffer] : []);
		}
	});
}
