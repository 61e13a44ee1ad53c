/**
 * The floor of the pool's noop row: the same calls spread over one bare Node echo host, then two
 * (bench/node-echo-host.ts), by a driver that does only what any client must do per call: encode its
 * request (one JSON line) and parse its reply. No framing, no leases, no supervision, no library.
 *
 * On a machine with two CPUs, the driver and the hosts share them: with one host, driver and host
 * each have a CPU; with two, three processes share two. The rate can then grow by at most the share of
 * the hosts' work in the whole, which this floor measures for the least work a client and a host can do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ECHO_HOST = fileURLToPath(new URL('./node-echo-host.js', import.meta.url));
/** Calls written to one host per write, as the pool's batches carry them. */
const CALLS_PER_WRITE = 256;

interface EchoHost {
	child: ChildProcess;
	/** Replies still expected in the current run. */
	waiting: number;
	/** The start of an incomplete reply line. */
	rest: string;
	settle: (() => void) | undefined;
}

/** One or more bare Node echo hosts, driven as a pool drives its hosts. */
export class EchoPoolFloor {
	private constructor(private readonly hosts: EchoHost[]) {}

	static start(size: number): EchoPoolFloor {
		return new EchoPoolFloor(Array.from({ length: size }, () => spawnHost()));
	}

	/**
	 * Sends `calls` requests for `params`, a batch of them to each host in turn, all at once; every
	 * reply is parsed. Resolves with calls per second.
	 */
	async run(calls: number, method: string, params: unknown): Promise<number> {
		const started = performance.now();
		const done = this.hosts.map((host) => new Promise<void>((resolve) => (host.settle = resolve)));
		const written: number[] = this.hosts.map(() => 0);
		for (let first = 0, turn = 0; first < calls; first += CALLS_PER_WRITE, turn++) {
			const index = turn % this.hosts.length;
			const last = Math.min(calls, first + CALLS_PER_WRITE);
			let lines = '';
			for (let id = first; id < last; id++) lines += JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n';
			written[index]! += last - first;
			this.hosts[index]!.waiting += last - first;
			this.hosts[index]!.child.stdin!.write(lines);
		}
		this.hosts.forEach((host, i) => {
			if (written[i] === 0) host.settle?.();
		});
		await Promise.all(done);
		return calls / ((performance.now() - started) / 1000);
	}

	async close(): Promise<void> {
		await Promise.all(
			this.hosts.map(
				(host) =>
					new Promise<void>((resolve) => {
						if (host.child.exitCode !== null || host.child.signalCode !== null) return resolve();
						host.child.once('exit', () => resolve());
						host.child.stdin!.end();
					}),
			),
		);
	}
}

function spawnHost(): EchoHost {
	const child = spawn(process.execPath, [ECHO_HOST], { stdio: ['pipe', 'pipe', 'inherit'] });
	const host: EchoHost = { child, waiting: 0, rest: '', settle: undefined };
	child.stdin!.on('error', () => undefined);
	child.stdout!.setEncoding('utf8').on('data', (text: string) => {
		const lines = (host.rest + text).split('\n');
		host.rest = lines.pop()!;
		for (const line of lines) JSON.parse(line);
		host.waiting -= lines.length;
		if (host.waiting === 0) {
			const settle = host.settle;
			host.settle = undefined;
			settle?.();
		}
	});
	return host;
}
