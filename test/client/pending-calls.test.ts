import { describe, expect, it } from 'vitest';
import { PendingCalls } from '../../dist/client/pending-calls.js';

describe('PendingCalls', () => {
	it('keeps the order of first adding, with the oldest first', () => {
		const calls = new PendingCalls<string>();
		expect(calls.first()).toBeUndefined();
		for (const c of ['a', 'b', 'c', 'd']) calls.add(c);
		calls.add('b');
		expect([...calls]).toEqual(['a', 'b', 'c', 'd']);
		expect(calls.size).toBe(4);
		expect(calls.first()).toBe('a');
	});

	it('deletes from the front, the middle and the back', () => {
		const calls = new PendingCalls<string>();
		for (const c of ['a', 'b', 'c', 'd', 'e']) calls.add(c);
		expect(calls.delete('a')).toBe(true);
		expect(calls.first()).toBe('b');
		expect(calls.delete('c')).toBe(true);
		expect(calls.delete('e')).toBe(true);
		expect(calls.delete('e')).toBe(false);
		expect([...calls]).toEqual(['b', 'd']);
		calls.add('e');
		expect([...calls]).toEqual(['b', 'd', 'e']);
		calls.delete('b');
		calls.delete('d');
		calls.delete('e');
		expect(calls.size).toBe(0);
		expect(calls.first()).toBeUndefined();
		expect([...calls]).toEqual([]);
		calls.add('f');
		expect([...calls]).toEqual(['f']);
	});

	it('goes on iterating when the item just yielded is deleted', () => {
		const calls = new PendingCalls<number>();
		for (let i = 0; i < 5; i++) calls.add(i);
		const seen: number[] = [];
		for (const call of calls) {
			seen.push(call);
			if (call % 2 === 0) calls.delete(call);
		}
		expect(seen).toEqual([0, 1, 2, 3, 4]);
		expect([...calls]).toEqual([1, 3]);
	});

	it('answers first() at once however many were answered before', () => {
		const calls = new PendingCalls<number>();
		for (let i = 0; i < 50_000; i++) calls.add(i);
		for (let i = 0; i < 49_999; i++) {
			expect(calls.first()).toBe(i);
			calls.delete(i);
		}
		expect([...calls]).toEqual([49_999]);
	});
});
