/**
 * The call mark: the bytes a host writes to its stderr before it serves each request, when the client asked
 * for them in `initialize` (`markCalls`). The host serves one request at a time, so whatever follows the last
 * mark on stderr was written while the last request ran: a crash report quotes that and not the output of
 * earlier, unrelated calls. The client removes the marks before anyone sees the stream.
 *
 * The mark is an operating-system-command escape sequence (ESC ] … BEL) with a number no terminal uses, so
 * a terminal that shows a host's raw stderr prints nothing for it.
 */

/** The call mark, as text (ASCII only, so its bytes are its characters). */
export const CALL_MARK = '\u001b]7701;macro-host call\u0007';

/**
 * The threads mark: written (with call marks on) after a request when the host has more threads than after
 * the one before, so a library left threads running. Such a thread may crash the host later, while an
 * innocent call runs: the client then runs that call again on a new host before it blames it.
 */
export const THREADS_MARK = '\u001b]7701;macro-host threads\u0007';
