/**
 * Shared pieces of the client tests: fixture paths, token streams, a batch of innocent `wrap` calls
 * and its check, and hosts that are always closed after each test.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, expect } from 'vitest';
import {
	MacroHost,
	RECORD_WIDTH,
	SPAN_CALL_SITE,
	type ExpandResult,
	type HostCrashError,
	type MacroHostOptions,
	type TokenStream,
} from '../../dist/client/index.js';

/** Absolute path of a compiled fixture library (test/fixtures/build/, made by the global setup). */
export function fixture(name: string): string {
	return fileURLToPath(new URL(`../fixtures/build/${name}`, import.meta.url));
}

export const LIBC_BASIC = fixture('libc_basic.so');
export const RUST_MACROS = fixture('librust_macros.so');
/** The library ids the host reports: canonical absolute paths. */
export const LIBC_BASIC_ID = realpathSync(LIBC_BASIC);
export const RUST_MACROS_ID = realpathSync(RUST_MACROS);

/** One identifier token whose source span starts at `spanStart`. */
export function ident(text: string, spanStart: number): TokenStream {
	const bytes = Buffer.byteLength(text);
	return { text, records: [0, 0, 0, bytes, spanStart, spanStart + bytes] };
}

/** A token as tests compare it: kind, text, and its span ("call-site" for generated tokens). */
export interface SimpleToken {
	kind: number;
	text: string;
	span: [number, number] | 'call-site';
}

/** Decodes a flat stream into one object per token (fine in a test, never on a hot path). */
export function tokensOf(stream: TokenStream | undefined): SimpleToken[] {
	if (stream === undefined) return [];
	const text = Buffer.from(stream.text);
	const r = stream.records;
	const out: SimpleToken[] = [];
	for (let i = 0; i < r.length; i += RECORD_WIDTH) {
		const span: SimpleToken['span'] = r[i + 4] === SPAN_CALL_SITE ? 'call-site' : [r[i + 4], r[i + 5]];
		out.push({ kind: r[i], text: text.subarray(r[i + 2], r[i + 2] + r[i + 3]).toString(), span });
	}
	return out;
}

/** `count` wrap calls with distinct arguments `${prefix}0`, `${prefix}1`…, all sent now. */
export function wrapBatch(host: MacroHost, prefix: string, count = 20): Promise<ExpandResult>[] {
	return Array.from({ length: count }, (_, i) => host.expandInline({ name: 'wrap', args: ident(`${prefix}${i}`, 100 + i) }));
}

/** Checks a wrap answer: `(` + the argument with its span + `)`, the parens generated. */
export function expectWrapped(result: ExpandResult, arg: string, spanStart: number): void {
	expect(result.outcome).toBe('replace');
	expect(result.diagnostics).toEqual([]);
	expect(tokensOf(result.tokens)).toEqual([
		{ kind: 1, text: '(', span: 'call-site' },
		{ kind: 0, text: arg, span: [spanStart, spanStart + Buffer.byteLength(arg)] },
		{ kind: 1, text: ')', span: 'call-site' },
	]);
}

/** Checks every answer of a wrapBatch. */
export async function expectBatch(batch: Promise<ExpandResult>[], prefix: string): Promise<void> {
	const results = await Promise.all(batch);
	results.forEach((result, i) => expectWrapped(result, `${prefix}${i}`, 100 + i));
}

/** A started host with everything it reported: stderr text and crashes. */
export interface TestHost {
	host: MacroHost;
	stderr: () => string;
	crashes: HostCrashError[];
}

const started: MacroHost[] = [];
afterEach(async () => {
	await Promise.all(started.splice(0).map((host) => host.close()));
});

/** Starts a host that is closed after the test, recording its stderr and crashes. */
export async function startHost(options: MacroHostOptions = {}): Promise<TestHost> {
	let stderr = '';
	const host = await MacroHost.start({
		...options,
		onStderr: (text) => {
			stderr += text;
		},
	});
	started.push(host);
	const crashes: HostCrashError[] = [];
	host.onCrash((crash) => crashes.push(crash));
	return { host, stderr: () => stderr, crashes };
}

/** True when a process with that id exists (a zombie counts: it has not been reaped). */
export function processExists(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
		throw error;
	}
}

/** Resolves once the host has been restarted `count` times in all (a crash answers before its restart ends). */
export function whenRestarted(host: MacroHost, count: number): Promise<void> {
	if (host.restarts >= count) return Promise.resolve();
	return new Promise((resolve) => {
		const listener = host.onRestart((event) => {
			if (event.restarts < count) return;
			listener.dispose();
			resolve();
		});
	});
}
