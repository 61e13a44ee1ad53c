/**
 * A slot file of bulk streams (protocol/bulk.ts) mapped into this process, shared with the other
 * side. Both the client and the host read and write slots through it.
 *
 * Why a mapping: writing 5 MB into a memory file with write(2) costs about three times a memcpy
 * into the same pages already mapped (the kernel looks up and locks each page), and reading it back
 * with read(2) costs more than copying out of a mapping. Why it is safe: a store into a page the file
 * does not have is a SIGBUS, which would kill the process (the client is the compiler). So every
 * write first has the file's pages allocated with posix_fallocate, which fails with ENOSPC where a
 * store would have crashed, and every read first checks the file's size, whatever the other side did
 * to the file since. The mapping is replaced (unmapped) only when it is too short; nobody keeps a view
 * of it across requests (see docs/architecture.md).
 *
 * Linux only: posix_fallocate on a memory file system is what makes the stores safe.
 */
import { fstatSync } from 'node:fs';
import { constants } from 'node:os';
import koffi from 'koffi';

/** Why a slot could not be mapped or grown; `code` is the errno name, e.g. "ENOSPC". */
export class MappedFileError extends Error {
	override readonly name = 'MappedFileError';
	constructor(
		message: string,
		readonly code: string,
	) {
		super(message);
	}
}

interface MemoryCalls {
	mmap(length: number, fd: number): number | bigint;
	munmap(address: number | bigint, length: number): number;
	/** posix_fallocate: 0, or the error number (it does not set errno). */
	fallocate(fd: number, length: number): number;
	errno(): number;
}

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
/** What mmap returns on failure: (void *)-1, a uintptr_t too large for a number. */
const MAP_FAILED = 2n ** 64n - 1n;

let calls: MemoryCalls | undefined;
/** Binds the libc calls on first use (a client that never sends a large stream never loads them). */
function memoryCalls(): MemoryCalls {
	if (calls) return calls;
	const libc = koffi.load('libc.so.6');
	const mmap = libc.func('uintptr_t mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)');
	const munmap = libc.func('int munmap(uintptr_t addr, size_t length)');
	const fallocate = libc.func('int posix_fallocate(int fd, int64_t offset, int64_t len)');
	calls = {
		mmap: (length, fd) => mmap(null, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) as number | bigint,
		munmap: (address, length) => munmap(address, length) as number,
		fallocate: (fd, length) => fallocate(fd, 0, length) as number,
		errno: () => koffi.errno(),
	};
	return calls;
}

/** True where slot files can be mapped safely (see the module comment). */
export const CAN_MAP_FILES = process.platform === 'linux';

/** Why slot files are not mapped on this platform, or undefined where they are (both sides say it the same way). */
export function mappingUnsupported(): string | undefined {
	return CAN_MAP_FILES ? undefined : `slot files are only mapped on Linux, not on ${process.platform}`;
}

/** One open slot file and its mapping. */
export class MappedFile {
	private address: number | bigint = 0;
	private length = 0;
	private buffer: ArrayBuffer | undefined;

	/** @param fd an open, readable and writable descriptor of the file; closed by its owner, after {@link unmap}. */
	constructor(
		readonly fd: number,
		/** The file's name, for messages. */
		readonly name: string,
	) {}

	/**
	 * The file's first `end` bytes, to write into: allocated first (and the file grown to `end` when
	 * shorter), so no store into them can fault. Throws MappedFileError (ENOSPC on a full file system).
	 */
	forWriting(end: number): ArrayBuffer {
		const error = end > 0 ? memoryCalls().fallocate(this.fd, end) : 0;
		if (error !== 0) throw new MappedFileError(`cannot allocate ${end} bytes of ${this.name}: ${describeErrno(error)}`, errnoName(error));
		return this.mapped(Math.max(end, this.size()));
	}

	/** The file's first `end` bytes, to read; throws MappedFileError when the file is shorter. */
	forReading(end: number): ArrayBuffer {
		const size = this.size();
		if (end > size) throw new MappedFileError(`the stream ends at byte ${end} of ${this.name}, which has only ${size} bytes`, 'ERANGE');
		return this.mapped(size);
	}

	/** Drops the mapping (before the file is cut short or closed). */
	unmap(): void {
		if (this.buffer === undefined) return;
		memoryCalls().munmap(this.address, this.length);
		this.buffer = undefined;
		this.length = 0;
	}

	private size(): number {
		return fstatSync(this.fd).size;
	}

	/** A mapping of at least `length` bytes (the whole file, so a request's streams share one). */
	private mapped(length: number): ArrayBuffer {
		if (this.buffer !== undefined && this.length >= length) return this.buffer;
		this.unmap();
		if (length === 0) return new ArrayBuffer(0);
		const memory = memoryCalls();
		const address = memory.mmap(length, this.fd);
		if (BigInt(address) === MAP_FAILED) {
			const errno = memory.errno();
			throw new MappedFileError(`cannot map ${this.name}: ${describeErrno(errno)}`, errnoName(errno));
		}
		this.address = address;
		this.length = length;
		this.buffer = koffi.view(address, length);
		return this.buffer;
	}
}

function errnoName(errno: number): string {
	for (const [name, value] of Object.entries(constants.errno)) if (value === errno) return name;
	return `errno ${errno}`;
}

function describeErrno(errno: number): string {
	return `${errnoName(errno)} (errno ${errno})`;
}
