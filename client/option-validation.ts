/**
 * Checks for option values. Every message names the option, what was expected, and the value
 * received with its type, so a typo is fixed from the message alone.
 */
import { inspect } from 'node:util';

/** `-1 (number)`, `"abc" (string)`, `null`: the received half of an option message. */
export function describeValue(value: unknown): string {
	if (value === null) return 'null';
	if (value === undefined) return 'undefined';
	const type = Array.isArray(value) ? 'array' : typeof value;
	const shown = inspect(value, { depth: 1, breakLength: Infinity, maxArrayLength: 5, maxStringLength: 80 });
	return `${shown} (${type})`;
}

/** Throws the TypeError every option check throws. */
export function invalidOption(name: string, expectation: string, value: unknown): never {
	throw new TypeError(`The \`${name}\` option must be ${expectation}, but received ${describeValue(value)}.`);
}

/** A whole number in [min, max]; `what` says its unit, e.g. "milliseconds". */
export function validateInteger(name: string, value: unknown, min: number, what: string, max = Number.MAX_SAFE_INTEGER): number {
	if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
		const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `between ${min} and ${max}`;
		invalidOption(name, `an integer ${range} (${what})`, value);
	}
	return value;
}

/** A non-empty string. */
export function validateNonEmptyString(name: string, value: unknown): string {
	if (typeof value !== 'string' || value.length === 0) invalidOption(name, 'a non-empty string', value);
	return value;
}

/** Refuses keys the options type does not have, which are nearly always typos. */
export function rejectUnknownKeys(group: string, value: object, known: readonly string[]): void {
	for (const key of Object.keys(value)) {
		if (!known.includes(key)) {
			throw new TypeError(`Unknown ${group} option \`${key}\`; known options are: ${known.join(', ')}.`);
		}
	}
}

/** A plain object (or undefined). */
export function validateObject(name: string, value: unknown): object | undefined {
	if (value === undefined) return undefined;
	if (value === null || typeof value !== 'object' || Array.isArray(value)) invalidOption(name, 'an object', value);
	return value;
}
