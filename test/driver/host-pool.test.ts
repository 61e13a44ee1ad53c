/**
 * HostPool over real hosts and the C fixture library: every host loads the libraries, leases go to the
 * least-loaded live host, a crash stays in its host, and a lease whose host was given up on moves on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HostPool } from '../../dist/client/index.js';
import { expectWrapped, ident, LIBC_BASIC, LIBC_BASIC_ID } from '../client/support.js';

const pools: HostPool[] = [];
afterEach(async () => {
	await Promise.all(pools.splice(0).map((p) => p.close()));
});

async function startPool(size: number, host = {}): Promise<HostPool> {
	const pool = await HostPool.start({ size, host });
	pools.push(pool);
	return pool;
}

describe('HostPool', () => {
	it('starts N hosts and loads each library into every one of them', async () => {
		const pool = await startPool(2);
		const info = await pool.loadLibrary(LIBC_BASIC);
		expect(info.library).toBe(LIBC_BASIC_ID);
		expect(pool.size).toBe(2);
		expect(new Set(pool.hosts.map((h) => h.pid)).size).toBe(2);
		for (const host of pool.hosts) expect(host.libraries.map((l) => l.library)).toEqual([LIBC_BASIC_ID]);
		expect(pool.libraries.get(LIBC_BASIC_ID)?.hasPostProcess).toBe(true);
	});

	it('runs its hosts without a warm standby unless the host options ask for one', async () => {
		const plain = await startPool(2);
		expect(plain.hosts.map((h) => h.standbyPid)).toEqual([undefined, undefined]);
		const warm = await startPool(1, { warmStandby: true });
		expect(await warm.hosts[0].standbyReady()).toBe(true);
		expect(warm.hosts[0].standbyPid).toBeDefined();
	});

	it('hands leases to the least-loaded host, the lower index on a tie', async () => {
		const pool = await startPool(3);
		const a = pool.lease();
		const b = pool.lease();
		const c = pool.lease();
		expect([a.host, b.host, c.host]).toEqual(pool.hosts);
		b.release();
		b.release(); // idempotent
		expect(pool.lease().host).toBe(pool.hosts[1]);
		expect(pool.lease().host).toBe(pool.hosts[0]);
	});

	it('a crash stays in its host: the crashing call bails, the other host is untouched', async () => {
		const pool = await startPool(2);
		await pool.loadLibrary(LIBC_BASIC);
		const [a, b] = [pool.lease(), pool.lease()];
		const pidB = b.host.pid;
		const [crashed, fine] = await Promise.all([
			a.expandInline({ name: 'bang_segv', args: ident('x', 0), callSite: { start: 0, end: 11 } }),
			b.expandInline({ name: 'wrap', args: ident('y', 5) }),
		]);
		expect(crashed.outcome).toBe('bail');
		expect(crashed.diagnostics).toMatchObject([{ severity: 'error', code: 'host-crash', span: { start: 0, end: 11 } }]);
		expectWrapped(fine, 'y', 5);
		expect(b.host.pid).toBe(pidB);
		expect(b.host.restarts).toBe(0);
		expectWrapped(await a.expandInline({ name: 'wrap', args: ident('z', 7) }), 'z', 7);
	});

	it('moves a lease to a live host when its host is given up on, so the work still finishes', async () => {
		// maxRestarts 0: the first crash makes a host unavailable for good.
		const pool = await startPool(2, { restart: { maxRestarts: 0 } });
		await pool.loadLibrary(LIBC_BASIC);
		const lease = pool.lease();
		expect(lease.host).toBe(pool.hosts[0]);
		const crashed = await lease.expandInline({ name: 'bang_abort', args: ident('x', 0) });
		expect(crashed.diagnostics.map((d) => d.code)).toEqual(['host-crash']);
		// Host 0 now answers host-unavailable; the lease retries on host 1 and stays there.
		expectWrapped(await lease.expandInline({ name: 'wrap', args: ident('a', 3) }), 'a', 3);
		expect(lease.host).toBe(pool.hosts[1]);
		expect(pool.liveCount).toBe(1);
		expect(pool.lease().host).toBe(pool.hosts[1]);
	});

	it('refuses a size that is not a whole number from 1 to 256', async () => {
		await expect(HostPool.start({ size: 0 })).rejects.toThrow('The "size" option must be a whole number from 1 to 256, got 0 (number)');
		await expect(HostPool.start({ size: 1.5 })).rejects.toThrow(TypeError);
	});
});
