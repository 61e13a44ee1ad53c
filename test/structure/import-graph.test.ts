/**
 * The source tree has no import circle: every relative import (type-only ones and dynamic imports
 * included) is an edge, and the graph of every source file must be acyclic. A circle means two
 * modules each need the other, so neither is a room of its own (docs/architecture.md). And the
 * layers point one way: the host, the shared engine, the tokens and the wire contract never import
 * the client, and nothing shared imports the host.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The folders whose sources make up the project (tests and fixtures are not modules of it). */
const SOURCE_ROOTS = ['protocol', 'server', 'client', 'tokens', 'expansion', 'bench', 'sdk'];
const SOURCE = /\.(c|m)?ts$/;
// import x from '...'; import type {...} from '...'; export * from '...'; import('...'); import '...'
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
	let entries: string[];
	try {
		entries = readdirSync(dir);
	} catch {
		return [];
	}
	const files: string[] = [];
	for (const name of entries) {
		if (name === 'node_modules' || name === 'target' || name === 'fixtures') continue;
		const path = join(dir, name);
		if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
		else if (SOURCE.test(name) && !name.endsWith('.d.ts')) files.push(path);
	}
	return files;
}

/** The source file an import specifier names: `./x.js` is `./x.ts`, `./x.cjs` is `./x.cts`. */
function resolveImport(from: string, specifier: string): string | undefined {
	const target = resolve(dirname(from), specifier);
	for (const candidate of [target.replace(/\.js$/, '.ts'), target.replace(/\.cjs$/, '.cts'), target.replace(/\.mjs$/, '.mts'), target]) {
		try {
			if (statSync(candidate).isFile() && SOURCE.test(candidate)) return candidate;
		} catch {
			// Not this one.
		}
	}
	return undefined;
}

/** Each file's relative imports that lead to another source file. */
export function importGraph(files: readonly string[]): Map<string, string[]> {
	const graph = new Map<string, string[]>();
	for (const file of files) {
		const text = readFileSync(file, 'utf8');
		const edges: string[] = [];
		for (const match of text.matchAll(IMPORT)) {
			const target = resolveImport(file, match[1]);
			if (target !== undefined && target !== file) edges.push(target);
		}
		graph.set(file, edges);
	}
	return graph;
}

/** Every circle found by a depth-first walk, each as the files along it (first repeated last). */
export function findCircles(graph: Map<string, string[]>): string[][] {
	const state = new Map<string, 'open' | 'done'>();
	const stack: string[] = [];
	const circles: string[][] = [];
	const visit = (file: string): void => {
		state.set(file, 'open');
		stack.push(file);
		for (const next of graph.get(file) ?? []) {
			const seen = state.get(next);
			if (seen === 'open') circles.push([...stack.slice(stack.indexOf(next)), next]);
			else if (seen === undefined) visit(next);
		}
		stack.pop();
		state.set(file, 'done');
	};
	for (const file of graph.keys()) if (!state.has(file)) visit(file);
	return circles;
}

describe('the import graph', () => {
	it('finds a circle when there is one (the check itself)', () => {
		const graph = new Map([
			['a', ['b']],
			['b', ['c']],
			['c', ['a']],
			['d', ['a']],
		]);
		expect(findCircles(graph)).toEqual([['a', 'b', 'c', 'a']]);
		expect(findCircles(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
	});

	it('reads type-only, re-export and dynamic imports as edges', () => {
		const graph = importGraph([join(ROOT, 'server', 'library-kinds.ts')]);
		const edges = graph.get(join(ROOT, 'server', 'library-kinds.ts'))!.map((f) => relative(ROOT, f));
		expect(edges).toContain(join('server', 'library-model.ts')); // import type
		expect(edges).toContain(join('server', 'wasm', 'loader.ts')); // import()
	});

	it('has no circle among the project sources', () => {
		const files = SOURCE_ROOTS.flatMap((root) => sourceFiles(join(ROOT, root)));
		expect(files.length).toBeGreaterThan(100);
		const circles = findCircles(importGraph(files)).map((c) => c.map((f) => relative(ROOT, f)).join(' → '));
		expect(circles).toEqual([]);
	});

	it('points the layers one way: server/, expansion/, tokens/ and protocol/ never import client/; only server/ imports server/', () => {
		const graph = importGraph(['protocol', 'server', 'tokens', 'expansion', 'client'].flatMap((root) => sourceFiles(join(ROOT, root))));
		const wrong: string[] = [];
		for (const [file, targets] of graph) {
			const from = relative(ROOT, file).split('/')[0];
			for (const target of targets) {
				const to = relative(ROOT, target).split('/')[0];
				if ((to === 'client' && from !== 'client') || (to === 'server' && from !== 'server')) wrong.push(`${relative(ROOT, file)} → ${relative(ROOT, target)}`);
			}
		}
		expect(wrong).toEqual([]);
	});
});
