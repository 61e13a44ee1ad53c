/**
 * Counts host crashes per macro and quarantines a macro that crashed the host too often: later
 * calls to it fail fast with a `quarantined` diagnostic and never reach (or restart) the host.
 */
import type { MacroKind } from '../protocol/library.js';
import { validateInteger } from './option-validation.js';

/** Default of `quarantineAfter`: a macro that crashed the host this many times is not run again. */
export const DEFAULT_QUARANTINE_AFTER = 3;

/** Checks the `quarantineAfter` option. */
export function validateQuarantineAfter(value: unknown): number {
	return validateInteger('quarantineAfter', value, 1, 'crashes of the same macro');
}

/**
 * The identity of a macro for quarantine: library, kind and name. A derive call with several names
 * is one identity ("A,B"), because a crash cannot tell which of its derives was running.
 */
export function quarantineKey(library: string | undefined, kind: MacroKind, names: readonly string[]): string {
	return `${library ?? '<unresolved>'}\u0000${kind}\u0000${names.join(',')}`;
}

/** Crash counts per macro. */
export class Quarantine {
	readonly #crashes = new Map<string, number>();

	/** @param limit crashes after which a macro is quarantined (validated by validateQuarantineAfter). */
	constructor(readonly limit: number) {}

	/** Counts one crash of `key`; returns the new count and whether the macro is now quarantined. */
	recordCrash(key: string): { crashes: number; isQuarantined: boolean } {
		const crashes = (this.#crashes.get(key) ?? 0) + 1;
		this.#crashes.set(key, crashes);
		return { crashes, isQuarantined: crashes >= this.limit };
	}

	/** How often `key` crashed the host. */
	crashes(key: string): number {
		return this.#crashes.get(key) ?? 0;
	}

	/** True once `key` crashed the host `limit` times. */
	isQuarantined(key: string): boolean {
		return this.crashes(key) >= this.limit;
	}
}
