#!/usr/bin/env node
// The last step of `npm run build`: bundles the compiled host entry (dist/server/main.js and what it
// imports, vscode-jsonrpc included) into one CommonJS file, dist/server/host-bundle.cjs; puts the
// start-up loader (tsc's output of server/host-loader.cts, bundled with what it imports) at dist/server/host.cjs, which the client
// spawns (DEFAULT_HOST_SCRIPT in client/options.ts) and which runs the bundle from a V8 code cache;
// then makes that cache (train-host-code-cache.js). Node then reads and compiles one file at start
// instead of ~40 ES modules resolved and linked one by one, mostly from cached bytecode; a CommonJS
// entry also spares the ES module loader. See docs/performance.md (cold start). dist/server/main.js
// stays as it is: `macro-host serve` imports it, and the server tests spawn it.
//
// - The input is tsc's output, not the TypeScript sources: the bundle runs exactly what tsc emitted.
// - koffi (a native addon) and msgpackr (which finds its native extension through createRequire) are
//   not bundled: they are required from node_modules at run time. koffi's native addon is required
//   directly, by the path koffi's own loader picks here (koffiAddonPlugin).
// - What the host imports on first use (the wasm loader, the msgpack codec) stays lazy: esbuild turns
//   those dynamic imports into module initialisers that run on first use, within the one file. Node
//   modules the host rarely needs are required on first use too (lazyBuiltinsPlugin).
// - The bundle sits in dist/server beside main.js, so the paths the host makes from import.meta.url
//   (package.json, the wasm worker script dist/server/wasm/worker.js) are the same; in CommonJS,
//   import.meta.url is defined from __filename (the loader's, which is in the same directory).
// - The bundle's first line carries a hash of its content: V8 checks a code cache against the
//   source's length only, so the loader keys its cache on this id.
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleLoaderEntry } from './bundle-loader-entry.js';
import { trainHostCodeCache } from './train-host-code-cache.js';

const serverDir = fileURLToPath(new URL('../dist/server/', import.meta.url));
const bundleFile = `${serverDir}host-bundle.cjs`;
const entryFile = `${serverDir}host.cjs`;
/** tsc's output of server/host-loader.cts. */
const loaderFile = `${serverDir}host-loader.cjs`;
const require = createRequire(import.meta.url);
const { BUNDLE_ID_PREFIX, STARTUP_LOG_ENV } = require(loaderFile);

/**
 * Node modules the host requires at start but rarely uses, required on first use instead:
 * vscode-jsonrpc's node entry requires crypto only to name pipes (which the host never opens);
 * worker_threads serves wasm libraries only. crypto alone is 4–7 ms of a start.
 */
const LAZY_BUILTINS = ['crypto', 'worker_threads'];

// A failed build must not leave the previous host behind for the client to spawn (host.cjs.map is
// from the builds before the loader).
for (const file of [entryFile, `${entryFile}.map`, bundleFile, `${bundleFile}.map`]) rmSync(file, { force: true });

const idPlaceholder = '0'.repeat(20);
const result = await build({
	entryPoints: [`${serverDir}main.js`],
	outfile: bundleFile,
	write: false,
	bundle: true,
	format: 'cjs',
	platform: 'node',
	target: 'node20',
	external: ['koffi', 'msgpackr'],
	plugins: [koffiAddonPlugin(), lazyBuiltinsPlugin(LAZY_BUILTINS)],
	define: { 'import.meta.url': '__macroHostModuleUrl' },
	banner: { js: `${BUNDLE_ID_PREFIX}${idPlaceholder}\nconst __macroHostModuleUrl = require('node:url').pathToFileURL(__filename).href;` },
	// Not minified: stack traces in the host's stderr keep our names.
	sourcemap: 'linked',
	legalComments: 'none',
	logLevel: 'warning',
});
for (const output of result.outputFiles) {
	if (output.path === bundleFile) {
		// Same length as the placeholder, so the source map's lines and columns stay right.
		const id = createHash('sha256').update(output.text).digest('hex').slice(0, idPlaceholder.length);
		writeFileSync(bundleFile, output.text.replace(idPlaceholder, id));
	} else {
		writeFileSync(output.path, output.contents);
	}
}
// Last: host.cjs newer than main.js is what tells the client the bundle is current.
await bundleLoaderEntry(loaderFile, entryFile);

await trainHostCodeCache({ entry: entryFile });

/**
 * Resolves `koffi` in the bundle to a module that requires koffi's native addon straight from the
 * path koffi's own loader picks on this machine, with the version it reports, falling back to
 * `require('koffi')` when that fails or finds another version. koffi's package entry spends 10–15 ms
 * of every start getting there (resolving its platform package through package exports, reading
 * Node's ELF header to tell glibc from musl); the addon itself is all the host uses (koffi's
 * wrappers only add deprecation warnings to APIs the host does not call).
 */
function koffiAddonPlugin() {
	const addon = findKoffiAddon();
	if (addon === undefined) return { name: 'koffi-addon', setup() {} };
	const contents = `// Generated by scripts/bundle-host.js (koffiAddonPlugin).
var addon, reason, native;
try {
	native = require(require("node:path").join(__dirname, ${JSON.stringify(addon.path)}));
	if (native.version === ${JSON.stringify(addon.version)}) addon = native;
	else reason = "the addon is version " + native.version + ", the bundle was made with ${addon.version}";
} catch (error) {
	reason = error.message.split("\\n")[0];
}
if (process.env.${STARTUP_LOG_ENV} === "1") {
	require("node:fs").writeSync(2, "macro-host: koffi: " + (addon ? "addon required directly" : "through its package (" + reason + ")") + "\\n");
}
module.exports = addon || require("koffi");
`;
	return {
		name: 'koffi-addon',
		setup(bundler) {
			bundler.onResolve({ filter: /^koffi$/ }, (args) =>
				args.namespace === 'koffi-addon' ? { path: 'koffi', external: true } : { path: 'koffi', namespace: 'koffi-addon' },
			);
			bundler.onLoad({ filter: /.*/, namespace: 'koffi-addon' }, () => ({ contents, loader: 'js', resolveDir: serverDir }));
		},
	};
}

/** The addon `require('koffi')` loads from dist/server: its path relative to there, and its version. */
function findKoffiAddon() {
	const requireFromServer = createRequire(bundleFile);
	try {
		const koffi = requireFromServer('koffi');
		const native = koffi.default ?? koffi;
		const file = Object.keys(requireFromServer.cache).find((key) => key.endsWith('.node') && requireFromServer.cache[key]?.exports === native);
		if (file === undefined || typeof native.version !== 'string') throw new Error('cannot tell which file is its native addon');
		return { path: relative(serverDir, file).split('\\').join('/'), version: native.version };
	} catch (error) {
		console.warn(`bundle-host: koffi's addon is not required directly: ${error.message}`);
		return undefined;
	}
}

/** Each of `names` becomes a module whose exports require the real one on first access. */
function lazyBuiltinsPlugin(names) {
	const filter = new RegExp(`^(node:)?(${names.join('|')})$`);
	return {
		name: 'lazy-builtins',
		setup(bundler) {
			bundler.onResolve({ filter }, (args) =>
				args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
			);
			bundler.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
				const keys = Object.keys(require(`node:${args.path}`));
				const contents = `// Generated by scripts/bundle-host.js (lazyBuiltinsPlugin).
var real;
function load() { return real || (real = require("node:${args.path}")); }
${JSON.stringify(keys)}.forEach(function (key) {
	Object.defineProperty(exports, key, { enumerable: true, get: function () { return load()[key]; } });
});
`;
				return { contents, loader: 'js' };
			});
		},
	};
}
