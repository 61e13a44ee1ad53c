/**
 * Semantic versions and Cargo-style version requirements, as Scarb.toml uses them.
 *
 * A requirement is a comma-separated list of comparators that must all match. Each comparator is an operator and a
 * possibly partial version: `^1.2.3` (also written bare `1.2.3`), `~1.2`, `=1.2.3`, `>1`, `>=1.2`, `<2`, `<=1.2.3`,
 * and wildcards `*`, `1.*`, `1.2.x`. Semantics follow Cargo's `semver` crate: a pre-release version only matches when
 * some comparator names the same major.minor.patch with a pre-release of its own.
 */

/** A parsed semantic version `major.minor.patch[-pre][+build]`. */
export interface Version {
	major: number;
	minor: number;
	patch: number;
	/** Pre-release identifiers (`alpha.1` → `['alpha', '1']`); empty for a release. */
	pre: string[];
	/** Build metadata (ignored in comparisons); empty when absent. */
	build: string;
}

/** The comparison operators of a comparator. */
export type VersionOp = '=' | '>' | '>=' | '<' | '<=' | '~' | '^' | '*';

/** One comparator of a requirement; `minor`/`patch` are absent when the requirement left them out. */
export interface Comparator {
	op: VersionOp;
	major: number;
	minor?: number;
	patch?: number;
	pre: string[];
}

/** A parsed version requirement: every comparator must match. */
export interface VersionReq {
	/** The text it was parsed from, trimmed. */
	text: string;
	comparators: Comparator[];
}

/** Thrown by {@link parseVersion} and {@link parseVersionReq}; the message says what is wrong with which text. */
export class SemverError extends Error {
	override name = 'SemverError';
}

const NUMBER = /^(0|[1-9][0-9]*)$/;
const IDENT = /^[0-9A-Za-z-]+$/;

/** Parses `1.2.3`, `1.2.3-alpha.1`, `1.2.3+build.5`. */
export function parseVersion(text: string): Version {
	const match = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/.exec(text.trim());
	if (!match) throw new SemverError(`"${text}" is not a semantic version (expected MAJOR.MINOR.PATCH, e.g. "0.1.0")`);
	const [, major, minor, patch, pre, build] = match;
	for (const part of [major, minor, patch]) {
		if (!NUMBER.test(part!)) throw new SemverError(`"${text}" is not a semantic version: "${part}" has a leading zero`);
	}
	return {
		major: Number(major),
		minor: Number(minor),
		patch: Number(patch),
		pre: pre ? parsePre(pre, text) : [],
		build: build ?? '',
	};
}

function parsePre(pre: string, text: string): string[] {
	const parts = pre.split('.');
	for (const part of parts) {
		if (!IDENT.test(part) || (/^\d+$/.test(part) && !NUMBER.test(part))) {
			throw new SemverError(`"${text}" has an invalid pre-release identifier "${part}"`);
		}
	}
	return parts;
}

/** Formats a version back to text (without build metadata changes). */
export function formatVersion(v: Version): string {
	return `${v.major}.${v.minor}.${v.patch}${v.pre.length ? `-${v.pre.join('.')}` : ''}${v.build ? `+${v.build}` : ''}`;
}

/** Orders two versions by semver precedence (build metadata ignored): negative, zero or positive. */
export function compareVersions(a: Version, b: Version): number {
	return a.major - b.major || a.minor - b.minor || a.patch - b.patch || comparePre(a.pre, b.pre);
}

function comparePre(a: string[], b: string[]): number {
	// A release sorts after every pre-release of the same version.
	if (a.length === 0 || b.length === 0) return b.length - a.length;
	for (let i = 0; i < Math.min(a.length, b.length); i++) {
		const x = a[i]!;
		const y = b[i]!;
		if (x === y) continue;
		const xNum = /^\d+$/.test(x);
		const yNum = /^\d+$/.test(y);
		if (xNum && yNum) return Number(x) - Number(y);
		if (xNum !== yNum) return xNum ? -1 : 1;
		return x < y ? -1 : 1;
	}
	return a.length - b.length;
}

/** Parses a Cargo-style requirement such as `0.1.0`, `^1.2`, `>=1.0, <2.0`, `~0.3`, `=1.2.3`, `1.*` or `*`. */
export function parseVersionReq(text: string): VersionReq {
	const trimmed = text.trim();
	if (trimmed === '') throw new SemverError('a version requirement cannot be empty (use "*" for any version)');
	const comparators = trimmed.split(',').map((part) => parseComparator(part.trim(), trimmed));
	return { text: trimmed, comparators };
}

function parseComparator(part: string, whole: string): Comparator {
	if (part === '') throw new SemverError(`"${whole}" has an empty comparator between commas`);
	const opMatch = /^(>=|<=|=|>|<|~|\^)?\s*(.*)$/.exec(part)!;
	const op = (opMatch[1] ?? '^') as VersionOp;
	const rest = opMatch[2]!;
	const match = /^(\d+|\*|x|X)(?:\.(\d+|\*|x|X))?(?:\.(\d+|\*|x|X))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(rest);
	if (!match) throw new SemverError(`"${whole}" is not a version requirement ("${part}" is not a version)`);
	const fields = [match[1]!, match[2], match[3]];
	const numbers: (number | undefined)[] = [];
	let wildcardSeen = false;
	for (const field of fields) {
		if (field === undefined) break;
		if (field === '*' || field === 'x' || field === 'X') {
			wildcardSeen = true;
			break;
		}
		if (!NUMBER.test(field)) throw new SemverError(`"${whole}" is not a version requirement: "${field}" has a leading zero`);
		numbers.push(Number(field));
	}
	// After a wildcard nothing but more wildcards may follow (`1.*.3` is meaningless).
	if (wildcardSeen && fields.slice(numbers.length + 1).some((f) => f !== undefined && !/^[*xX]$/.test(f))) {
		throw new SemverError(`"${whole}" is not a version requirement: a number cannot follow a wildcard`);
	}
	const pre = match[4] ? parsePre(match[4], whole) : [];
	if (pre.length && numbers.length < 3) {
		throw new SemverError(`"${whole}" is not a version requirement: a pre-release needs a full MAJOR.MINOR.PATCH version`);
	}
	if (numbers.length === 0) {
		if (op !== '^' && op !== '=') throw new SemverError(`"${whole}" is not a version requirement: "${op}" needs a version number`);
		return { op: '*', major: 0, pre: [] };
	}
	if (wildcardSeen && op !== '^' && op !== '=') {
		throw new SemverError(`"${whole}" is not a version requirement: wildcards cannot be combined with "${op}"`);
	}
	// A wildcard in a version position means "any" there, which is what `=` with a partial version does.
	const effectiveOp: VersionOp = wildcardSeen ? '=' : op;
	return { op: effectiveOp, major: numbers[0]!, minor: numbers[1], patch: numbers[2], pre };
}

/** Whether `version` satisfies every comparator of `req`, with Cargo's pre-release rule. */
export function satisfies(version: Version, req: VersionReq): boolean {
	if (!req.comparators.every((c) => matchesComparator(version, c))) return false;
	if (version.pre.length === 0) return true;
	// A pre-release is only acceptable when the requirement explicitly opts into that major.minor.patch's pre-releases.
	return req.comparators.some(
		(c) => c.pre.length > 0 && c.major === version.major && c.minor === version.minor && c.patch === version.patch,
	);
}

function matchesComparator(v: Version, c: Comparator): boolean {
	switch (c.op) {
		case '*':
			return true;
		case '=':
			return matchesExact(v, c);
		case '>':
			return matchesGreater(v, c);
		case '>=':
			return matchesExact(v, c) || matchesGreater(v, c);
		case '<':
			return matchesLess(v, c);
		case '<=':
			return matchesExact(v, c) || matchesLess(v, c);
		case '~':
			return matchesTilde(v, c);
		case '^':
			return matchesCaret(v, c);
	}
}

function matchesExact(v: Version, c: Comparator): boolean {
	if (v.major !== c.major) return false;
	if (c.minor === undefined) return true;
	if (v.minor !== c.minor) return false;
	if (c.patch === undefined) return true;
	return v.patch === c.patch && comparePre(v.pre, c.pre) === 0;
}

function matchesGreater(v: Version, c: Comparator): boolean {
	if (v.major !== c.major) return v.major > c.major;
	if (c.minor === undefined) return false;
	if (v.minor !== c.minor) return v.minor > c.minor;
	if (c.patch === undefined) return false;
	if (v.patch !== c.patch) return v.patch > c.patch;
	return comparePre(v.pre, c.pre) > 0;
}

function matchesLess(v: Version, c: Comparator): boolean {
	if (v.major !== c.major) return v.major < c.major;
	if (c.minor === undefined) return false;
	if (v.minor !== c.minor) return v.minor < c.minor;
	if (c.patch === undefined) return false;
	if (v.patch !== c.patch) return v.patch < c.patch;
	return comparePre(v.pre, c.pre) < 0;
}

function matchesTilde(v: Version, c: Comparator): boolean {
	if (v.major !== c.major) return false;
	if (c.minor !== undefined && v.minor !== c.minor) return false;
	if (c.patch !== undefined && v.patch !== c.patch) return v.patch > c.patch;
	return c.patch === undefined || comparePre(v.pre, c.pre) >= 0;
}

function matchesCaret(v: Version, c: Comparator): boolean {
	if (v.major !== c.major) return false;
	if (c.minor === undefined) return true;
	if (c.patch === undefined) {
		// ^0.2 is >=0.2.0 <0.3.0, ^1.2 is >=1.2.0 <2.0.0.
		return c.major > 0 ? v.minor >= c.minor : v.minor === c.minor;
	}
	if (c.major > 0) {
		if (v.minor !== c.minor) return v.minor > c.minor;
	} else if (c.minor > 0) {
		if (v.minor !== c.minor) return false;
	} else {
		// ^0.0.3 is exactly 0.0.3 (and its later pre-releases are handled by comparePre).
		if (v.minor !== c.minor || v.patch !== c.patch) return false;
	}
	if (v.patch !== c.patch) return v.patch > c.patch;
	return comparePre(v.pre, c.pre) >= 0;
}
