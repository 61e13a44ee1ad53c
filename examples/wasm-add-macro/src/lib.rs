//! `add!(a, b)` expands to `(a) + (b)`.

use macro_host_sdk::{export_macros, Diagnostic, ProcMacroResult, Token, TokenStream};

fn add(args: &TokenStream) -> ProcMacroResult {
    let tokens: Vec<Token> = args.iter().collect();
    let comma = match split_point(&tokens) {
        Some(comma) => comma,
        None => {
            return ProcMacroResult::bail(Diagnostic::error(
                "add! takes two expressions separated by a comma, e.g. add!(1, 2)",
            ))
        }
    };
    let mut out = TokenStream::with_capacity(tokens.len() + 4, args.text().len() + 5);
    // The parentheses are generated; the operands keep their source spans so that errors in them
    // point at the user's code.
    out.push_punct("(").set_last_joint(true);
    out.extend(tokens[..comma].iter().copied());
    out.set_last_joint(true).push_punct(")").push_punct("+").push_punct("(").set_last_joint(true);
    out.extend(tokens[comma + 1..].iter().copied());
    out.set_last_joint(true).push_punct(")");
    ProcMacroResult::replace(out)
}

/// The index of the only comma outside brackets, when both sides of it are non-empty.
fn split_point(tokens: &[Token]) -> Option<usize> {
    let mut depth = 0i32;
    let mut comma = None;
    for (i, token) in tokens.iter().enumerate() {
        if token.is_punct("(") || token.is_punct("[") || token.is_punct("{") {
            depth += 1;
        } else if token.is_punct(")") || token.is_punct("]") || token.is_punct("}") {
            depth -= 1;
        } else if depth == 0 && token.is_punct(",") {
            if comma.is_some() {
                return None;
            }
            comma = Some(i);
        }
    }
    match comma {
        Some(i) if i > 0 && i + 1 < tokens.len() => Some(i),
        _ => None,
    }
}

export_macros! {
    /// Adds two expressions: `add!(a, b)` is `(a) + (b)`.
    inline add,
}
