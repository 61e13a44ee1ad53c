#!/usr/bin/env node
// A step of `npm run build`: bundles the compiled CLI (dist/client/cli/main.js and what it imports,
// execa, vscode-jsonrpc and smol-toml included) into one CommonJS file, dist/client/cli/macro-host.cjs,
// which is what the `macro-host` command runs (package.json "bin"). Node then reads and compiles one
// file instead of resolving and linking about 150 ES modules one by one: importing the driver took
// 200 ms of every `expand-project`, execa alone 110 ms; the bundle loads in about 80 ms. See
// docs/performance.md (expand-project). dist/client/cli/main.js stays as it is, for `node dist/...`.
//
// - The input is tsc's output: the bundle runs exactly what tsc emitted.
// - koffi and msgpackr (native addons, found through their own loaders) are required from
//   node_modules at run time, not bundled.
// - Each module keeps its own `import.meta.url` (the file tsc wrote), so the paths modules make from
//   it (the host script, the bundled SDK, package.json) are what they are outside the bundle.
// - The command itself, dist/client/cli/macro-host.cjs, is the start-up loader (client/cli/cli-loader.cts,
//   bundled with protocol/node/code-cache-loader.cts): it runs the bundle, macro-host-bundle.cjs, from a V8
//   code cache, which train-cli-code-cache.js makes here. The bundle's first line carries a hash of its
//   content (V8 checks a cache against the source's length only), and it may hold no dynamic import():
//   Node 20 loses a script's import callback when the script comes from a code cache.
import { createHash } from 'node:crypto';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleLoaderEntry } from './bundle-loader-entry.js';
import { trainCliCodeCache } from './train-cli-code-cache.js';

const cliDir = fileURLToPath(new URL('../dist/client/cli/', import.meta.url));
const distDir = fileURLToPath(new URL('../dist/', import.meta.url));
const entryFile = `${cliDir}macro-host.cjs`;
const bundleFile = `${cliDir}macro-host-bundle.cjs`;
/** tsc's output of client/cli/cli-loader.cts. */
const loaderFile = `${cliDir}cli-loader.cjs`;
const { BUNDLE_ID_PREFIX } = createRequire(import.meta.url)(`${distDir}protocol/node/code-cache-loader.cjs`);

// A failed build must not leave the previous command behind (macro-host.cjs.map is from the builds before the loader).
for (const file of [entryFile, `${entryFile}.map`, bundleFile, `${bundleFile}.map`]) rmSync(file, { force: true });

const result = await build({
	entryPoints: [`${cliDir}main.js`],
	outfile: bundleFile,
	write: false,
	bundle: true,
	format: 'cjs',
	platform: 'node',
	target: 'node20',
	external: ['koffi', 'msgpackr'],
	plugins: [ownImportMetaUrl()],
	banner: {
		// A module's import.meta.url, from its path relative to the bundle (see ownImportMetaUrl). esbuild
		// keeps main.js's `#!` line above it, which becomes the bundle's id line below.
		js: "const __macroHostModuleUrl = (path) => require('node:url').pathToFileURL(require('node:path').join(__dirname, path)).href;",
	},
	// Not minified: stack traces keep our names.
	sourcemap: 'linked',
	legalComments: 'none',
	logLevel: 'warning',
});
for (const output of result.outputFiles) {
	if (output.path !== bundleFile) {
		writeFileSync(output.path, output.contents);
		continue;
	}
	const text = output.text;
	if (!text.startsWith('#!')) throw new Error('bundle-cli: main.js no longer starts with a #! line, which the bundle id replaces');
	if (/\bimport\(/.test(text)) throw new Error(`bundle-cli: the bundle has a dynamic import(), which does not run from a code cache: ${text.match(/.*\bimport\(.*/)[0].trim()}`);
	// One line for one line, so the source map's lines stay right.
	const id = createHash('sha256').update(text).digest('hex').slice(0, 20);
	writeFileSync(bundleFile, `${BUNDLE_ID_PREFIX}${id}${text.slice(text.indexOf('\n'))}`);
}
// Last: the command itself, the loader with what it imports, as one file.
await bundleLoaderEntry(loaderFile, entryFile, '#!/usr/bin/env node');
// Run as a command from the repository (npm links "bin" entries executable; a checkout does not).
chmodSync(entryFile, 0o755);

await trainCliCodeCache({ entry: entryFile });

/** Replaces `import.meta.url` in each of our modules by its own file's URL, made at run time from the bundle's place. */
function ownImportMetaUrl() {
	return {
		name: 'own-import-meta-url',
		setup(bundler) {
			bundler.onLoad({ filter: /\.js$/ }, async (args) => {
				if (!args.path.startsWith(distDir)) return undefined;
				const source = await readFile(args.path, 'utf8');
				if (!source.includes('import.meta.url')) return undefined;
				const path = relative(cliDir, args.path).split('\\').join('/');
				return { contents: source.replaceAll('import.meta.url', `__macroHostModuleUrl(${JSON.stringify(path)})`), loader: 'js' };
			});
		},
	};
}
