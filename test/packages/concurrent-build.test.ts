/** Two processes building the same package into one empty cache at once: both succeed and share one valid library. */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { MacroHost } from '../../dist/client/index.js';
import { expandInline } from './expand-helpers.js';
import { removeTempDirs, tempDir, writeCairoPackage, writeMacroPackage } from './helpers.js';

afterAll(removeTempDirs);

const WORKER = fileURLToPath(new URL('./build-worker.mjs', import.meta.url));
let host: MacroHost | undefined;
afterAll(async () => {
	await host?.close();
});

describe('concurrent builds of one package', () => {
	it('two processes end with one complete, loadable library', { timeout: 240_000 }, async () => {
		const root = tempDir('concurrent');
		const cacheDir = join(root, 'cache');
		writeMacroPackage(join(root, 'twin'), { name: 'twin_macro' });
		const app = writeCairoPackage(join(root, 'app'), 'app', { twin_macro: '{ path = "../twin", version = "0.1.0" }' });

		const runs = await Promise.all([0, 1].map(() => execa(process.execPath, [WORKER, app, cacheDir], { reject: false })));
		for (const run of runs) expect(run.exitCode, run.stderr).toBe(0);
		const [a, b] = runs.map((run) => JSON.parse(run.stdout) as { packages: { libraryPath: string; source: string }[] });
		expect(a!.packages[0]!.libraryPath).toBe(b!.packages[0]!.libraryPath);
		const libraryPath = a!.packages[0]!.libraryPath;

		// Only the published library is left: every temporary copy was renamed or removed.
		expect(readdirSync(dirname(libraryPath))).toEqual(['libtwin_macro.so']);
		host = await MacroHost.start();
		const info = await host.loadLibrary(libraryPath);
		expect(info.macros.map((m) => m.name)).toEqual(['twin_macro_m']);
		expect(await expandInline(host, 'twin_macro_m', 'x + 1')).toEqual({ outcome: 'replace', code: 'x + 1' });
	});
});
