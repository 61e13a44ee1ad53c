/**
 * Rewrites of a module's code, one instruction at a time.
 *
 * Written-range tracking: before every store and every bulk memory write (memory.fill, .copy,
 * .init) the rewrite calls an added function that widens a range [lo, hi) kept in two added
 * globals, so a snapshot restore copies back only the bytes a call may have changed (instances.ts).
 * A module with SIMD stores is left untracked (its restore copies all of memory).
 *
 * Deterministic floats: rewrites a module's code so that every scalar float operation that can
 * produce a NaN yields the canonical one (f32 0x7fc00000, f64 0x7ff8000000000000), whatever NaN
 * the engine made. The wasm spec leaves a NaN result's sign and payload open, and V8's two
 * compilers (Liftoff first, TurboFan once code runs hot) pick differently, so without this a
 * macro's output could depend on how often its code had run.
 *
 * After each such operation the rewrite adds: `local.set $t; const NaN; local.get $t; local.get $t;
 * local.get $t; ne; select` ($t a scratch local added to the function): x when x == x, else the
 * canonical NaN. Operations that only move bits (abs, neg, copysign, loads, reinterpret) keep a
 * NaN as it was and are left alone. SIMD float arithmetic and relaxed SIMD cannot be made
 * deterministic this way and are refused, as are instructions this decoder does not know.
 */
import { concat, leb, Reader, sleb32, WasmBinaryError } from './binary-reader.js';

const I32 = 0x7f;
const I64 = 0x7e;
const F32 = 0x7d;
const F64 = 0x7c;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const CALL = 0x10;

// Stores: opcode -> [value type, bytes written].
const STORES = new Map<number, [number, number]>([
	[0x36, [I32, 4]],
	[0x37, [I64, 8]],
	[0x38, [F32, 4]],
	[0x39, [F64, 8]],
	[0x3a, [I32, 1]],
	[0x3b, [I32, 2]],
	[0x3c, [I64, 1]],
	[0x3d, [I64, 2]],
	[0x3e, [I64, 4]],
]);
// Bulk memory writes under 0xfc: memory.init (8), memory.copy (10), memory.fill (11); each takes (dest, i32, n).
const BULK_WRITES = new Set([8, 10, 11]);
// SIMD stores under 0xfd: v128.store (11) and the lane stores (88..91).
const SIMD_STORES = new Set([11, 88, 89, 90, 91]);

/** What the code rewrite does besides canonicalizing NaNs. */
export interface CodeRewriteOptions {
	/** Index of the added function `(start, end) -> ()` that widens the written range; undefined: no tracking. */
	markFunction?: number;
}

/** Thrown inside a tracking rewrite that meets a SIMD store: the caller rewrites again without tracking. */
class SimdStore extends Error {}

// Scalar float operations whose NaN result is not fixed by the spec.
const F32_OPS = new Set([0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0xb6]);
const F64_OPS = new Set([0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xbb]);
// SIMD (0xfd) float operations with the same freedom: rounding, sqrt, arithmetic, min/max, demote/promote.
const SIMD_FLOAT_OPS = new Set([94, 95, 103, 104, 105, 106, 116, 117, 122, 148, 227, 228, 229, 230, 231, 232, 233, 239, 240, 241, 242, 243, 244, 245]);

const CANONICAL_F32 = [0x00, 0x00, 0xc0, 0x7f];
const CANONICAL_F64 = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x7f];

/**
 * The code section `body` rewritten, with `extra` function bodies appended; `paramCounts[i]` is the
 * parameter count of the module's i-th own function. `tracksWrites` says whether stores call
 * `options.markFunction` (false when there is none, or the module has SIMD stores).
 */
export function rewriteCode(body: Uint8Array, paramCounts: readonly number[], options: CodeRewriteOptions, extra: readonly Uint8Array[] = []): { body: Uint8Array; tracksWrites: boolean } {
	if (options.markFunction !== undefined) {
		try {
			return { body: rewriteBodies(body, paramCounts, options.markFunction, extra), tracksWrites: true };
		} catch (error) {
			if (!(error instanceof SimdStore)) throw error;
		}
	}
	return { body: rewriteBodies(body, paramCounts, undefined, extra), tracksWrites: false };
}

/**
 * The body of the function `(start, end)` that widens the written range of the region `start`
 * lies in (regions of 2^shift bytes; globals lo[i] and hi[i]): a br_table on the region picks
 * the pair; an address past the last region counts in the last (such a write traps anyway).
 */
export function markFunctionBody(shift: number, lo: readonly number[], hi: readonly number[]): Uint8Array {
	const k = lo.length;
	const code: number[] = [0]; // no locals
	code.push(0x02, 0x40); // block $done
	for (let i = 0; i < k; i++) code.push(0x02, 0x40); // block $region(k-1) ... $region0
	code.push(LOCAL_GET, 0, I32_CONST, ...sleb32(shift), 0x76 /* i32.shr_u */, 0x0e, ...leb(k - 1));
	for (let i = 0; i < k - 1; i++) code.push(...leb(i));
	code.push(...leb(k - 1));
	for (let i = 0; i < k; i++) {
		code.push(0x0b); // end of the block that region i's branch leaves
		code.push(LOCAL_GET, 0, 0x23, ...leb(lo[i]), 0x49 /* lt_u */, 0x04, 0x40, LOCAL_GET, 0, 0x24, ...leb(lo[i]), 0x0b);
		code.push(LOCAL_GET, 1, 0x23, ...leb(hi[i]), 0x4b /* gt_u */, 0x04, 0x40, LOCAL_GET, 1, 0x24, ...leb(hi[i]), 0x0b);
		code.push(0x0c, ...leb(k - 1 - i)); // br $done
	}
	code.push(0x0b, 0x0b); // end $done, end of the function
	return Uint8Array.from(code);
}

function rewriteBodies(body: Uint8Array, paramCounts: readonly number[], mark: number | undefined, extra: readonly Uint8Array[]): Uint8Array {
	const r = new Reader(body, 0);
	const count = r.u32();
	const out: Uint8Array[] = [leb(count + extra.length)];
	for (let i = 0; i < count; i++) {
		const size = r.u32();
		const end = r.pos + size;
		const rewritten = rewriteFunction(body.subarray(r.pos, end), paramCounts[i] ?? 0, i, mark);
		out.push(leb(rewritten.length), rewritten);
		r.pos = end;
	}
	for (const fn of extra) out.push(leb(fn.length), fn);
	return concat(out);
}

/** The parameter count of each function type of a type section, in type index order. */
export function functionTypeParams(body: Uint8Array): number[] {
	const r = new Reader(body, 0);
	const params: number[] = [];
	for (let n = r.u32(); n > 0; n--) {
		const form = r.byte();
		if (form !== 0x60) throw new WasmBinaryError(`type ${params.length} has form 0x${form.toString(16)} (only function types are supported)`);
		const count = r.u32();
		for (let p = 0; p < count; p++) r.valueType();
		for (let results = r.u32(); results > 0; results--) r.valueType();
		params.push(count);
	}
	return params;
}

/** The type index of each function of a function section. */
export function functionTypes(body: Uint8Array): number[] {
	const r = new Reader(body, 0);
	const types: number[] = [];
	for (let n = r.u32(); n > 0; n--) types.push(r.u32());
	return types;
}

// Scratch locals added to a rewritten function, after its own: their offsets from the first.
const SCRATCH = { f32: 0, f64: 1, address: 2, i32: 3, count: 4, i64: 5 } as const;
const SCRATCH_GROUPS = [leb(1), Uint8Array.of(F32), leb(1), Uint8Array.of(F64), leb(3), Uint8Array.of(I32), leb(1), Uint8Array.of(I64)];

function rewriteFunction(fn: Uint8Array, params: number, index: number, mark: number | undefined): Uint8Array {
	const r = new Reader(fn, 0);
	let locals = params;
	const groups = r.u32();
	const groupsStart = r.pos;
	for (let g = 0; g < groups; g++) {
		locals += r.u32();
		r.valueType();
	}
	const codeStart = r.pos;
	const local = (which: keyof typeof SCRATCH): number[] => [...leb(locals + SCRATCH[which])];
	const valueLocal = (type: number): number[] => local(type === I32 ? 'i32' : type === I64 ? 'i64' : type === F32 ? 'f32' : 'f64');
	const code: Uint8Array[] = [];
	let copiedTo = codeStart;
	let changed = false;
	/** Copies the code up to `to` and adds `bytes` there. */
	const insert = (to: number, bytes: number[]): void => {
		code.push(fn.subarray(copiedTo, to), Uint8Array.from(bytes));
		copiedTo = to;
		changed = true;
	};
	while (r.pos < fn.length) {
		const at = r.pos;
		const op = r.byte();
		if (F32_OPS.has(op) || F64_OPS.has(op)) {
			const f32 = F32_OPS.has(op);
			const t = local(f32 ? 'f32' : 'f64');
			insert(r.pos, [LOCAL_SET, ...t, f32 ? 0x43 : 0x44, ...(f32 ? CANONICAL_F32 : CANONICAL_F64), LOCAL_GET, ...t, LOCAL_GET, ...t, LOCAL_GET, ...t, f32 ? 0x5c : 0x62, 0x1b]);
			continue;
		}
		const store = STORES.get(op);
		if (store !== undefined && mark !== undefined) {
			const offset = memargOffset(r);
			const [type, size] = store;
			const a = local('address');
			const v = valueLocal(type);
			// [address, value] -> mark(address + offset, address + offset + size), then the store as it was.
			insert(at, [
				LOCAL_SET, ...v, LOCAL_SET, ...a,
				LOCAL_GET, ...a, I32_CONST, ...sleb32(offset), I32_ADD,
				LOCAL_GET, ...a, I32_CONST, ...sleb32(offset + size), I32_ADD,
				CALL, ...leb(mark),
				LOCAL_GET, ...a, LOCAL_GET, ...v,
			]);
			continue;
		}
		if (op === 0xfc && mark !== undefined) {
			const sub = r.u32();
			if (BULK_WRITES.has(sub)) {
				const [a, x, n] = [local('address'), local('i32'), local('count')];
				// [dest, x, n] -> mark(dest, dest + n), then the operation as it was.
				insert(at, [LOCAL_SET, ...n, LOCAL_SET, ...x, LOCAL_SET, ...a, LOCAL_GET, ...a, LOCAL_GET, ...a, LOCAL_GET, ...n, I32_ADD, CALL, ...leb(mark), LOCAL_GET, ...a, LOCAL_GET, ...x, LOCAL_GET, ...n]);
			}
			miscImmediates(r, sub, index);
			continue;
		}
		if (op === 0xfd && mark !== undefined) {
			const sub = r.u32();
			if (SIMD_STORES.has(sub)) throw new SimdStore();
			simdImmediates(r, sub, index);
			continue;
		}
		skipImmediates(r, op, index);
	}
	if (!changed) return fn;
	code.push(fn.subarray(copiedTo));
	// More local groups, after every existing local: the scratch locals.
	return concat([leb(groups + SCRATCH_GROUPS.length / 2), fn.subarray(groupsStart, codeStart), ...SCRATCH_GROUPS, ...code]);
}

/** Reads a memarg; returns its offset. */
function memargOffset(r: Reader): number {
	const align = r.u32();
	if (align & 0x40) r.u32();
	return r.u32();
}


/** Moves past the immediates of instruction `op` (already read). */
function skipImmediates(r: Reader, op: number, fn: number): void {
	if (op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b || op === 0x0a || op === 0x19 || op === 0xd1 || op === 0xd3) return;
	if ((op >= 0x45 && op <= 0xc4) || op === 0xd1) return; // numeric operations take no immediates
	if (op === 0x02 || op === 0x03 || op === 0x04 || op === 0x06) return blockType(r);
	if (op === 0x07 || op === 0x08 || op === 0x09 || op === 0x18 || op === 0x0c || op === 0x0d || op === 0x10 || op === 0x12 || op === 0x14 || op === 0x15) return void r.u32();
	if (op === 0xd4 || op === 0xd5 || op === 0xd2) return void r.u32();
	if (op >= 0x20 && op <= 0x26) return void r.u32();
	if (op === 0x0e) {
		for (let n = r.u32(); n > 0; n--) r.u32();
		return void r.u32();
	}
	if (op === 0x11 || op === 0x13) {
		r.u32();
		return void r.u32();
	}
	if (op === 0x1c) {
		for (let n = r.u32(); n > 0; n--) r.valueType();
		return;
	}
	if (op === 0x1f) {
		blockType(r);
		for (let n = r.u32(); n > 0; n--) {
			const kind = r.byte();
			if (kind < 2) r.u32();
			r.u32();
		}
		return;
	}
	if (op >= 0x28 && op <= 0x3e) return memarg(r);
	if (op === 0x3f || op === 0x40) return void r.u32();
	if (op === 0x41 || op === 0x42) return r.signedLeb();
	if (op === 0x43) return void (r.pos += 4);
	if (op === 0x44) return void (r.pos += 8);
	if (op === 0xd0) return r.signedLeb();
	if (op === 0xfc) return miscImmediates(r, r.u32(), fn);
	if (op === 0xfd) return simdImmediates(r, r.u32(), fn);
	throw new WasmBinaryError(`function ${fn} uses instruction 0x${op.toString(16)}, which the sandbox cannot check for float determinism`);
}

function blockType(r: Reader): void {
	const first = r.byte();
	if (first === 0x40 || (first >= 0x6f && first <= 0x7f)) return;
	if (first === 0x63 || first === 0x64) return r.signedLeb();
	// A type index as a signed LEB128: this byte was its first.
	if (first & 0x80) r.signedLeb();
}

function memarg(r: Reader): void {
	const align = r.u32();
	if (align & 0x40) r.u32(); // a memory index follows (multi-memory)
	r.u32();
}

function miscImmediates(r: Reader, sub: number, fn: number): void {
	if (sub <= 7) return; // saturating truncations
	if (sub === 8 || sub === 10 || sub === 12 || sub === 14) {
		r.u32();
		return void r.u32();
	}
	if (sub <= 17) return void r.u32();
	throw new WasmBinaryError(`function ${fn} uses instruction 0xfc ${sub}, which the sandbox cannot check for float determinism`);
}

function simdImmediates(r: Reader, sub: number, fn: number): void {
	if (SIMD_FLOAT_OPS.has(sub) || sub >= 0x100) {
		throw new WasmBinaryError(`function ${fn} uses SIMD float instruction 0xfd ${sub}, whose NaN results the sandbox cannot make deterministic`);
	}
	if (sub <= 11 || sub === 92 || sub === 93) return memarg(r);
	if (sub === 12 || sub === 13) return void (r.pos += 16);
	if (sub >= 21 && sub <= 34) return void r.byte();
	if (sub >= 84 && sub <= 91) {
		memarg(r);
		return void r.byte();
	}
}
