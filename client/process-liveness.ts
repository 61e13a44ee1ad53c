/**
 * Whether a process still exists, for the leftovers a killed client leaves behind (build-cache
 * temporaries, bulk-stream directories): their names carry the pid of the process that made them.
 */

/** True while a process with this id exists, this one included (EPERM: it exists, under another user). */
export function isProcessRunning(pid: number): boolean {
	if (pid === process.pid) return true;
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}
