import { describe, expect, it } from 'vitest';
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
		});
		expect(options.restart.maxRestarts).toBe(10);
		expect(Object.isFrozen(options)).toBe(true);
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
		[{ timeout: 5 }, 'Unknown MacroHost option `timeout`; known options are: encoding, requestTimeoutMs, startTimeoutMs, quarantineAfter, restart, stderrTailBytes, shutdownTimeoutMs, forceKillAfterMs, nodePath, hostScript, hostArgs, cwd, env, onStderr, clientName, memoryLimitMiB, warmStandby.'],
	])('refuses %j', (options, message) => {
		expect(() => normalizeOptions(options as never)).toThrow(new TypeError(message));
	});

	it('refuses options that are not an object', () => {
		expect(() => normalizeOptions(null as never)).toThrow(new TypeError('The `options` option must be an object, but received null.'));
	});
});
