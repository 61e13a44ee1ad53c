// One build in its own process, for the concurrent-build test: node build-worker.mjs <project-dir> <cache-dir>.
// Prints the built packages as JSON on stdout; a failure goes to stderr with exit code 1.
import { buildProject } from '../../dist/client/packages/index.js';

const [projectDir, cacheDir] = process.argv.slice(2);
try {
	const result = await buildProject(projectDir, { cacheDir });
	process.stdout.write(JSON.stringify({ cargoRuns: result.cargoRuns, packages: result.packages }));
} catch (error) {
	process.stderr.write(String(error?.stack ?? error));
	process.exitCode = 1;
}
