import { describe, expect, it } from 'vitest';
import { compareVersions, parseVersion, parseVersionReq, satisfies, SemverError } from '../../dist/client/packages/semver.js';

function matches(req: string, version: string): boolean {
	return satisfies(parseVersion(version), parseVersionReq(req));
}

describe('parseVersion', () => {
	it('reads major.minor.patch, pre-release and build metadata', () => {
		expect(parseVersion('1.2.3')).toEqual({ major: 1, minor: 2, patch: 3, pre: [], build: '' });
		expect(parseVersion('0.1.0-alpha.1+build.5')).toEqual({ major: 0, minor: 1, patch: 0, pre: ['alpha', '1'], build: 'build.5' });
	});

	it('rejects partial versions and leading zeros with a message naming the text', () => {
		expect(() => parseVersion('1.2')).toThrow(new SemverError('"1.2" is not a semantic version (expected MAJOR.MINOR.PATCH, e.g. "0.1.0")'));
		expect(() => parseVersion('01.2.3')).toThrow('"01.2.3" is not a semantic version: "01" has a leading zero');
		expect(() => parseVersion('1.2.3-01')).toThrow('invalid pre-release identifier "01"');
	});

	it('orders by precedence, pre-releases before the release', () => {
		const sorted = ['1.0.0', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta', '1.0.0-alpha.beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '0.9.9']
			.map(parseVersion)
			.sort(compareVersions)
			.map((v) => `${v.major}.${v.minor}.${v.patch}${v.pre.length ? `-${v.pre.join('.')}` : ''}`);
		expect(sorted).toEqual(['0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0']);
	});
});

describe('version requirements (Cargo semantics)', () => {
	it('treats a bare version as a caret requirement', () => {
		expect(matches('0.1.0', '0.1.0')).toBe(true);
		expect(matches('0.1.0', '0.1.7')).toBe(true);
		expect(matches('0.1.0', '0.2.0')).toBe(false);
		expect(matches('1.2.3', '1.9.0')).toBe(true);
		expect(matches('1.2.3', '1.2.2')).toBe(false);
		expect(matches('1.2.3', '2.0.0')).toBe(false);
	});

	it('caret: ^1.2.3, ^0.2.3, ^0.0.3, ^1.2, ^0.0, ^0', () => {
		expect(matches('^1.2.3', '1.2.3')).toBe(true);
		expect(matches('^0.2.3', '0.2.9')).toBe(true);
		expect(matches('^0.2.3', '0.3.0')).toBe(false);
		expect(matches('^0.0.3', '0.0.3')).toBe(true);
		expect(matches('^0.0.3', '0.0.4')).toBe(false);
		expect(matches('^1.2', '1.5.0')).toBe(true);
		expect(matches('^1.2', '1.1.0')).toBe(false);
		expect(matches('^0.0', '0.0.9')).toBe(true);
		expect(matches('^0.0', '0.1.0')).toBe(false);
		expect(matches('^0', '0.9.0')).toBe(true);
		expect(matches('^0', '1.0.0')).toBe(false);
	});

	it('tilde: ~1.2.3, ~1.2, ~1', () => {
		expect(matches('~1.2.3', '1.2.5')).toBe(true);
		expect(matches('~1.2.3', '1.3.0')).toBe(false);
		expect(matches('~1.2.3', '1.2.2')).toBe(false);
		expect(matches('~1.2', '1.2.0')).toBe(true);
		expect(matches('~1', '1.9.0')).toBe(true);
		expect(matches('~1', '2.0.0')).toBe(false);
	});

	it('comparison operators, with partial versions', () => {
		expect(matches('=1.2.3', '1.2.3')).toBe(true);
		expect(matches('=1.2.3', '1.2.4')).toBe(false);
		expect(matches('=1.2', '1.2.9')).toBe(true);
		expect(matches('>1.2.3', '1.2.4')).toBe(true);
		expect(matches('>1.2.3', '1.2.3')).toBe(false);
		expect(matches('>1.2', '1.2.9')).toBe(false);
		expect(matches('>1.2', '1.3.0')).toBe(true);
		expect(matches('>=1.2', '1.2.0')).toBe(true);
		expect(matches('<2', '1.99.0')).toBe(true);
		expect(matches('<2', '2.0.0')).toBe(false);
		expect(matches('<=1.2', '1.2.9')).toBe(true);
		expect(matches('<=1.2', '1.3.0')).toBe(false);
	});

	it('wildcards and comma-separated ranges', () => {
		expect(matches('*', '7.3.1')).toBe(true);
		expect(matches('1.*', '1.4.0')).toBe(true);
		expect(matches('1.*', '2.0.0')).toBe(false);
		expect(matches('1.2.x', '1.2.7')).toBe(true);
		expect(matches('>=1.0, <2.0', '1.5.0')).toBe(true);
		expect(matches('>=1.0, <2.0', '2.0.0')).toBe(false);
		expect(matches(' >= 0.1.0 ,< 0.3 ', '0.2.5')).toBe(true);
	});

	it('matches a pre-release only when a comparator opts into that exact version', () => {
		expect(matches('^1.0.0', '1.1.0-alpha')).toBe(false);
		expect(matches('*', '1.0.0-rc.1')).toBe(false);
		expect(matches('>=1.0.0-alpha', '1.0.0-beta')).toBe(true);
		expect(matches('>=1.0.0-alpha', '1.0.1-beta')).toBe(false);
		expect(matches('>=1.0.0-alpha', '1.0.0')).toBe(true);
		expect(matches('^1.0.0-alpha', '1.0.0-alpha.2')).toBe(true);
	});

	it('rejects malformed requirements with the offending text in the message', () => {
		expect(() => parseVersionReq('')).toThrow('a version requirement cannot be empty (use "*" for any version)');
		expect(() => parseVersionReq('banana')).toThrow('"banana" is not a version requirement ("banana" is not a version)');
		expect(() => parseVersionReq('>=1.0,')).toThrow('">=1.0," has an empty comparator between commas');
		expect(() => parseVersionReq('>=1.*')).toThrow('wildcards cannot be combined with ">="');
		expect(() => parseVersionReq('1.*.3')).toThrow('a number cannot follow a wildcard');
		expect(() => parseVersionReq('1.2-alpha')).toThrow('a pre-release needs a full MAJOR.MINOR.PATCH version');
		expect(() => parseVersionReq('>*')).toThrow('">" needs a version number');
	});
});
