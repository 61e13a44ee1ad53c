//! `#[derive(ToValue)]` on a struct generates an impl of the project's `ToValue<T>` trait whose
//! `to_value` sums the struct's fields as felt252:
//! `struct Point { x: felt252, y: felt252 }` gets
//! `impl PointToValue of ToValue<Point> { fn to_value(self: @Point) -> felt252 { 0 + (*self.x).into() + (*self.y).into() } }`.

use macro_host_sdk::{export_macros, Diagnostic, ProcMacroResult, Token, TokenKind, TokenStream};

fn to_value(item: &TokenStream) -> ProcMacroResult {
    let tokens: Vec<Token> = item.iter().collect();
    let at = match tokens.iter().position(|t| t.is_ident("struct")) {
        Some(at) if at + 1 < tokens.len() && tokens[at + 1].kind == TokenKind::Ident => at,
        _ => {
            let span = tokens.first().and_then(|t| t.span);
            return ProcMacroResult::bail(Diagnostic::error("ToValue can only be derived for a struct").with_span(span));
        }
    };
    let name = tokens[at + 1].text;
    if tokens.get(at + 2).map_or(false, |t| t.is_punct("<")) {
        return ProcMacroResult::bail(
            Diagnostic::error("ToValue cannot be derived for a generic struct").with_span(tokens[at + 1].span),
        );
    }
    let mut sum = String::from("0");
    for field in field_names(&tokens[at + 2..]) {
        sum.push_str(&format!(" + (*self.{}).into()", field));
    }
    let code = format!(
        "impl {name}ToValue of ToValue<{name}> {{ fn to_value(self: @{name}) -> felt252 {{ {sum} }} }}",
        name = name,
        sum = sum
    );
    match TokenStream::parse(&code) {
        Ok(tokens) => ProcMacroResult::replace(tokens),
        Err(e) => ProcMacroResult::bail(Diagnostic::error(format!("ToValue built invalid code: {}", e))),
    }
}

/// The names of a struct body's fields: each identifier followed by `:` at the body's top level.
fn field_names<'a>(tokens: &[Token<'a>]) -> Vec<&'a str> {
    let mut names = Vec::new();
    let mut depth = 0i32;
    for i in 0..tokens.len() {
        let t = tokens[i];
        if t.is_punct("{") || t.is_punct("(") || t.is_punct("<") || t.is_punct("[") {
            depth += 1;
        } else if t.is_punct("}") || t.is_punct(")") || t.is_punct(">") || t.is_punct("]") {
            depth -= 1;
        } else if depth == 1 && t.kind == TokenKind::Ident && tokens.get(i + 1).map_or(false, |n| n.is_punct(":")) {
            names.push(t.text);
        }
    }
    names
}

export_macros! {
    /// Implements `ToValue<T>` for a struct: the sum of its fields as felt252.
    derive ToValue => to_value,
}
