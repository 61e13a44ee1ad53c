/**
 * The few libc calls the host makes (fd juggling, rlimits, prctl about its own process; memcpy out of
 * library memory), bound with koffi once and on first use.
 */
import koffi from 'koffi';

/** Platform constants the host needs; Linux values unless noted. */
export const LibcConstants = {
	/** fcntl command: duplicate to the lowest fd >= arg, with close-on-exec set. */
	F_DUPFD_CLOEXEC: process.platform === 'darwin' ? 67 : 1030,
	/** setrlimit resource: the maximum core file size. */
	RLIMIT_CORE: 4,
	/** setrlimit resource: the maximum size of the data segment and private writable mappings (same value on macOS). */
	RLIMIT_DATA: 2,
	/** prctl option: the signal this process gets when its parent dies (Linux only). */
	PR_SET_PDEATHSIG: 1,
	/** glibc mallopt parameters: the free memory at the heap's top kept before trimming, and the size from which malloc maps. */
	M_TRIM_THRESHOLD: -1,
	M_MMAP_THRESHOLD: -3,
	SIGKILL: 9,
} as const;

/** Typed libc functions. */
export interface Libc {
	/** fcntl(fd, cmd, int arg). */
	fcntlInt(fd: number, cmd: number, arg: number): number;
	dup2(oldFd: number, newFd: number): number;
	/** setrlimit with both limits set to the same value. */
	setrlimit(resource: number, limit: { rlim_cur: number; rlim_max: number }): number;
	getppid(): number;
	/** mallopt(param, value): 1 on success; undefined where the C library has none (not glibc). */
	mallopt?: (param: number, value: number) => number;
	/** prctl(option, arg2); undefined where prctl does not exist (not Linux). */
	prctl?: (option: number, arg2: number) => number;
	/**
	 * fstat(fd, buf) into `buf` (at least STAT_BUFFER_BYTES): -1 on error. Read st_dev and st_ino with
	 * {@link statIdentityOffsets}; where those are not known, use node's fstatSync instead.
	 */
	fstat(fd: number, buf: Uint8Array): number;
	/** memcpy(dst, src, n): copies `n` bytes from the native address `src` into `dst`. */
	memcpy(dst: Uint8Array, src: bigint, n: number): void;
	/** The C errno of the last failed call, as a readable string. */
	lastError(): string;
}

/** Bytes enough for any platform's struct stat. */
export const STAT_BUFFER_BYTES = 256;

/**
 * Where st_dev and st_ino (both 64-bit) lie in struct stat, where the host knows it: Linux on x86-64
 * and on arm64 (the generic layout) put them first. Undefined elsewhere (macOS: st_dev is 32-bit).
 */
export const statIdentityOffsets: { dev: number; ino: number } | undefined =
	process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64') ? { dev: 0, ino: 8 } : undefined;

let libc: Libc | undefined;

/** Binds libc on first use (so koffi.config can run before it, see process-hygiene.ts). */
export function getLibc(): Libc {
	if (libc) return libc;
	const lib = koffi.load(process.platform === 'darwin' ? 'libSystem.B.dylib' : 'libc.so.6');
	const rlimit = koffi.struct({ rlim_cur: 'uint64_t', rlim_max: 'uint64_t' });
	const fcntl = lib.func('int fcntl(int fd, int cmd, ...)');
	const strerror = lib.func('const char *strerror(int errnum)');
	const prctl = process.platform === 'linux' ? lib.func('int prctl(int option, ...)') : undefined;
	let mallopt: ((param: number, value: number) => number) | undefined;
	try {
		mallopt = process.platform === 'linux' ? (lib.func('int mallopt(int param, int value)') as (param: number, value: number) => number) : undefined;
	} catch {
		// Not glibc: nothing to tune.
	}
	libc = {
		fcntlInt: (fd, cmd, arg) => fcntl(fd, cmd, 'int', arg) as number,
		dup2: lib.func('int dup2(int oldfd, int newfd)') as (a: number, b: number) => number,
		setrlimit: lib.func('setrlimit', 'int', ['int', koffi.pointer(rlimit)]) as Libc['setrlimit'],
		getppid: lib.func('int getppid(void)') as () => number,
		prctl: prctl ? (option, arg2) => prctl(option, 'unsigned long', arg2) as number : undefined,
		mallopt,
		memcpy: lib.func('void *memcpy(void *dst, void *src, size_t n)') as Libc['memcpy'],
		fstat: lib.func('int fstat(int fd, void *buf)') as Libc['fstat'],
		lastError: () => {
			const errno = koffi.errno();
			return `${strerror(errno) as string} (errno ${errno})`;
		},
	};
	return libc;
}
