/** Reads fd 0 synchronously, as the bare hosts of the bench do (bench/node-echo-host.ts, bench/floor-host.ts). */
import { readSync } from 'node:fs';

/** Reads the next bytes of stdin into `chunk`; returns how many (0 at the end of input). */
export function readStdin(chunk: Buffer): number {
	for (;;) {
		try {
			return readSync(0, chunk, 0, chunk.length, null);
		} catch (error) {
			// A non-blocking stdin (inherited) has nothing yet: try again.
			if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
		}
	}
}
