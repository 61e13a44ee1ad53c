/**
 * Row 1, cold start: spawn → initialize → library loaded, against a bare `node -e 0` (Node's own
 * floor, the yardstick) and rust-analyzer's spawn → ApiVersionCheck → ListMacros. The three
 * are measured in turn within each repetition, so drift of the machine hits all of them alike.
 */
import { spawn } from 'node:child_process';
import { relative } from 'node:path';
import { MacroHost } from '../../client/index.js';
import { raSkipNote, raTarget, type BenchContext } from '../context.js';
import { RaServer } from '../ra-server.js';
import { HOST_MAIN, RawHost } from '../raw-host.js';
import type { Row } from '../report.js';
import { summarize } from '../stats.js';

/** The target: spawn → ready within this multiple of a bare `node -e 0`. */
const TARGET_VS_NODE = 1.5;

export async function coldStartRows(ctx: BenchContext): Promise<Row[]> {
	const runs = ctx.sizes.coldStartRuns;
	const ra = raTarget(ctx);
	const node: number[] = [];
	const ours: number[] = [];
	const theirs: number[] = [];
	const client: number[] = [];
	ctx.progress(`cold start: ${runs} runs each of node -e 0, the host, rust-analyzer and MacroHost.start`);
	// One untimed round first: the page cache and the dynamic loader warm up for everyone.
	for (let i = -1; i < runs; i++) {
		const n = await timeNodeBare();
		const o = await timeHost(ctx.fixtures.library);
		const t = ra ? await timeRa(ra.path, ra.dylib) : undefined;
		const c = await timeMacroHost(ctx.fixtures.library);
		if (i < 0) continue;
		node.push(n);
		ours.push(o);
		if (t !== undefined) theirs.push(t);
		client.push(c);
	}
	const nodeSummary = summarize(node);
	const oursSummary = summarize(ours);
	const vsNode = oursSummary.median / nodeSummary.median;
	return [
		{
			id: 'cold-start/host',
			title: 'cold start: spawn → initialize → library loaded',
			unit: 'ms',
			json: oursSummary,
			floor: nodeSummary,
			floorLabel: 'node -e 0',
			theirs: theirs.length ? summarize(theirs) : undefined,
			theirsNote: ra ? undefined : raSkipNote(ctx),
			target: { text: `≤ ${TARGET_VS_NODE}× node -e 0 (now ${vsNode.toFixed(2)}×)`, met: vsNode <= TARGET_VS_NODE },
			note: `raw frames to \`node ${relative(process.cwd(), HOST_MAIN)}\`; rust-analyzer: spawn → ApiVersionCheck → ListMacros`,
		},
		{
			id: 'cold-start/macro-host',
			title: 'cold start through MacroHost.start + loadLibrary',
			unit: 'ms',
			json: summarize(client),
			floor: nodeSummary,
			floorLabel: 'node -e 0',
			theirs: theirs.length ? summarize(theirs) : undefined,
			theirsNote: ra ? undefined : raSkipNote(ctx),
		},
	];
}

/** spawn → exit of `node -e 0`. */
function timeNodeBare(): Promise<number> {
	const started = performance.now();
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
		child.once('error', reject);
		child.once('exit', () => resolve(performance.now() - started));
	});
}

async function timeHost(library: string): Promise<number> {
	const started = performance.now();
	const host = new RawHost();
	try {
		await host.initializeAndLoad(library);
		return performance.now() - started;
	} finally {
		await host.kill();
	}
}

async function timeRa(path: string, dylib: string): Promise<number> {
	const started = performance.now();
	const server = RaServer.spawn(path);
	try {
		const version = server.apiVersion();
		await Promise.all([version, server.listMacros(dylib)]);
		return performance.now() - started;
	} finally {
		await server.close();
	}
}

async function timeMacroHost(library: string): Promise<number> {
	const started = performance.now();
	const host = await MacroHost.start();
	try {
		await host.loadLibrary(library);
		return performance.now() - started;
	} finally {
		await host.close();
	}
}
