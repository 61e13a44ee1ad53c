/**
 * The ABI constants exist three times: #defines in sdk/c/macro_host.h, `pub const`s in
 * sdk/rust/src/abi.rs and the TypeScript protocol. This reads the C and Rust sources as text and
 * checks that all three agree, name by name.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
	ABI_VERSION,
	MacroKind,
	Outcome,
	RECORD_WIDTH,
	SPAN_CALL_SITE,
	Severity,
	TokenFlags,
	TokenKind,
} from '../../dist/protocol/index.js';

const header = readFileSync(new URL('../../sdk/c/macro_host.h', import.meta.url), 'utf8');
const rustAbi = readFileSync(new URL('../../sdk/rust/src/abi.rs', import.meta.url), 'utf8');

/** Parses a C or Rust integer literal (`0xFFFFFFFFu`, `1u`, `0xFFFF_FFFF`, `2`). */
function parseInteger(text: string): number {
	const digits = text.replace(/_/g, '').replace(/u$/i, '');
	return digits.startsWith('0x') ? Number.parseInt(digits.slice(2), 16) : Number.parseInt(digits, 10);
}

function constantsOf(source: string, pattern: RegExp): Map<string, number> {
	const found = new Map<string, number>();
	for (const m of source.matchAll(pattern)) found.set(m[1], parseInteger(m[2]));
	return found;
}

const cConstants = constantsOf(header, /^#define\s+(MH_[A-Z0-9_]+)\s+(0x[0-9A-Fa-f]+u?|\d+u?)\b/gm);
const rustConstants = constantsOf(rustAbi, /^pub const (MH_[A-Z0-9_]+): u32 = (0x[0-9A-Fa-f_]+|[0-9_]+);/gm);

/** The TypeScript value of each C constant. A new #define fails the test until it is mapped here. */
const tsConstants: Record<string, number> = {
	MH_ABI_VERSION: ABI_VERSION,
	MH_SPAN_CALL_SITE: SPAN_CALL_SITE,
	MH_TOKEN_IDENT: TokenKind.ident,
	MH_TOKEN_PUNCT: TokenKind.punct,
	MH_TOKEN_LITERAL: TokenKind.literal,
	MH_TOKEN_FLAG_JOINT: TokenFlags.joint,
	MH_KIND_INLINE: MacroKind.toAbi(MacroKind.inline),
	MH_KIND_ATTRIBUTE: MacroKind.toAbi(MacroKind.attribute),
	MH_KIND_DERIVE: MacroKind.toAbi(MacroKind.derive),
	MH_OUTCOME_LEAVE: Outcome.fromAbi.indexOf(Outcome.leave),
	MH_OUTCOME_REPLACE: Outcome.fromAbi.indexOf(Outcome.replace),
	MH_OUTCOME_REMOVE: Outcome.fromAbi.indexOf(Outcome.remove),
	MH_OUTCOME_BAIL: Outcome.fromAbi.indexOf(Outcome.bail),
	MH_SEVERITY_ERROR: Severity.fromAbi.indexOf(Severity.error),
	MH_SEVERITY_WARNING: Severity.fromAbi.indexOf(Severity.warning),
	MH_SEVERITY_NOTE: Severity.fromAbi.indexOf(Severity.note),
};

describe('ABI constants in C, Rust and TypeScript', () => {
	it('finds the constants in both sources', () => {
		expect(cConstants.size).toBe(16);
		expect(cConstants.get('MH_SPAN_CALL_SITE')).toBe(0xffffffff);
	});

	it('has the same names and values in the C header and the Rust crate', () => {
		expect(Object.fromEntries(rustConstants)).toEqual(Object.fromEntries(cConstants));
	});

	it('has the same values in the C header and the TypeScript protocol', () => {
		expect(tsConstants).toEqual(Object.fromEntries(cConstants));
	});

	it('maps every ABI number back to the same TypeScript name', () => {
		expect(Outcome.fromAbi).toHaveLength(4);
		expect(Severity.fromAbi).toHaveLength(3);
		expect(MacroKind.all.map((k) => MacroKind.toAbi(k))).toEqual([0, 1, 2]);
	});

	it('has as many record fields in TypeScript as mh_token has u32 fields in C and Rust', () => {
		const cFields = /typedef struct mh_token \{([^}]*)\}/.exec(header)?.[1].match(/uint32_t \w+;/g) ?? [];
		const rustFields = /pub struct mh_token \{([^}]*)\}/.exec(rustAbi)?.[1].match(/pub \w+: u32,/g) ?? [];
		expect(cFields).toHaveLength(RECORD_WIDTH);
		expect(rustFields).toHaveLength(RECORD_WIDTH);
	});
});
