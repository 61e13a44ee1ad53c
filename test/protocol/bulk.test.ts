import { describe, expect, it } from 'vitest';
import { alignBulk, BULK_ALIGN, bulkSize, checkBulkRef, isBulkTokenStream, requestSlot, slotFileName } from '../../dist/protocol/bulk.js';

describe('bulk references', () => {
	it('lay streams out at multiples of 8, 24 bytes per token plus the text', () => {
		expect(BULK_ALIGN).toBe(8);
		expect([0, 1, 8, 75].map(alignBulk)).toEqual([0, 8, 8, 80]);
		expect(bulkSize(3, 3)).toBe(75);
		expect(slotFileName(4)).toBe('slot-4');
	});

	it('are told from inline streams by their bulk field', () => {
		expect(isBulkTokenStream({ bulk: {} })).toBe(true);
		expect(isBulkTokenStream({ text: '', records: [] })).toBe(false);
		expect(isBulkTokenStream(null)).toBe(false);
	});

	it('are checked field by field, with messages naming the field', () => {
		expect(checkBulkRef({ bulk: { slot: 0, offset: 16, tokens: 3, textBytes: 3 } }, 'params.args')).toBeUndefined();
		expect(checkBulkRef({ bulk: 'x' }, 'params.args')).toBe('params.args.bulk must be an object {slot, offset, tokens, textBytes}');
		expect(checkBulkRef({ bulk: { slot: 0, offset: 0, tokens: 1.5, textBytes: 0 } }, 'params.item')).toBe(
			'params.item.bulk.tokens must be a non-negative integer, got 1.5',
		);
		expect(checkBulkRef({ bulk: { offset: 0, tokens: 1, textBytes: 0 } }, 'result.tokens')).toBe(
			'result.tokens.bulk.slot must be a non-negative integer, got nothing',
		);
		expect(checkBulkRef({ bulk: { slot: 0, offset: 12, tokens: 1, textBytes: 0 } }, 'params.args')).toBe(
			'params.args.bulk.offset must be a multiple of 8, got 12',
		);
	});

	it("name a request's slot: the first sound reference among args and item", () => {
		const ref = (slot: number) => ({ bulk: { slot, offset: 0, tokens: 1, textBytes: 1 } });
		expect(requestSlot({ name: 'x', args: ref(2) })).toBe(2);
		expect(requestSlot({ derives: ['A'], item: ref(5) })).toBe(5);
		expect(requestSlot({ args: { text: 'a', records: [] }, item: ref(1) })).toBe(1);
		expect(requestSlot({ args: { bulk: { slot: -1 } } })).toBeUndefined();
		expect(requestSlot({ args: { text: 'a', records: [] } })).toBeUndefined();
		expect(requestSlot(undefined)).toBeUndefined();
	});
});
