/**
 * What dispatch.ts needs to serve wasm libraries beside native ones: routing of loads and calls
 * by sandbox, the derive path that mixes both, the checks of the `wasm` limits in `initialize`
 * and `serve` flags. A native call answers at once, a wasm call later (it runs in the worker); the
 * connection's maxParallelism 1 (dispatch.ts) keeps answers in arrival order either way.
 */
import type { Diagnostic } from '../protocol/expand.js';
import type { WasmLimits } from '../protocol/handshake.js';
import { mergeDerives, describeMacro, type ExpandInput, type Expander, type Expansion, type MacroTarget, type TokenSink } from './expander.js';
import { LibraryLoader, type LoadedLibrary } from './library-loader.js';
import { InvalidParamsError } from './validate-params.js';
import type { WasmLibraryLoader } from './wasm-loader.js';
import type { WasmOptions, WasmSandbox } from './wasm-sandbox.js';

/** A value now, or later. */
export type MaybePromise<T> = T | Promise<T>;

/** Applies `f` to a value now or later (not named `then`: a module exporting `then` is itself thenable). */
export function mapMaybe<T, R>(value: MaybePromise<T>, f: (value: T) => R): MaybePromise<R> {
	return isPromise(value) ? value.then(f) : f(value);
}

function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
	return value instanceof Promise;
}

/** Loads and calls libraries of both sandboxes. */
export class SandboxRoutes {
	// Imported on the first .wasm load: a host serving native libraries never pays for the wasm
	// loader's modules at start-up (each ES module costs the host's cold start a little).
	private wasmLoader: Promise<WasmLibraryLoader> | undefined;

	constructor(
		private readonly nativeLoader: LibraryLoader,
		private readonly expander: Expander,
		private readonly sandbox: WasmSandbox,
	) {}

	/** Loads a native library, or a wasm module when the path ends in `.wasm`. */
	load(path: string): MaybePromise<LoadedLibrary> {
		if (!isWasmPath(path)) return this.nativeLoader.load(path);
		this.wasmLoader ??= import('./wasm-loader.js').then(({ WasmLibraryLoader }) => new WasmLibraryLoader(this.sandbox));
		return this.wasmLoader.then((loader) => loader.load(path));
	}

	/** Expands one inline or attribute call; a native call's large output goes to `sink` when one is given. */
	expand(target: MacroTarget, input: ExpandInput, sink?: TokenSink): MaybePromise<Expansion> {
		const wasm = target.library.wasm;
		if (!wasm) return this.expander.expand(target, input, sink);
		const request = { kind: target.macro.abiKind, name: target.macro.name, args: input.args, item: input.item, callSite: input.callSite };
		return this.sandbox.expand(wasm, request, describeMacro(target));
	}

	/** Expands derives on one item; any wasm derive among them makes the whole request asynchronous. */
	expandDerives(targets: readonly MacroTarget[], input: ExpandInput): MaybePromise<Expansion> {
		if (targets.every((t) => !t.library.wasm)) return this.expander.expandDerives(targets, input);
		return (async () => {
			const answers: { target: MacroTarget; expansion: Expansion }[] = [];
			for (const target of targets) answers.push({ target, expansion: await this.expand(target, { item: input.item, callSite: input.callSite }) });
			return mergeDerives(answers);
		})();
	}

	/** Runs a library's post-process step. */
	postProcess(library: LoadedLibrary, auxData: readonly unknown[]): MaybePromise<Diagnostic[]> {
		if (!library.wasm) return this.expander.postProcess(library, auxData);
		const json = JSON.stringify(auxData);
		return this.sandbox.postProcess(library.wasm, json, `mh_post_process of ${library.id}`).then((e) => e.diagnostics);
	}
}

/** True for a path that names a wasm module (it ends in `.wasm`, in any case). */
export function isWasmPath(path: string): boolean {
	return /\.wasm$/i.test(path);
}

/** Checks `initialize`'s optional `wasm` field; returns the limits it sets. */
export function validateWasmLimits(value: unknown): Partial<WasmOptions> {
	if (value === undefined) return {};
	if (value === null || typeof value !== 'object' || Array.isArray(value)) {
		throw new InvalidParamsError(`initialize: params.wasm must be an object {timeoutMs?, maxMemoryPages?}, got ${JSON.stringify(value)}`);
	}
	const limits = value as WasmLimits;
	const out: Partial<WasmOptions> = {};
	if (limits.timeoutMs !== undefined) {
		const problem = checkTimeout(limits.timeoutMs);
		if (problem) throw new InvalidParamsError(`initialize: params.wasm.timeoutMs ${problem}`);
		out.timeoutMs = limits.timeoutMs;
	}
	if (limits.maxMemoryPages !== undefined) {
		const problem = checkPages(limits.maxMemoryPages);
		if (problem) throw new InvalidParamsError(`initialize: params.wasm.maxMemoryPages ${problem}`);
		out.maxMemoryPages = limits.maxMemoryPages;
	}
	return out;
}

/**
 * Why a timeout value is refused ("must be ..., got ..."), or undefined when it is fine. `shown` is
 * how the message quotes what was given (a command line quotes the text that was typed).
 */
export function checkTimeout(value: unknown, shown = JSON.stringify(value)): string | undefined {
	if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 2_147_483_647) return undefined;
	return `must be an integer number of milliseconds from 1 to 2147483647, got ${shown}`;
}

/** Why a page limit is refused, or undefined when it is fine; `shown` as for {@link checkTimeout}. */
export function checkPages(value: unknown, shown = JSON.stringify(value)): string | undefined {
	if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65536) return undefined;
	return `must be an integer number of 64 KiB pages from 1 to 65536, got ${shown}`;
}
