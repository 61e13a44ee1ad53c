#!/usr/bin/env node
// The last step of `npm run build`: bundles the compiled host entry (dist/server/main.js and what it
// imports, vscode-jsonrpc included) into one CommonJS file, dist/server/host.cjs, which the client
// spawns (DEFAULT_HOST_SCRIPT in client/options.ts). Node then reads and compiles one file at start
// instead of ~40 ES modules resolved and linked one by one; a CommonJS entry also spares the ES module
// loader. See docs/performance.md (cold start). dist/server/main.js stays as it is: `macro-host serve`
// imports it, and the server tests spawn it.
//
// - The input is tsc's output, not the TypeScript sources: the bundle runs exactly what tsc emitted.
// - koffi (a native addon) and msgpackr (which finds its native extension through createRequire) are
//   not bundled: they are required from node_modules at run time.
// - What the host imports on first use (the wasm loader, the msgpack codec) stays lazy: esbuild turns
//   those dynamic imports into module initialisers that run on first use, within the one file.
// - The bundle sits in dist/server beside main.js, so the paths the host makes from import.meta.url
//   (package.json, the wasm worker script dist/server/wasm-worker.js) are the same; in CommonJS,
//   import.meta.url is defined from __filename.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const serverDir = fileURLToPath(new URL('../dist/server/', import.meta.url));
const outfile = `${serverDir}host.cjs`;

// A failed build must not leave the previous bundle behind for the client to spawn.
rmSync(outfile, { force: true });
rmSync(`${outfile}.map`, { force: true });

await build({
	entryPoints: [`${serverDir}main.js`],
	outfile,
	bundle: true,
	format: 'cjs',
	platform: 'node',
	target: 'node20',
	external: ['koffi', 'msgpackr'],
	define: { 'import.meta.url': '__macroHostModuleUrl' },
	banner: { js: "const __macroHostModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
	// Not minified: stack traces in the host's stderr keep our names.
	sourcemap: 'linked',
	legalComments: 'none',
	logLevel: 'warning',
});
