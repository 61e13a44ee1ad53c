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
	| { op: 'manifest'; seq: number; library: string }
	| { op: 'expand'; seq: number; library: string; request: WasmExpandRequest; who: string }
	| { op: 'postProcess'; seq: number; library: string; auxJson: string; who: string };

/** Answers: an expansion, or the manifest (or why it could not be read). */
export type FromWorker =
	| { seq: number; expansion: Expansion }
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
	if (message.op === 'manifest') {
		try {
			return { seq: message.seq, manifest: callManifest(slot.acquire()) };
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
			? (e: WasmExports): Expansion => callExpand(e, message.request, message.who)
			: (e: WasmExports): Expansion => callPostProcess(e, message.auxJson, message.who);
	let exports: WasmExports | undefined;
	try {
		exports = slot.acquire();
		return { seq: message.seq, expansion: run(exports) };
	} catch (error) {
		slot.discard();
		return { seq: message.seq, expansion: failure(error, exports, slot.spec.maxPages, message.who) };
	}
}

/** Turns what a call threw into the answer: the SDK's panic message, out of memory, a trap, or a bad result. */
function failure(error: unknown, exports: WasmExports | undefined, maxPages: number, who: string): Expansion {
	if (error instanceof WasmBadResult) return bail(`bad result: ${error.message}`, 'bad-result');
	const isTrap = error instanceof WebAssemblyApi.RuntimeError || error instanceof RangeError;
	if (!isTrap || !exports) return bail(`bad result: ${who} failed in the wasm worker: ${(error as Error).message}`, 'bad-result');
	const panic = afterTrap(() => recordedPanic(exports));
	// The SDK recorded the message a native build puts in its BAIL: the same answer, byte for byte.
	if (panic !== undefined) return { outcome: 'bail', diagnostics: [{ severity: 'error', message: panic }] };
	const pages = afterTrap(() => exports.memory.buffer.byteLength / PAGE_BYTES) ?? 0;
	const failed = afterTrap(() => exports.mh_alloc_failure?.()) ?? 0;
	const limit = `the limit for wasm macros is ${maxPages} pages (${formatMiB(maxPages)})`;
	if (failed > 0) {
		return bail(`${who} ran out of memory: allocating ${failed} bytes failed with ${pages} pages in use; ${limit}`, 'wasm-memory-limit');
	}
	if (pages >= maxPages) return bail(`${who} ran out of memory: its memory reached ${pages} pages; ${limit}`, 'wasm-memory-limit');
	const what = error instanceof RangeError ? 'call stack exhausted' : (error as Error).message;
	return bail(`${who} trapped: ${what}`, 'wasm-trap');
}

function describeManifestFailure(error: unknown): string {
	if (error instanceof WasmBadResult) return error.message;
	return `its manifest (mh_manifest) trapped: ${(error as Error).message}`;
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
