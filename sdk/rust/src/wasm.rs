//! What a library compiled to `wasm32-unknown-unknown` needs beyond the native ABI: the
//! `mh_alloc` / `mh_dealloc` exports the host uses to place inputs in the module's memory, and a
//! way to report panics and failed allocations even though both end in a trap there.
//!
//! On wasm32 `panic = "abort"` is the only strategy, so `catch_unwind` never catches: a panic runs
//! the panic hook and then executes `unreachable`. The hook installed here writes the same message
//! the native SDK would put in its BAIL diagnostic (``macro `NAME` panicked: MESSAGE``) into a
//! static that the host reads through `mh_panic_message` after the trap. A failed allocation
//! aborts without a panic, so the global allocator below records its size for
//! `mh_alloc_failure`, which lets the host tell "ran out of memory" from any other trap.
//!
//! Everything here is single-threaded by construction (wasm32-unknown-unknown has no threads).

use crate::abi::mh_str;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::os::raw::c_char;
use std::panic::PanicInfo;
use std::ptr;
use std::sync::Once;

/// Alignment of every block `mh_alloc` hands out: enough for any ABI struct.
const HOST_ALIGN: usize = 8;

thread_local! {
    /// What the panic message starts with for the entry point running now.
    static PANIC_PREFIX: RefCell<String> = RefCell::new(String::new());
}

static mut PANIC_MESSAGE: mh_str = mh_str { ptr: ptr::null(), len: 0 };
static mut ALLOC_FAILURE: usize = 0;
static HOOK: Once = Once::new();

/// Says how a panic from now on is reported, e.g. ``macro `add` panicked: ``; installs the hook.
pub fn panic_context(prefix: String) {
    HOOK.call_once(|| std::panic::set_hook(Box::new(record_panic)));
    PANIC_PREFIX.with(|p| *p.borrow_mut() = prefix);
}

fn record_panic(info: &PanicInfo<'_>) {
    let message = PANIC_PREFIX.with(|p| p.borrow().clone()) + &crate::export::panic_message(info.payload());
    let leaked: &'static str = Box::leak(message.into_boxed_str());
    // SAFETY: single-threaded; the host reads it only after the trap that follows.
    unsafe {
        PANIC_MESSAGE = mh_str { ptr: leaked.as_ptr() as *const c_char, len: leaked.len() };
    }
}

/// The body of `mh_panic_message`: the recorded panic message, or null when nothing panicked.
pub fn panic_message_ptr() -> *const mh_str {
    // SAFETY: single-threaded; a plain read of a static.
    unsafe {
        if PANIC_MESSAGE.len == 0 {
            ptr::null()
        } else {
            ptr::addr_of!(PANIC_MESSAGE)
        }
    }
}

/// The body of `mh_alloc_failure`: the size of the allocation that failed, 0 when none did.
pub fn alloc_failure() -> usize {
    // SAFETY: single-threaded; a plain read of a static.
    unsafe { ALLOC_FAILURE }
}

/// The body of `mh_alloc`: `size` bytes aligned to 8, or null when memory is exhausted.
pub fn host_alloc(size: usize) -> *mut u8 {
    match Layout::from_size_align(size.max(1), HOST_ALIGN) {
        // SAFETY: the layout has a non-zero size.
        Ok(layout) => unsafe { std::alloc::alloc(layout) },
        Err(_) => ptr::null_mut(),
    }
}

/// The body of `mh_dealloc`.
///
/// # Safety
/// `ptr` came from `host_alloc(size)` and was not freed before (null is ignored).
pub unsafe fn host_dealloc(ptr: *mut u8, size: usize) {
    if ptr.is_null() {
        return;
    }
    if let Ok(layout) = Layout::from_size_align(size.max(1), HOST_ALIGN) {
        std::alloc::dealloc(ptr, layout)
    }
}

/// The system allocator, recording the size of the first request it cannot serve.
struct RecordingAlloc;

impl RecordingAlloc {
    fn check(p: *mut u8, size: usize) -> *mut u8 {
        if p.is_null() {
            // SAFETY: single-threaded; the abort that follows ends the call.
            unsafe {
                if ALLOC_FAILURE == 0 {
                    ALLOC_FAILURE = size.max(1);
                }
            }
        }
        p
    }
}

unsafe impl GlobalAlloc for RecordingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        RecordingAlloc::check(System.alloc(layout), layout.size())
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        RecordingAlloc::check(System.alloc_zeroed(layout), layout.size())
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        RecordingAlloc::check(System.realloc(ptr, layout, new_size), new_size)
    }
}

#[global_allocator]
static GLOBAL: RecordingAlloc = RecordingAlloc;
