/**
 * The bare Node echo host, the floor of the small-call rows: a Node process that reads a JSON line
 * with `readSync`, parses it, stringifies it again and writes it back with `writeSync`. It does
 * what any Node server must do for one message and nothing else (no framing, no dispatch, no
 * library), so the gap between it and `cat` is Node's own cost, and the gap between it and our host
 * is the host's.
 *
 *   node dist/bench/node-echo-host.js    (spawned by bench/rows/small-calls.ts)
 */
import { writeSync } from 'node:fs';
import { readStdin } from './stdin-chunks.js';

const chunk = Buffer.allocUnsafe(1 << 16);
let pending = '';

for (;;) {
	const n = readStdin(chunk);
	if (n === 0) break;
	pending += chunk.toString('utf8', 0, n);
	for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n')) {
		const line = JSON.stringify(JSON.parse(pending.slice(0, nl))) + '\n';
		pending = pending.slice(nl + 1);
		const bytes = Buffer.from(line, 'utf8');
		for (let at = 0; at < bytes.length; ) at += writeSync(1, bytes, at);
	}
}
