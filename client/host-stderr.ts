/**
 * A host's stderr: every chunk kept in a bounded tail (for crash reports) and handed, as text, to
 * the `onStderr` listener when there is one.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import type { OutputTail } from './output-tail.js';

/** Reads `stderr` into `tail` and passes its text to `onStderr`; a throwing listener is ignored. */
export function forwardStderr(stderr: Readable, tail: OutputTail, onStderr: ((text: string) => void) | undefined): void {
	const decoder = new StringDecoder('utf8');
	stderr.on('data', (chunk: Buffer) => {
		tail.push(chunk);
		if (onStderr === undefined) return;
		const text = decoder.write(chunk);
		try {
			if (text !== '') onStderr(text);
		} catch {
			// A faulty listener must not break the pipe we read crash reports from.
		}
	});
}
