import { afterEach, describe, expect, it } from 'vitest';
import { connectHost, fixture, initialize, tokens, IDENT, type ConnectedHost } from './harness.js';

const hosts: ConnectedHost[] = [];
afterEach(() => {
	for (const host of hosts.splice(0)) {
		host.connection.dispose();
		host.child.kill('SIGKILL');
	}
});

describe('reply order before a crash', () => {
	// The client finds the culprit of a crash as the oldest unanswered request, so every reply to an
	// earlier request must be on the pipe before the next macro runs, even when that macro kills the host.
	it.each([1, 2, 3, 4, 5])('writes every earlier reply before running the macro that exits (round %i)', async () => {
		const host = connectHost('json');
		hosts.push(host);
		await initialize(host.connection);
		await host.connection.sendRequest('loadLibrary', { path: fixture('libc_basic.so') });
		const answered: string[] = [];
		const innocent = ['a', 'b', 'c'].map((name) =>
			host.connection.sendRequest('expandInline', { name: 'wrap', args: tokens([IDENT, name, 0]) }).then(
				() => answered.push(name),
				() => undefined,
			),
		);
		host.connection.sendRequest('expandInline', { name: 'bang_exit3', args: tokens() }).catch(() => undefined);
		expect(await host.exited).toEqual({ code: 3, signal: null });
		// Replies that reached the pipe are dispatched asynchronously: wait until all three are in (a
		// reply the host never wrote fails the poll at its deadline), then check their order.
		await expect.poll(() => answered.length, { timeout: 20_000, interval: 10 }).toBe(3);
		await Promise.all(innocent);
		expect(answered).toEqual(['a', 'b', 'c']);
	});
});
