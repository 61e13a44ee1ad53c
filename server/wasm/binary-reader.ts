/**
 * Reading and writing the pieces of a WebAssembly binary the rewriters need: LEB128 numbers, names,
 * value types, limits and constant expressions. A malformed piece is a {@link WasmBinaryError}.
 */

/** A binary the rewriter cannot parse; the message says where. */
export class WasmBinaryError extends Error {
	override readonly name = 'WasmBinaryError';
}

/** Reads a binary from a position. */
export class Reader {
	constructor(
		private readonly bytes: Uint8Array,
		public pos: number,
	) {}

	byte(): number {
		if (this.pos >= this.bytes.length) throw new WasmBinaryError('unexpected end of a section');
		return this.bytes[this.pos++];
	}

	u32(): number {
		let result = 0;
		let shift = 0;
		for (;;) {
			const b = this.byte();
			result += (b & 0x7f) * 2 ** shift;
			if ((b & 0x80) === 0) return result;
			shift += 7;
			if (shift > 35) throw new WasmBinaryError('a LEB128 number is too long');
		}
	}

	/** Skips a length-prefixed byte string (a name, a data segment's bytes). */
	skipName(): void {
		// Not `this.pos += this.u32()`: that adds to the position read before the length was.
		const length = this.u32();
		this.pos += length;
	}

	/** A value type; returns its first byte (a reference type with a heap type skips that too). */
	valueType(): number {
		const type = this.byte();
		if (type === 0x63 || type === 0x64) this.signedLeb();
		return type;
	}

	/** A reference type, as {@link valueType}. */
	refType(): number {
		return this.valueType();
	}

	limits(): void {
		const flags = this.byte();
		this.u32();
		if (flags & 1) this.u32();
	}

	/** Skips a constant expression up to and including its `end` (0x0b). */
	skipConstExpr(): void {
		for (;;) {
			const op = this.byte();
			if (op === 0x0b) return;
			if (op === 0x41 || op === 0x42 || op === 0x23 || op === 0xd2) this.signedLeb();
			else if (op === 0x43) this.pos += 4;
			else if (op === 0x44) this.pos += 8;
			else if (op === 0xd0) this.signedLeb();
			else if (op === 0xfd) {
				this.u32();
				this.pos += 16;
			} else if (op === 0x6a || op === 0x6b || op === 0x6c || op === 0x7c || op === 0x7d || op === 0x7e) {
				// Extended constant expressions: arithmetic with no immediates.
			} else throw new WasmBinaryError(`unsupported opcode 0x${op.toString(16)} in a global's initializer`);
		}
	}

	signedLeb(): void {
		while (this.byte() & 0x80);
	}
}

/** An unsigned LEB128 number. */
export function leb(value: number): Uint8Array {
	const bytes: number[] = [];
	do {
		let b = value % 128;
		value = Math.floor(value / 128);
		if (value > 0) b |= 0x80;
		bytes.push(b);
	} while (value > 0);
	return Uint8Array.from(bytes);
}

/** The parts, one after the other. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
	let length = 0;
	for (const p of parts) length += p.length;
	const out = new Uint8Array(length);
	let at = 0;
	for (const p of parts) {
		out.set(p, at);
		at += p.length;
	}
	return out;
}

/** The signed LEB128 of the i32 with the low 32 bits of `value` (an i32.const immediate). */
export function sleb32(value: number): number[] {
	let v = value | 0;
	const out: number[] = [];
	for (;;) {
		const b = v & 0x7f;
		v >>= 7;
		if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
			out.push(b);
			return out;
		}
		out.push(b | 0x80);
	}
}
