/**
 * A compiler driver written against the published package only (`macro-host/client`, `/driver`,
 * `/tokens`), type-checked with the strictest settings by test/publish/npm-pack.test.ts: it calls one
 * macro directly, checks its output, then expands a source through the reference driver.
 */
import { MacroHost, type ExpandResult } from 'macro-host/client';
import { expandSource, MacroRegistry, type SourceExpansion } from 'macro-host/driver';
import { checkTokenStream, tokenize } from 'macro-host/tokens';

const libraryPath = process.argv[2];
if (libraryPath === undefined) throw new Error('usage: driver <library>');
const host = await MacroHost.start();
try {
	const info = await host.loadLibrary(libraryPath);
	const direct: ExpandResult = await host.expandInline({ name: 'wrap', args: tokenize('x').stream, callSite: { start: 0, end: 1 }, library: info.library });
	if (direct.tokens !== undefined && checkTokenStream(direct.tokens) !== undefined) throw new Error('wrap returned code that does not parse');
	const registry = new MacroRegistry([{ name: 'basic', library: info.library, macros: info.macros }]);
	const result: SourceExpansion = await expandSource('fn f() { wrap!(a, b) }\n', { registry, caller: host });
	process.stdout.write(result.text);
} finally {
	await host.close();
}
