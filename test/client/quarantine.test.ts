import { describe, expect, it } from 'vitest';
import { Quarantine, quarantineKey, validateQuarantineAfter } from '../../dist/client/quarantine.js';

describe('Quarantine', () => {
	it('quarantines a macro after `limit` crashes, and only that macro', () => {
		const quarantine = new Quarantine(3);
		const segv = quarantineKey('/lib/a.so', 'inline', ['bang_segv']);
		const wrap = quarantineKey('/lib/a.so', 'inline', ['wrap']);
		expect(quarantine.recordCrash(segv)).toEqual({ crashes: 1, isQuarantined: false });
		expect(quarantine.recordCrash(segv)).toEqual({ crashes: 2, isQuarantined: false });
		expect(quarantine.isQuarantined(segv)).toBe(false);
		expect(quarantine.recordCrash(segv)).toEqual({ crashes: 3, isQuarantined: true });
		expect(quarantine.isQuarantined(segv)).toBe(true);
		expect(quarantine.isQuarantined(wrap)).toBe(false);
		expect(quarantine.crashes(wrap)).toBe(0);
	});

	it('tells libraries, kinds and derive lists apart', () => {
		const keys = new Set([
			quarantineKey('/lib/a.so', 'inline', ['noop']),
			quarantineKey('/lib/b.so', 'inline', ['noop']),
			quarantineKey('/lib/a.so', 'derive', ['noop']),
			quarantineKey('/lib/a.so', 'derive', ['A', 'B']),
			quarantineKey('/lib/a.so', 'derive', ['A']),
		]);
		expect(keys.size).toBe(5);
	});

	it('validates quarantineAfter', () => {
		expect(validateQuarantineAfter(1)).toBe(1);
		expect(() => validateQuarantineAfter(0)).toThrow(
			new TypeError('The `quarantineAfter` option must be an integer 1 or more (crashes of the same macro), but received 0 (number).'),
		);
	});
});
