//! `#[crash]` writes through a null pointer: the process running it dies with SIGSEGV.
//!
//! Inside a compiler this would take the whole build down. macro-host runs macros in a separate
//! host process, so only the host dies: the client turns the crash into an error diagnostic on
//! this one call, restarts the host, and every other macro call goes on.

use macro_host_sdk::{export_macros, ProcMacroResult, TokenStream};

fn crash(_args: &TokenStream, _item: &TokenStream) -> ProcMacroResult {
    // A volatile write, so the optimiser must keep it. No panic and no unwinding: the SDK's
    // catch_unwind cannot turn this into a diagnostic, only process isolation can.
    unsafe { std::ptr::write_volatile(std::ptr::null_mut::<u64>(), 0xdead) };
    ProcMacroResult::leave()
}

export_macros! {
    /// Crashes the process that runs it (a write through a null pointer), to show crash isolation.
    attribute crash,
}
