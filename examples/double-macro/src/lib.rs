//! `double!(x)` expands to `(x) * 2`.

use macro_host_sdk::{export_macros, Diagnostic, ProcMacroResult, TokenStream};

fn double(args: &TokenStream) -> ProcMacroResult {
    if args.is_empty() {
        return ProcMacroResult::bail(Diagnostic::error("double! takes an expression, e.g. double!(21)"));
    }
    let mut out = TokenStream::with_capacity(args.len() + 4, args.text().len() + 4);
    // The operand keeps its source spans, so that errors in it point at the user's code.
    out.push_punct("(").set_last_joint(true);
    out.extend(args.iter());
    out.set_last_joint(true).push_punct(")").push_punct("*").push_literal("2");
    ProcMacroResult::replace(out)
}

export_macros! {
    /// Doubles an expression: `double!(x)` is `(x) * 2`.
    inline double,
}
