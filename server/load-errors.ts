/**
 * How a library fails to load: one error type and one message form for every kind of library, so
 * that a missing file, a file of no known ABI and a bad manifest read alike whatever the backend.
 */
import { MacroHostErrorCodes, type LibraryLoadErrorData, type LibraryLoadFailure } from '../protocol/errors.js';

/** A library failed a load check. `code` is LibraryLoadFailed or AbiMismatch. */
export class LibraryLoadError extends Error {
	override readonly name = 'LibraryLoadError';
	constructor(
		message: string,
		readonly code: number,
		readonly data: LibraryLoadErrorData,
	) {
		super(message);
	}
}

/** Throws the load error of one path. */
export type LoadFailure = (reason: LibraryLoadFailure, problem: string, extra?: Partial<LibraryLoadErrorData>) => never;

/** The {@link LoadFailure} for `path`: AbiMismatch for an ABI mismatch, LibraryLoadFailed otherwise. */
export function loadFailure(path: string): LoadFailure {
	return (reason, problem, extra = {}) => {
		const code = reason === 'abiMismatch' ? MacroHostErrorCodes.AbiMismatch : MacroHostErrorCodes.LibraryLoadFailed;
		throw new LibraryLoadError(`cannot load macro library ${path}: ${problem}`, code, { path, reason, ...extra });
	};
}

/** Reports a failed stat of a library path: missing, or there but unreadable. */
export function failToStat(fail: LoadFailure, error: unknown): never {
	const code = (error as NodeJS.ErrnoException).code;
	if (code === 'ENOENT' || code === 'ENOTDIR') return fail('notFound', 'the file does not exist');
	return fail('notALibrary', `the file cannot be read (${(error as Error).message})`);
}
