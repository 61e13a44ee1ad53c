/** Process-exit cleanup in a real child process: registered tasks run once at exit, cancelled ones do not, a throwing one stops nothing. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('../../dist/client/exit-cleanup.js', import.meta.url));

describe('onClientExit', () => {
	it('runs the tasks still registered when the process exits, each once', () => {
		const script = `
			import { writeSync } from 'node:fs';
			const { onClientExit } = await import(${JSON.stringify(MODULE)});
			onClientExit(() => writeSync(1, 'first\\n'));
			const cancel = onClientExit(() => writeSync(1, 'cancelled\\n'));
			onClientExit(() => { throw new Error('a failed cleanup'); });
			onClientExit(() => writeSync(1, 'last\\n'));
			cancel();
			writeSync(1, 'exiting\\n');
			process.exit(3);
		`;
		const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
		expect(child.stderr).toBe('');
		expect(child.status).toBe(3);
		expect(child.stdout).toBe('exiting\nfirst\nlast\n');
	});

	it('installs one exit listener, on the first task and not at import', () => {
		const script = `
			const counts = [process.listenerCount('exit')];
			const { onClientExit } = await import(${JSON.stringify(MODULE)});
			counts.push(process.listenerCount('exit'));
			onClientExit(() => undefined);
			onClientExit(() => undefined);
			counts.push(process.listenerCount('exit'));
			process.stdout.write(counts.map((n) => n - counts[0]).join(' '));
		`;
		const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
		expect(child.stderr).toBe('');
		expect(child.stdout).toBe('0 0 1');
	});
});
