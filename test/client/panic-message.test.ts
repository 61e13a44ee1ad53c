/** Reading a Rust panic's message out of a host's stderr tail. */
import { describe, expect, it } from 'vitest';
import { findPanic } from '../../dist/client/panic-message.js';

const ABORTED = [
	"thread '<unnamed>' (8664) panicked at src/lib.rs:58:5:",
	'boom: the v2 macro',
	'gave up on purpose',
	'stack backtrace:',
	'   0: __rustc::rust_begin_unwind',
	'note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.',
	'',
	"thread '<unnamed>' (8664) panicked at /rustc/abc/library/core/src/panicking.rs:225:5:",
	'panic in a function that cannot unwind',
	'stack backtrace:',
	'thread caused non-unwinding panic. aborting.',
].join('\n');

describe('findPanic', () => {
	it('reads the modern form (Rust 1.73+), a multi-line message, and skips the runtime follow-up panic', () => {
		expect(findPanic(ABORTED)).toEqual({ message: 'boom: the v2 macro\ngave up on purpose', location: 'src/lib.rs:58:5' });
	});

	it('reads the modern form without a thread id, ended by a note line', () => {
		const tail = "some output\nthread 'main' panicked at src/main.rs:2:5:\nexplicit panic\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
		expect(findPanic(tail)).toEqual({ message: 'explicit panic', location: 'src/main.rs:2:5' });
	});

	it("reads the form before Rust 1.73: panicked at 'MESSAGE', FILE:LINE:COL", () => {
		const tail = "thread '<unnamed>' panicked at 'called `Option::unwrap()` on a `None` value', src/lib.rs:43:44\nnote: run with `RUST_BACKTRACE=1`\n";
		expect(findPanic(tail)).toEqual({ message: 'called `Option::unwrap()` on a `None` value', location: 'src/lib.rs:43:44' });
	});

	it('takes the last of several panics, and the runtime one when it is all the tail kept', () => {
		const two = "thread 'a' panicked at a.rs:1:1:\nfirst\nthread 'b' panicked at b.rs:2:2:\nsecond\n";
		expect(findPanic(two)).toEqual({ message: 'second', location: 'b.rs:2:2' });
		const runtimeOnly = "thread 'x' panicked at core/src/panicking.rs:225:5:\npanic in a function that cannot unwind\n";
		expect(findPanic(runtimeOnly)).toEqual({ message: 'panic in a function that cannot unwind', location: 'core/src/panicking.rs:225:5' });
	});

	it('finds nothing in a tail without a panic', () => {
		expect(findPanic('Segmentation fault\n')).toBeUndefined();
		expect(findPanic('')).toBeUndefined();
	});
});
