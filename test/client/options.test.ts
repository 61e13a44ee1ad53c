import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_HOST_SCRIPT, normalizeOptions } from '../../dist/client/options.js';

describe('normalizeOptions', () => {
	it('applies every documented default', () => {
		const options = normalizeOptions();
		expect(options).toMatchObject({
			encoding: 'json',
			requestTimeoutMs: 30_000,
			startTimeoutMs: 10_000,
			quarantineAfter: 3,
			stderrTailBytes: 4096,
			shutdownTimeoutMs: 5_000,
			forceKillAfterMs: 2_000,
			nodePath: process.execPath,
			hostScript: DEFAULT_HOST_SCRIPT,
			hostArgs: [],
			cwd: process.cwd(),
			env: {},
			onStderr: undefined,
			clientName: 'macro-host-client',
			warmStandby: true,
			batch: true,
		});
		expect(options.restart.maxRestarts).toBe(10);
		// Bulk streams: on, from 32 KiB, in /dev/shm when it is a writable directory.
		expect(options.bulk).toEqual({ minBytes: 32 * 1024, root: expect.any(String) });
		expect(Object.isFrozen(options)).toBe(true);
	});

	it('turns bulk streams off with bulk: false, and resolves a relative bulk.dir', () => {
		expect(normalizeOptions({ bulk: false }).bulk).toBeUndefined();
		expect(normalizeOptions({ bulk: { dir: 'rel', minBytes: 0 } }).bulk).toEqual({ root: join(process.cwd(), 'rel'), minBytes: 0 });
	});

	it('resolves the host script next to the compiled client', () => {
		// `npm run build` bundles the host after tsc, so the client spawns the bundle.
		expect(DEFAULT_HOST_SCRIPT).toBe(fileURLToPath(new URL('../../dist/server/host.cjs', import.meta.url)));
	});

	it.each([
		[{ encoding: 'xml' }, 'The `encoding` option must be one of "json", "msgpack", but received \'xml\' (string).'],
		[{ requestTimeoutMs: -1 }, 'The `requestTimeoutMs` option must be an integer between 1 and 2147483647 (milliseconds), but received -1 (number).'],
		[{ requestTimeoutMs: 1.5 }, 'The `requestTimeoutMs` option must be an integer between 1 and 2147483647 (milliseconds), but received 1.5 (number).'],
		[{ quarantineAfter: null }, 'The `quarantineAfter` option must be an integer 1 or more (crashes of the same macro), but received null.'],
		[{ stderrTailBytes: '4k' }, "The `stderrTailBytes` option must be an integer 0 or more (bytes), but received '4k' (string)."],
		[{ hostArgs: '--x' }, "The `hostArgs` option must be an array of strings, but received '--x' (string)."],
		[{ hostArgs: [1] }, 'The `hostArgs` option must be an array of strings, but received [ 1 ] (array).'],
		[{ nodePath: '' }, "The `nodePath` option must be a non-empty string, but received '' (string)."],
		[{ env: { A: 1 } }, 'The `env.A` option must be a string or undefined, but received 1 (number).'],
		[{ onStderr: 'log' }, "The `onStderr` option must be a function, but received 'log' (string)."],
		[{ restart: { backoffMaxMs: -5 } }, 'The `restart.backoffMaxMs` option must be an integer 0 or more (milliseconds), but received -5 (number).'],
		[{ warmStandby: 'yes' }, "The `warmStandby` option must be true or false, but received 'yes' (string)."],
		[{ batch: 1 }, 'The `batch` option must be true or false, but received 1 (number).'],
		[{ bulk: 'yes' }, "The `bulk` option must be false or an object {minBytes?, dir?}, but received 'yes' (string)."],
		[{ bulk: true }, 'The `bulk` option must be false or an object {minBytes?, dir?}, but received true (boolean).'],
		[{ bulk: { minBytes: -1 } }, 'The `bulk.minBytes` option must be an integer 0 or more (bytes), but received -1 (number).'],
		[{ bulk: { dir: '' } }, "The `bulk.dir` option must be a non-empty string, but received '' (string)."],
		[{ bulk: { size: 1 } }, 'Unknown bulk option `size`; known options are: minBytes, dir.'],
		[{ timeout: 5 }, 'Unknown MacroHost option `timeout`; known options are: encoding, requestTimeoutMs, startTimeoutMs, quarantineAfter, restart, stderrTailBytes, shutdownTimeoutMs, forceKillAfterMs, nodePath, hostScript, hostArgs, cwd, env, onStderr, clientName, memoryLimitMiB, warmStandby, bulk, expansionCache, batch.'],
	])('refuses %j', (options, message) => {
		expect(() => normalizeOptions(options as never)).toThrow(new TypeError(message));
	});

	it('refuses options that are not an object', () => {
		expect(() => normalizeOptions(null as never)).toThrow(new TypeError('The `options` option must be an object, but received null.'));
	});
});
