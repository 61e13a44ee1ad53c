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
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const cliDir = fileURLToPath(new URL('../dist/client/cli/', import.meta.url));
const distDir = fileURLToPath(new URL('../dist/', import.meta.url));

await build({
	entryPoints: [`${cliDir}main.js`],
	outfile: `${cliDir}macro-host.cjs`,
	bundle: true,
	format: 'cjs',
	platform: 'node',
	target: 'node20',
	external: ['koffi', 'msgpackr'],
	plugins: [ownImportMetaUrl()],
	banner: {
		// A module's import.meta.url, from its path relative to the bundle (see ownImportMetaUrl). esbuild
		// keeps main.js's `#!` line above it.
		js: "const __macroHostModuleUrl = (path) => require('node:url').pathToFileURL(require('node:path').join(__dirname, path)).href;",
	},
	// Not minified: stack traces keep our names.
	sourcemap: 'linked',
	legalComments: 'none',
	logLevel: 'warning',
});

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
