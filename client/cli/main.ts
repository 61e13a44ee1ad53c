#!/usr/bin/env node
/**
 * The `macro-host` command: picks the subcommand and hands it the rest of the command line.
 * Each subcommand lives in its own module and is imported only when used, so `serve` starts
 * without loading the client, and `list`/`expand` without loading the server.
 */
import { ExitCode, formatUsageError, GLOBAL_HELP, packageVersion, UsageError, type CliIo } from './usage.js';

const io: CliIo = {
	out: (text) => process.stdout.write(text),
	err: (text) => process.stderr.write(text),
};

/** `-q`, `-v` and `--color` may come before the command (`macro-host -q build .`): they are the command's flags. */
const OUTPUT_FLAG = /^(-q|--quiet|-v|--verbose|--color(=.*)?)$/;

async function main(argv: string[]): Promise<number | undefined> {
	const leading: string[] = [];
	let at = 0;
	while (at < argv.length && OUTPUT_FLAG.test(argv[at]!)) {
		leading.push(argv[at]!);
		// `--color WHEN` takes the next word.
		if (argv[at] === '--color' && at + 1 < argv.length) leading.push(argv[++at]!);
		at++;
	}
	if (leading.length > 0) {
		const command = argv[at];
		if (command === undefined) throw new UsageError(`missing command after '${leading.join(' ')}'`);
		// The Cairo language server runs `scarb --quiet proc-macro-server`; a wrapper passes that line on as it is.
		if (command === 'proc-macro-server') return main(argv.slice(at).concat(leading.filter((f) => f !== '--quiet' && f !== '-q')));
		return main([command, ...leading, ...argv.slice(at + 1)]);
	}
	const [command, ...rest] = argv;
	switch (command) {
		case 'proc-macro-server':
			return (await import('./proc-macro-server.js')).runProcMacroServer(rest, io);
		case 'serve':
			return (await import('./serve.js')).runServe(rest, io);
		case 'list':
			return (await import('./list.js')).runList(rest, io);
		case 'expand':
			return (await import('./expand.js')).runExpand(rest, io);
		case 'build':
			return (await import('./build.js')).runBuild(rest, io);
		case 'expand-project':
			return (await import('./expand-project.js')).runExpandProject(rest, io);
		case 'cache':
			return (await import('./cache.js')).runCache(rest, io);
		case 'help':
			return rest.length === 0 ? help() : main([rest[0], '--help']);
		case '-h':
		case '--help':
			return help();
		case '-V':
		case '--version':
			io.out(`macro-host ${packageVersion()}\n`);
			return ExitCode.ok;
		case undefined:
			throw new UsageError("missing command: give 'serve', 'list', 'expand', 'build', 'expand-project', 'proc-macro-server' or 'cache'");
		default:
			throw new UsageError(
				command.startsWith('-') ? `unknown flag '${command}'` : `unknown command '${command}': the commands are serve, list, expand, build, expand-project, proc-macro-server and cache`,
			);
	}
}

function help(): number {
	io.out(GLOBAL_HELP);
	return ExitCode.ok;
}

// Not a top-level await: the same code runs as the CommonJS bundle the `macro-host` command starts
// (scripts/bundle-cli.js), where there is none.
main(process.argv.slice(2)).then(finish, (error: unknown) => {
	if (error instanceof UsageError) {
		io.err(formatUsageError(error));
		return finish(ExitCode.usage);
	}
	// A bug in macro-host itself, not in the macro or the command line: say so plainly.
	io.err(`error: macro-host failed unexpectedly: ${(error as Error)?.stack ?? String(error)}\n`);
	return finish(ExitCode.failure);
});

function finish(code: number | undefined): void {
	if (code === undefined) return;
	// Exit once stdout has drained, so no host process, timer or socket can keep the command alive.
	process.stdout.write('', () => process.exit(code));
}
