/** The request clock on fake timers: it times one call at a time, from when that call became the running one. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestClock } from '../../dist/client/request-clock.js';

describe('RequestClock', () => {
	let expired: [string, string, number][];
	let clock: RequestClock<string, string>;

	beforeEach(() => {
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
		expired = [];
		clock = new RequestClock<string, string>(100, (call, host, timeoutMs) => expired.push([call, host, timeoutMs]));
	});
	afterEach(() => {
		clock.dispose();
		vi.useRealTimers();
	});

	it('reports the timed call once it has run for the timeout', () => {
		clock.time('a', 'h1');
		vi.advanceTimersByTime(99);
		expect(expired).toEqual([]);
		vi.advanceTimersByTime(1);
		expect(expired).toEqual([['a', 'h1', 100]]);
	});

	it('restart() gives the timed call the whole timeout again, from now, even from inside the expiry', () => {
		clock = new RequestClock<string, string>(100, (call, host, timeoutMs) => {
			expired.push([call, host, timeoutMs]);
			// As the supervisor does when a batch moved on to its next call: the first expiry restarts.
			if (expired.length === 1) clock.restart();
		});
		clock.time('a', 'h1');
		vi.advanceTimersByTime(100);
		expect(expired).toEqual([['a', 'h1', 100]]);
		vi.advanceTimersByTime(99);
		expect(expired).toHaveLength(1);
		vi.advanceTimersByTime(1);
		expect(expired).toEqual([['a', 'h1', 100], ['a', 'h1', 100]]);
	});

	it('times a new head from when it became the head, with the same timer', () => {
		clock.time('a', 'h1');
		vi.advanceTimersByTime(60);
		clock.time('b', 'h1');
		vi.advanceTimersByTime(60);
		expect(expired).toEqual([]);
		vi.advanceTimersByTime(40);
		expect(expired).toEqual([['b', 'h1', 100]]);
		expect(vi.getTimerCount()).toBe(0);
	});

	it('does not restart the time of a call timed again on the same host, but does on another host', () => {
		clock.time('a', 'h1');
		vi.advanceTimersByTime(60);
		clock.time('a', 'h1');
		vi.advanceTimersByTime(40);
		expect(expired).toEqual([['a', 'h1', 100]]);
		clock.time('a', 'h2');
		vi.advanceTimersByTime(99);
		expect(expired).toHaveLength(1);
		vi.advanceTimersByTime(1);
		expect(expired).toEqual([
			['a', 'h1', 100],
			['a', 'h2', 100],
		]);
	});

	it('reports nothing once stopped or disposed', () => {
		clock.time('a', 'h1');
		clock.stop();
		vi.advanceTimersByTime(500);
		clock.time('b', 'h1');
		clock.dispose();
		vi.advanceTimersByTime(500);
		expect(expired).toEqual([]);
		expect(vi.getTimerCount()).toBe(0);
	});
});
