/**
 * The limits of the wasm sandbox as clients and flags give them: `initialize`'s `wasm` field and the
 * `serve` flags, each checked with a message that names the field and the value.
 */
import type { WasmLimits } from '../../protocol/handshake.js';
import { InvalidParamsError } from '../validate-params.js';
import type { WasmOptions } from './sandbox.js';

/** Checks `initialize`'s optional `wasm` field; returns the limits it sets. */
export function validateWasmLimits(value: unknown): Partial<WasmOptions> {
	if (value === undefined) return {};
	if (value === null || typeof value !== 'object' || Array.isArray(value)) {
		throw new InvalidParamsError(`initialize: params.wasm must be an object {timeoutMs?, maxMemoryPages?, budgetMiB?}, got ${JSON.stringify(value)}`);
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
	if (limits.budgetMiB !== undefined) {
		const problem = checkBudget(limits.budgetMiB);
		if (problem) throw new InvalidParamsError(`initialize: params.wasm.budgetMiB ${problem}`);
		out.budgetMiB = limits.budgetMiB;
	}
	return out;
}

/**
 * Checks `initialize`'s optional `requestTimeoutMs` (the client's own clock); returns the sandbox
 * option it sets (see {@link WasmOptions.clientTimeoutMs}).
 */
export function validateClientTimeout(value: unknown): Partial<WasmOptions> {
	if (value === undefined) return {};
	const problem = checkTimeout(value);
	if (problem) throw new InvalidParamsError(`initialize: params.requestTimeoutMs ${problem}`);
	return { clientTimeoutMs: value as number };
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

/** Why a budget for all wasm modules is refused, or undefined when it is fine; `shown` as for {@link checkTimeout}. */
export function checkBudget(value: unknown, shown = JSON.stringify(value)): string | undefined {
	if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 1_048_576) return undefined;
	return `must be an integer number of MiB from 1 to 1048576, got ${shown}`;
}
