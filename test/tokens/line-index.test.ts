import { describe, expect, it } from 'vitest';
import { LineIndex } from '../../dist/tokens/line-index.js';

describe('LineIndex', () => {
	it('maps byte offsets of ASCII text to 1-based lines and columns, with the line text', () => {
		const index = new LineIndex('ab\ncd\n\nef');
		expect(index.lookup(0)).toEqual({ line: 1, column: 1, lineText: 'ab' });
		expect(index.lookup(1)).toEqual({ line: 1, column: 2, lineText: 'ab' });
		expect(index.lookup(2)).toEqual({ line: 1, column: 3, lineText: 'ab' });
		expect(index.lookup(3)).toEqual({ line: 2, column: 1, lineText: 'cd' });
		expect(index.lookup(6)).toEqual({ line: 3, column: 1, lineText: '' });
		expect(index.lookup(8)).toEqual({ line: 4, column: 2, lineText: 'ef' });
		expect(index.lineCount).toBe(4);
	});

	it('counts columns in characters after 2-, 3- and 4-byte UTF-8 characters', () => {
		// Bytes: é(2) ✓(3) 😀(4) x(1)  → x starts at byte 9 and is the 4th character.
		const index = new LineIndex('first\né✓😀x y\n');
		const lineStart = 6;
		expect(index.byteLength).toBe(6 + 2 + 3 + 4 + 3 + 1);
		expect(index.lookup(lineStart + 2)).toMatchObject({ line: 2, column: 2 });
		expect(index.lookup(lineStart + 5)).toMatchObject({ line: 2, column: 3 });
		expect(index.lookup(lineStart + 9)).toMatchObject({ line: 2, column: 4, lineText: 'é✓😀x y' });
		expect(index.lookup(lineStart + 11)).toMatchObject({ line: 2, column: 6 });
	});

	it('resolves an offset inside a multi-byte character to that character', () => {
		const index = new LineIndex('a😀b');
		expect(index.lookup(3).column).toBe(2);
		expect(index.lookup(5).column).toBe(3);
	});

	it('handles lines after multi-byte text on earlier lines', () => {
		const text = '// ünïcödé ✓\nfn main() {}';
		const offset = Buffer.byteLength('// ünïcödé ✓\nfn ');
		expect(new LineIndex(text).lookup(offset)).toEqual({ line: 2, column: 4, lineText: 'fn main() {}' });
	});

	it('strips a carriage return from CRLF lines and clamps offsets past the end', () => {
		const index = new LineIndex('a\r\nbc');
		expect(index.lookup(3)).toEqual({ line: 2, column: 1, lineText: 'bc' });
		expect(index.lookup(0)).toEqual({ line: 1, column: 1, lineText: 'a' });
		expect(index.lookup(999)).toEqual({ line: 2, column: 3, lineText: 'bc' });
		expect(new LineIndex('').lookup(0)).toEqual({ line: 1, column: 1, lineText: '' });
	});
});
