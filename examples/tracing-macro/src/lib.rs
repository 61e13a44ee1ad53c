//! `#[instrument]` wraps a function body with entry and exit prints:
//! `fn f(..) -> T { body }` becomes
//! `fn f(..) -> T { println!("enter f"); let __instrument_result = { body }; println!("exit f"); __instrument_result }`.

use macro_host_sdk::{export_macros, json_string, Diagnostic, ProcMacroResult, Token, TokenStream};

fn instrument(args: &TokenStream, item: &TokenStream) -> ProcMacroResult {
    if !args.is_empty() {
        let span = args.get(0).and_then(|t| t.span);
        return ProcMacroResult::bail(Diagnostic::error("#[instrument] takes no arguments").with_span(span));
    }
    let tokens: Vec<Token> = item.iter().collect();
    let name = tokens.windows(2).find(|w| w[0].is_ident("fn")).map(|w| w[1].text);
    let (name, open) = match (name, body_start(&tokens)) {
        (Some(name), Some(open)) => (name, open),
        _ => {
            let span = tokens.first().and_then(|t| t.span);
            return ProcMacroResult::bail(
                Diagnostic::error("#[instrument] can only be put on a function with a body").with_span(span),
            );
        }
    };
    let enter = format!("println!({});", json_string(&format!("enter {}", name)));
    let exit = format!("println!({});", json_string(&format!("exit {}", name)));
    let (enter, bind, exit, result) = match (
        TokenStream::parse(&enter),
        TokenStream::parse("let __instrument_result = {"),
        TokenStream::parse(&format!("}}; {}", exit)),
        TokenStream::parse("__instrument_result"),
    ) {
        (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
        _ => return ProcMacroResult::bail(Diagnostic::error("#[instrument] could not build its output")),
    };
    let last = tokens.len() - 1;
    let mut out = TokenStream::with_capacity(tokens.len() + 24, item.text().len() + 96);
    // Signature and opening brace as written, then the wrapped body, then the original closing brace.
    out.extend(tokens[..=open].iter().copied());
    out.set_last_joint(false);
    out.extend_from(&enter).extend_from(&bind);
    out.extend(tokens[open + 1..last].iter().copied());
    out.set_last_joint(false);
    out.extend_from(&exit).extend_from(&result);
    out.push_token(tokens[last]);
    ProcMacroResult::replace(out)
}

/// The index of the `{` that opens the body: the group that closes at the item's last token.
fn body_start(tokens: &[Token]) -> Option<usize> {
    if !tokens.last()?.is_punct("}") {
        return None;
    }
    let mut depth = 0i32;
    for i in (0..tokens.len()).rev() {
        if tokens[i].is_punct("}") {
            depth += 1;
        } else if tokens[i].is_punct("{") {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

export_macros! {
    /// Prints "enter NAME" and "exit NAME" around the function's body.
    attribute instrument,
}
