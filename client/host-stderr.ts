/**
 * A host's stderr: call marks taken out (call-mark-filter.ts), every chunk kept in a bounded tail that
 * starts afresh with each call (for crash reports, which then quote only the failing call's output), and
 * handed, as text, to the `onStderr` listener when there is one.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { CallMarkFilter } from './call-mark-filter.js';
import type { OutputTail } from './output-tail.js';

/**
 * Reads `stderr` into `tail` and passes its text to `onStderr`; a throwing listener is ignored.
 * `onThreadsLeftBehind` hears the host's threads marks.
 */
export function forwardStderr(stderr: Readable, tail: OutputTail, onStderr: ((text: string) => void) | undefined, onThreadsLeftBehind?: () => void): void {
	const decoder = new StringDecoder('utf8');
	const filter = new CallMarkFilter({
		output: (chunk) => {
			tail.push(chunk);
			if (onStderr === undefined) return;
			const text = decoder.write(chunk);
			try {
				if (text !== '') onStderr(text);
			} catch {
				// A faulty listener must not break the pipe we read crash reports from.
			}
		},
		callStarted: () => tail.restart(),
		threadsLeftBehind: onThreadsLeftBehind,
	});
	stderr.on('data', (chunk: Buffer) => filter.push(chunk));
	stderr.on('end', () => filter.end());
}
