/**
 * Pins the calling thread, and so every process it spawns from then on, to one CPU.
 *
 * Why the small-call rows need it: on a virtual machine with an idle second CPU, a 20-token round trip
 * costs either about 35 µs or about 80 µs depending on whether the kernel wakes the server on the
 * driver's CPU or on the other, halted one. Which one it picks changes from run to run and from process
 * to process, so the same build measured 1.4× and 3.3× the bare Node echo in four runs in a row. With
 * every process on one CPU nothing is woken across CPUs, and the round trip is the work the two
 * processes do: three runs of the same build then agreed within 5%.
 */
import koffi from 'koffi';

/** Bytes of a cpu_set_t (glibc's, 1024 CPUs). */
const CPU_SET_BYTES = 128;

interface Affinity {
	get(tid: number, size: number, mask: Buffer): number;
	set(tid: number, size: number, mask: Buffer): number;
}

let affinity: Affinity | undefined | null;

function bind(): Affinity | undefined {
	if (affinity !== undefined) return affinity ?? undefined;
	affinity = null;
	if (process.platform !== 'linux') return undefined;
	try {
		const libc = koffi.load('libc.so.6');
		affinity = {
			get: libc.func('int sched_getaffinity(int pid, size_t size, _Out_ uint8_t *mask)') as Affinity['get'],
			set: libc.func('int sched_setaffinity(int pid, size_t size, const uint8_t *mask)') as Affinity['set'],
		};
	} catch {
		affinity = null;
	}
	return affinity ?? undefined;
}

/**
 * Pins the calling thread to the first CPU it may run on; returns a function that restores its mask,
 * or a sentence saying why it could not pin (not Linux, no sched_setaffinity).
 */
export function pinToOneCpu(): (() => void) | string {
	const calls = bind();
	if (calls === undefined) return 'CPU affinity is only set on Linux with glibc';
	const saved = Buffer.alloc(CPU_SET_BYTES);
	if (calls.get(0, CPU_SET_BYTES, saved) !== 0) return 'sched_getaffinity failed';
	const first = saved.findIndex((byte) => byte !== 0);
	if (first === -1) return 'the thread may run on no CPU (empty affinity mask)';
	const one = Buffer.alloc(CPU_SET_BYTES);
	one[first] = saved[first]! & -saved[first]!;
	if (calls.set(0, CPU_SET_BYTES, one) !== 0) return 'sched_setaffinity failed';
	return () => {
		calls.set(0, CPU_SET_BYTES, saved);
	};
}
