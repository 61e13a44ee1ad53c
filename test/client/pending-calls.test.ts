/** The supervisor's pending calls: send order, deletes anywhere, and O(1) answers (by operation counts, not wall time). */
import { describe, expect, it } from 'vitest';
import { PendingCalls, type PendingNode } from '../../dist/client/pending-calls.js';

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

	/**
	 * The slowdown this module exists to avoid: with a Set, finding the first entry walked over every
	 * entry deleted before it (V8 leaves holes until the table shrinks), so each answer cost O(answers
	 * so far). Wall time on a shared machine cannot show that reliably; operation counts can: answering
	 * (first, delete, add the next call) takes the same fixed number of index operations with 100 or
	 * 20,000 calls in flight and after thousands of answers, and never walks the index.
	 */
	it('answers a call with a fixed number of index operations, whatever the number in flight or answered before', () => {
		const perAnswer = (inFlight: number): { lookups: number; walks: number } => {
			const index = new CountingMap<number, PendingNode<number>>();
			const calls = new PendingCalls<number>(index);
			for (let i = 0; i < inFlight; i++) calls.add(i);
			index.lookups = 0;
			const answers = 5_000;
			for (let next = inFlight, i = 0; i < answers; i++, next++) {
				const head = calls.first()!;
				expect(head).toBe(i);
				calls.delete(head);
				calls.add(next);
			}
			expect(calls.size).toBe(inFlight);
			return { lookups: index.lookups / answers, walks: index.walks };
		};
		const few = perAnswer(100);
		const many = perAnswer(20_000);
		expect(few.walks).toBe(0);
		expect(many.walks).toBe(0);
		expect(many.lookups).toBe(few.lookups);
		// get and delete for the answered call, has and set for the new one.
		expect(few.lookups).toBe(4);
	});
});

/** A Map that counts keyed operations and every walk over its entries. */
class CountingMap<K, V> extends Map<K, V> {
	lookups = 0;
	walks = 0;
	override get(key: K): V | undefined {
		this.lookups++;
		return super.get(key);
	}
	override has(key: K): boolean {
		this.lookups++;
		return super.has(key);
	}
	override set(key: K, value: V): this {
		this.lookups++;
		return super.set(key, value);
	}
	override delete(key: K): boolean {
		this.lookups++;
		return super.delete(key);
	}
	override keys(): MapIterator<K> {
		this.walks++;
		return super.keys();
	}
	override values(): MapIterator<V> {
		this.walks++;
		return super.values();
	}
	override entries(): MapIterator<[K, V]> {
		this.walks++;
		return super.entries();
	}
	override forEach(callback: (value: V, key: K, map: Map<K, V>) => void): void {
		this.walks++;
		super.forEach(callback);
	}
	override [Symbol.iterator](): MapIterator<[K, V]> {
		this.walks++;
		return super[Symbol.iterator]();
	}
}
