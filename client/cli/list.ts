/** `macro-host list <library> [--message-format json]`: the macros a library provides, as a table or as JSON. */
import { parseArgs } from 'node:util';
import type { LibraryInfo } from '../../protocol/library.js';
import { loadLibraryOrReport, requireLibrary, validateEncodingFlag, withHost } from './host-session.js';
import { ExitCode, HELP_FLAG, LIST_HELP, MESSAGE_FORMAT_FLAGS, parseFlags, parseMessageFormat, type CliIo } from './usage.js';

export async function runList(args: string[], io: CliIo): Promise<number> {
	const options = { ...HELP_FLAG, ...MESSAGE_FORMAT_FLAGS, encoding: { type: 'string' } } as const;
	const { values, positionals } = parseFlags('list', () => parseArgs({ args, options, strict: true, allowPositionals: true }));
	if (values.help) {
		io.out(LIST_HELP);
		return ExitCode.ok;
	}
	const library = requireLibrary(positionals, 'list');
	const encoding = validateEncodingFlag(values.encoding, 'list');
	const format = parseMessageFormat(values['message-format'], 'list', values.json);
	return withHost({ encoding }, io, async (host) => {
		const info = await loadLibraryOrReport(host, library, io);
		if (info === undefined) return ExitCode.failure;
		io.out(format === 'json' ? `${JSON.stringify(info, null, 2)}\n` : formatTable(info));
		return ExitCode.ok;
	});
}

/** A header line naming the library and its ABI, then NAME / KIND / DOC columns. */
export function formatTable(info: LibraryInfo): string {
	const rows = [['NAME', 'KIND', 'DOC'], ...info.macros.map((m) => [m.name, m.executable ? 'attribute (executable)' : m.kind, m.doc])];
	const nameWidth = Math.max(...rows.map((r) => r[0].length));
	const kindWidth = Math.max(...rows.map((r) => r[1].length));
	const lines = rows.map(([name, kind, doc]) => `${name.padEnd(nameWidth)}  ${kind.padEnd(kindWidth)}  ${doc}`.trimEnd());
	const count = info.macros.length === 1 ? '1 macro' : `${info.macros.length} macros`;
	// Our ABI reads as before ("ABI 1"); a Scarb library names Scarb's ABI and its fingerprint, if any.
	const abi = info.abi === 'scarb-v1' || info.abi === 'scarb-v2' ? `Scarb stable ABI v${info.abiVersion}` : `ABI ${info.abiVersion}`;
	const fingerprint = info.fingerprint === undefined ? '' : `, fingerprint ${info.fingerprint}`;
	return `${info.library} (${abi}, ${count}${fingerprint})\n${lines.join('\n')}\n`;
}
