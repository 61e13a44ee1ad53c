import { describe, expect, it } from 'vitest';
import { OutputTail } from '../../dist/client/output-tail.js';

describe('OutputTail', () => {
	it('keeps everything under the limit', () => {
		const tail = new OutputTail(16);
		tail.push(Buffer.from('abc\n'));
		tail.push(Buffer.from('def\n'));
		expect(tail.text()).toBe('abc\ndef\n');
		expect(tail.isTruncated).toBe(false);
	});

	it('keeps only the last `limit` bytes of many writes', () => {
		const tail = new OutputTail(10);
		for (let i = 0; i < 1000; i++) tail.push(Buffer.from(`line ${i}\n`));
		expect(tail.text()).toBe('\nline 999\n');
		expect(tail.isTruncated).toBe(true);
	});

	it('drops a character cut in half at the front instead of showing U+FFFD', () => {
		const tail = new OutputTail(5);
		tail.push(Buffer.from('xé€ab')); // é is 2 bytes, € is 3: the last 5 bytes are the 3 of € and "ab"
		expect(tail.text()).toBe('€ab');
		const cut = new OutputTail(4);
		cut.push(Buffer.from('xé€ab'));
		expect(cut.text()).toBe('ab');
	});

	it('keeps nothing with a limit of 0', () => {
		const tail = new OutputTail(0);
		tail.push(Buffer.from('abc'));
		expect(tail.text()).toBe('');
		expect(tail.isTruncated).toBe(true);
	});
});
