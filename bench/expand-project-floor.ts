/**
 * The floor of the `expand-project/cold` row: the least a Node program must do to expand a project's
 * macro calls out of process, and nothing else. It starts its hosts first (bare Node echo hosts,
 * bench/node-echo-host.ts), reads every source, tokenizes it with the project's tokenizer, finds each
 * `name!(…)` call by its tokens, sends every call's arguments to a host as one JSON line (all at once,
 * round robin), splices each answer back as `(answer)` and writes the files. No framing, no
 * supervision, no checks, no library: what is left between it and `macro-host expand-project` is
 * ours.
 *
 *   node dist/bench/expand-project-floor.js <project-dir> <out-dir> <hosts>
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RECORD_WIDTH, RecordField, TokenKind } from '../protocol/token-stream.js';
import { tokenize } from '../tokens/tokenizer.js';

const ECHO_HOST = fileURLToPath(new URL('./node-echo-host.js', import.meta.url));

interface Call {
	file: number;
	/** Byte range of the whole call in the source. */
	start: number;
	end: number;
}

async function main(projectDir: string, outDir: string, hostCount: number): Promise<void> {
	const hosts = Array.from({ length: hostCount }, () => spawn(process.execPath, [ECHO_HOST], { stdio: ['pipe', 'pipe', 'inherit'] }));
	const srcDir = join(projectDir, 'src');
	const names = readdirSync(srcDir).filter((name) => name.endsWith('.cairo')).sort();
	const sources = names.map((name) => Buffer.from(readFileSync(join(srcDir, name))));
	const calls: Call[] = [];
	const lines: string[][] = hosts.map(() => []);
	sources.forEach((bytes, file) => {
		const { stream } = tokenize(bytes.toString('utf8'));
		const r = stream.records;
		const count = r.length / RECORD_WIDTH;
		const at = (i: number, field: number): number => r[i * RECORD_WIDTH + field];
		const isPunct = (i: number, char: number): boolean =>
			i < count && at(i, RecordField.kind) === TokenKind.punct && at(i, RecordField.textLength) === 1 && bytes[at(i, RecordField.textOffset)] === char;
		for (let i = 0; i + 2 < count; i++) {
			if (at(i, RecordField.kind) !== TokenKind.ident || !isPunct(i + 1, 0x21) || !isPunct(i + 2, 0x28)) continue;
			let depth = 0;
			let close = i + 2;
			for (; close < count; close++) {
				if (isPunct(close, 0x28)) depth++;
				else if (isPunct(close, 0x29) && --depth === 0) break;
			}
			const argsStart = at(i + 2, RecordField.textOffset) + 1;
			const argsEnd = at(close, RecordField.textOffset);
			const id = calls.length;
			calls.push({ file, start: at(i, RecordField.textOffset), end: argsEnd + 1 });
			lines[id % hostCount].push(JSON.stringify({ id, args: bytes.toString('utf8', argsStart, argsEnd), records: Array.from(r.subarray((i + 3) * RECORD_WIDTH, close * RECORD_WIDTH)) }));
			i = close;
		}
	});
	const answers: string[] = new Array(calls.length);
	await Promise.all(
		hosts.map(
			(host, h) =>
				new Promise<void>((resolve, reject) => {
					let pending = '';
					let left = lines[h].length;
					host.stdout.setEncoding('utf8');
					host.stdout.on('data', (chunk: string) => {
						pending += chunk;
						for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n')) {
							const answer = JSON.parse(pending.slice(0, nl)) as { id: number; args: string };
							pending = pending.slice(nl + 1);
							answers[answer.id] = answer.args;
							if (--left === 0) host.stdin.end();
						}
					});
					host.on('error', reject);
					host.on('exit', () => (left === 0 ? resolve() : reject(new Error(`echo host ${h} ended with ${left} answers missing`))));
					if (left === 0) host.stdin.end();
					else host.stdin.write(lines[h].join('\n') + '\n');
				}),
		),
	);
	mkdirSync(join(outDir, 'src'), { recursive: true });
	let next = 0;
	sources.forEach((bytes, file) => {
		const parts: string[] = [];
		let from = 0;
		for (; next < calls.length && calls[next].file === file; next++) {
			parts.push(bytes.toString('utf8', from, calls[next].start), `(${answers[next]})`);
			from = calls[next].end;
		}
		parts.push(bytes.toString('utf8', from));
		writeFileSync(join(outDir, 'src', names[file]), parts.join(''));
	});
}

const [projectDir, outDir, hosts] = process.argv.slice(2);
main(projectDir, outDir, Number(hosts)).catch((error: unknown) => {
	console.error(error);
	process.exitCode = 1;
});
