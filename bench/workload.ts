/**
 * The tokens every round trip carries: the same N tokens, once as macro-host's flat stream and once
 * as rust-analyzer's FlatTree, so both servers see the same text, kinds and spacing.
 *
 * The stream repeats `let vK = a + K ;` (seven tokens: idents, single-character puncts and integer
 * literals), with no delimiters, so rust-analyzer's tree is one invisible root holding N leaves.
 */
import { RECORD_WIDTH } from '../protocol/token-stream.js';

/** One workload of N tokens in both wire forms. */
export interface Workload {
	/** Number of tokens. */
	tokens: number;
	/** macro-host's stream, records as a number array (what a JSON client holds). */
	stream: { text: string; records: number[] };
	/** The same stream with records as a Uint32Array (what a msgpack client or the in-process floor holds). */
	typed: { text: string; records: Uint32Array };
	/** rust-analyzer's FlatTree (API version >= 5 layout: EXTENDED_LEAF_DATA). */
	flatTree: FlatTree;
}

/** rust-analyzer's flat token tree, as proc-macro-api's legacy JSON protocol defines it. */
export interface FlatTree {
	/** 5 u32 per subtree (since ENCODE_CLOSE_SPAN_VERSION): open span, close span, delimiter kind, first child, end child. */
	subtree: number[];
	/** 4 u32 per literal (since EXTENDED_LEAF_DATA): span, text index, literal kind, suffix index or !0. */
	literal: number[];
	/** 3 u32 per punct: span, char code, spacing (1 = joint). */
	punct: number[];
	/** 3 u32 per ident (since EXTENDED_LEAF_DATA): span, text index, is_raw. */
	ident: number[];
	/** Children of every subtree: index << 2 | tag (0 subtree, 1 literal, 2 punct, 3 ident). */
	token_tree: number[];
	/** Interned strings of idents and literals. */
	text: string[];
}

const IDENT = 0;
const PUNCT = 1;
const LITERAL = 2;
/** rust-analyzer's literal kind for integers. */
const RA_LIT_INTEGER = 3;
const NO_SUFFIX = 0xffffffff;

/** One token of the repeating pattern, for token index i. */
function tokenAt(i: number): { kind: number; text: string } {
	const k = Math.floor(i / 7);
	switch (i % 7) {
		case 0:
			return { kind: IDENT, text: 'let' };
		case 1:
			return { kind: IDENT, text: `v${k}` };
		case 2:
			return { kind: PUNCT, text: '=' };
		case 3:
			return { kind: IDENT, text: 'a' };
		case 4:
			return { kind: PUNCT, text: '+' };
		case 5:
			return { kind: LITERAL, text: String(k) };
		default:
			return { kind: PUNCT, text: ';' };
	}
}

/** Builds the N-token workload in both forms. */
export function makeWorkload(n: number): Workload {
	const records = new Array<number>(n * RECORD_WIDTH);
	const parts: string[] = [];
	let textBytes = 0;
	let source = 0;
	const tree: FlatTree = { subtree: [0, 0, 0, 0, n], literal: [], punct: [], ident: [], token_tree: new Array<number>(n), text: [] };
	const interned = new Map<string, number>();
	const intern = (s: string): number => {
		let index = interned.get(s);
		if (index === undefined) {
			index = tree.text.length;
			tree.text.push(s);
			interned.set(s, index);
		}
		return index;
	};
	for (let i = 0; i < n; i++) {
		const { kind, text } = tokenAt(i);
		const len = text.length; // ASCII: bytes = chars
		const at = i * RECORD_WIDTH;
		records[at] = kind;
		records[at + 1] = 0;
		records[at + 2] = textBytes;
		records[at + 3] = len;
		records[at + 4] = source;
		records[at + 5] = source + len;
		parts.push(text);
		textBytes += len;
		source += len + 1;
		// Span ids 1..N; id 0 is the root's (and the call site's).
		const span = i + 1;
		if (kind === IDENT) {
			tree.token_tree[i] = ((tree.ident.length / 3) << 2) | 3;
			tree.ident.push(span, intern(text), 0);
		} else if (kind === PUNCT) {
			tree.token_tree[i] = ((tree.punct.length / 3) << 2) | 2;
			tree.punct.push(span, text.charCodeAt(0), 0);
		} else {
			tree.token_tree[i] = ((tree.literal.length / 4) << 2) | 1;
			tree.literal.push(span, intern(text), RA_LIT_INTEGER, NO_SUFFIX);
		}
	}
	const text = parts.join('');
	return { tokens: n, stream: { text, records }, typed: { text, records: Uint32Array.from(records) }, flatTree: tree };
}
