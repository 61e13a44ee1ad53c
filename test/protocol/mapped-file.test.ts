/** Slot files mapped into this process: grown and allocated before writes, size-checked before reads. */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CAN_MAP_FILES, MappedFile, MappedFileError } from '../../dist/protocol/node/mapped-file.js';

let dir: string;
const open: MappedFile[] = [];
beforeEach(() => {
	dir = mkdtempSync(join(tmpdir(), 'macro-host-mapped-'));
});
afterEach(() => {
	for (const file of open.splice(0)) {
		file.unmap();
		closeSync(file.fd);
	}
	rmSync(dir, { recursive: true, force: true });
});

function mapped(name: string): MappedFile {
	const file = new MappedFile(openSync(join(dir, name), 'w+'), name);
	open.push(file);
	return file;
}

describe('MappedFile', () => {
	it('is used on Linux only, where posix_fallocate makes stores into a memory file safe', () => {
		expect(CAN_MAP_FILES).toBe(process.platform === 'linux');
	});

	it('grows the file for a write, and what is stored is what the file holds', () => {
		const file = mapped('slot-0');
		new Uint8Array(file.forWriting(5)).set([104, 101, 108, 108, 111]);
		expect(readFileSync(join(dir, 'slot-0'), 'latin1')).toBe('hello');
		// A larger write maps again and keeps what was there.
		const bytes = new Uint8Array(file.forWriting(1 << 20));
		bytes[(1 << 20) - 1] = 33;
		const data = readFileSync(join(dir, 'slot-0'));
		expect(data.length).toBe(1 << 20);
		expect(data.subarray(0, 5).toString('latin1')).toBe('hello');
		expect(data[(1 << 20) - 1]).toBe(33);
	});

	it('sees what another writer put in the file', () => {
		const file = mapped('slot-1');
		writeFileSync(join(dir, 'slot-1'), 'abcdef');
		expect(Buffer.from(file.forReading(6)).toString('latin1', 0, 6)).toBe('abcdef');
	});

	it('refuses to read past the end of the file, even after the file was cut short under a mapping', () => {
		const file = mapped('slot-2');
		file.forWriting(4096);
		truncateSync(join(dir, 'slot-2'), 10);
		expect(() => file.forReading(11)).toThrow(new MappedFileError('the stream ends at byte 11 of slot-2, which has only 10 bytes', 'ERANGE'));
		expect(file.forReading(10).byteLength).toBeGreaterThanOrEqual(10);
	});

	it('says why a file cannot be allocated, instead of faulting on the store', () => {
		symlinkSync('/dev/full', join(dir, 'slot-3'));
		const file = new MappedFile(openSync(join(dir, 'slot-3'), 'r+'), 'slot-3');
		open.push(file);
		let error: unknown;
		try {
			file.forWriting(4096);
		} catch (caught) {
			error = caught;
		}
		expect(error).toBeInstanceOf(MappedFileError);
		expect((error as MappedFileError).message).toMatch(/^cannot allocate 4096 bytes of slot-3: E[A-Z]+ \(errno \d+\)$/);
	});

	it('maps nothing for an empty read', () => {
		expect(mapped('slot-4').forReading(0).byteLength).toBe(0);
	});
});
