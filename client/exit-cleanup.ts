/**
 * What the client must undo if its process exits while hosts still run: their process groups
 * killed (a detached host outlives its parent otherwise; execa's own cleanup skips detached
 * children) and their bulk-stream directories removed. One `exit` listener, installed on first use,
 * runs every task still registered; each owner removes its task once it cleaned up itself. A client
 * killed outright runs nothing: the host's PR_SET_PDEATHSIG ends it, and the next client removes the
 * directories whose owner is gone.
 */

const tasks = new Set<() => void>();
let installed = false;

/**
 * Runs `task` (synchronous, as `exit` listeners must be) if the process exits before the returned
 * function is called to cancel it.
 */
export function onClientExit(task: () => void): () => void {
	if (!installed) {
		installed = true;
		process.once('exit', runTasks);
	}
	tasks.add(task);
	return () => {
		tasks.delete(task);
	};
}

function runTasks(): void {
	for (const task of tasks) {
		try {
			task();
		} catch {
			// One failed cleanup must not stop the others.
		}
	}
	tasks.clear();
}
