import { defineConfig } from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.ts'],
		// Fixture macro libraries are compiled from source once per run, before any test file starts.
		globalSetup: ['test/global-setup.ts'],
		testTimeout: 60_000,
		hookTimeout: 300_000,
		// Crash tests spawn real host processes; two cores are plenty busy with two workers.
		maxWorkers: 2,
	},
});
