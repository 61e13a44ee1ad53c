// A step of bundle-host.js and bundle-cli.js: writes a start-up entry (the host's dist/server/host.cjs,
// the command's dist/client/cli/macro-host.cjs) as one CommonJS file, its loader (tsc's output) with what
// it imports (protocol/node/code-cache-loader.cts), so that the entry runs from anywhere it is copied.
import { build } from 'esbuild';

/** Bundles `loaderFile` into `entryFile`, with `firstLine` (a `#!` line, say) above it when given. */
export async function bundleLoaderEntry(loaderFile, entryFile, firstLine) {
	await build({
		entryPoints: [loaderFile],
		outfile: entryFile,
		bundle: true,
		format: 'cjs',
		platform: 'node',
		target: 'node20',
		...(firstLine === undefined ? {} : { banner: { js: firstLine } }),
		legalComments: 'none',
		logLevel: 'warning',
	});
}
