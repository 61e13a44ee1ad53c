/**
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
import { concat, leb, Reader, WasmBinaryError } from './binary-reader.js';

const F32 = 0x7d;
const F64 = 0x7c;

// Scalar float operations whose NaN result is not fixed by the spec.
const F32_OPS = new Set([0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0xb6]);
const F64_OPS = new Set([0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xbb]);
// SIMD (0xfd) float operations with the same freedom: rounding, sqrt, arithmetic, min/max, demote/promote.
const SIMD_FLOAT_OPS = new Set([94, 95, 103, 104, 105, 106, 116, 117, 122, 148, 227, 228, 229, 230, 231, 232, 233, 239, 240, 241, 242, 243, 244, 245]);

const CANONICAL_F32 = [0x00, 0x00, 0xc0, 0x7f];
const CANONICAL_F64 = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x7f];

/** The code section `body` rewritten; `paramCounts[i]` is the parameter count of the module's i-th own function. */
export function canonicalizeNans(body: Uint8Array, paramCounts: readonly number[]): Uint8Array {
	const r = new Reader(body, 0);
	const count = r.u32();
	const out: Uint8Array[] = [leb(count)];
	for (let i = 0; i < count; i++) {
		const size = r.u32();
		const end = r.pos + size;
		const rewritten = rewriteFunction(body.subarray(r.pos, end), paramCounts[i] ?? 0, i);
		out.push(leb(rewritten.length), rewritten);
		r.pos = end;
	}
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

function rewriteFunction(fn: Uint8Array, params: number, index: number): Uint8Array {
	const r = new Reader(fn, 0);
	let locals = params;
	const groups = r.u32();
	const groupsStart = r.pos;
	for (let g = 0; g < groups; g++) {
		locals += r.u32();
		r.valueType();
	}
	const codeStart = r.pos;
	const f32Local = locals;
	const f64Local = locals + 1;
	const code: Uint8Array[] = [];
	let copiedTo = codeStart;
	let changed = false;
	while (r.pos < fn.length) {
		const op = r.byte();
		if (F32_OPS.has(op) || F64_OPS.has(op)) {
			const f32 = F32_OPS.has(op);
			const local = leb(f32 ? f32Local : f64Local);
			code.push(fn.subarray(copiedTo, r.pos));
			code.push(Uint8Array.from([0x21, ...local, f32 ? 0x43 : 0x44, ...(f32 ? CANONICAL_F32 : CANONICAL_F64), 0x20, ...local, 0x20, ...local, 0x20, ...local, f32 ? 0x5c : 0x62, 0x1b]));
			copiedTo = r.pos;
			changed = true;
			continue;
		}
		skipImmediates(r, op, index);
	}
	if (!changed) return fn;
	code.push(fn.subarray(copiedTo));
	// Two more local groups: one f32 and one f64 scratch local, after every existing local.
	return concat([leb(groups + 2), fn.subarray(groupsStart, codeStart), leb(1), Uint8Array.of(F32), leb(1), Uint8Array.of(F64), ...code]);
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
