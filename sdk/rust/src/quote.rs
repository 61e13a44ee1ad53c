//! `quote!`: macro output written as code, with `#name` putting a value in.
//!
//! A `macro_rules!` macro (the SDK has no dependencies, so no proc-macro crate): it walks its input
//! one token tree at a time. A plain token is parsed from its text into a generated token; a group
//! `( … )`, `[ … ]`, `{ … }` is walked inside, so `#name` works at any depth; `#name` appends the
//! value of the variable `name` through [`ToTokens`]. Tokens written in the macro are generated
//! (they map to the call site); interpolated streams keep their own spans, so a diagnostic can
//! still point at the user's code.
//!
//! Limits, from reading the input as Rust tokens: a Cairo short string `'abc'` cannot be written in
//! place (Rust reads it as a bad character literal: interpolate a [`Literal`] instead), tokens are
//! separated by spaces (`f ( x )`: the same code), and each token tree is one step of macro
//! recursion, so an output of more than about 120 token trees in one group needs
//! `#![recursion_limit = "256"]` in the crate.

use crate::token_stream::{Token, TokenKind, TokenStream};

/// A value that `#name` can put into a [`quote!`](crate::quote!) output.
///
/// - [`TokenStream`] and [`Token`]: their tokens, with their spans and joint flags.
/// - `str` and `String`: one generated identifier (`let name = format!("hello_{}", ty);`).
/// - integers: one generated number literal.
/// - [`Literal`]: one generated literal of any text (`Literal("'short'")`, `Literal("\"text\"")`).
pub trait ToTokens {
    /// Appends this value's tokens to `out`.
    fn to_tokens(&self, out: &mut TokenStream);
}

/// A literal to interpolate as it is written: `Literal("'abc'")` for a Cairo short string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Literal<'a>(pub &'a str);

impl ToTokens for TokenStream {
    fn to_tokens(&self, out: &mut TokenStream) {
        out.extend_from(self);
    }
}

impl<'a> ToTokens for Token<'a> {
    fn to_tokens(&self, out: &mut TokenStream) {
        out.push_token(*self);
    }
}

impl ToTokens for str {
    fn to_tokens(&self, out: &mut TokenStream) {
        out.push(TokenKind::Ident, self, None, false);
    }
}

impl ToTokens for String {
    fn to_tokens(&self, out: &mut TokenStream) {
        self.as_str().to_tokens(out);
    }
}

impl<'a> ToTokens for Literal<'a> {
    fn to_tokens(&self, out: &mut TokenStream) {
        out.push(TokenKind::Literal, self.0, None, false);
    }
}

impl<'a, T: ToTokens + ?Sized> ToTokens for &'a T {
    fn to_tokens(&self, out: &mut TokenStream) {
        (**self).to_tokens(out);
    }
}

macro_rules! integer_to_tokens {
    ($($t:ty),*) => {
        $(impl ToTokens for $t {
            fn to_tokens(&self, out: &mut TokenStream) {
                out.push(TokenKind::Literal, &self.to_string(), None, false);
            }
        })*
    };
}
integer_to_tokens!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

/// Appends the generated tokens of `text` (one token tree's text, from `stringify!`). A text the
/// parser refuses is a bug in the macro's source, so it panics (the host reports it as the macro's
/// panic), naming the text.
#[doc(hidden)]
pub fn __push_text(out: &mut TokenStream, text: &str) {
    match TokenStream::parse(text) {
        Ok(tokens) => {
            out.extend_from(&tokens);
        }
        Err(e) => panic!("quote!: `{}` is not a token macro-host can read: {}", text, e),
    }
}

/// Builds a [`TokenStream`] from code written in place; `#name` puts in the value of the variable
/// `name` (anything [`ToTokens`]: a stream, a token, an identifier as `&str`/`String`, a number, a
/// [`Literal`]).
///
/// ```
/// use macro_host_sdk::{quote, TokenStream};
///
/// let name = format!("hello_{}", "Point");
/// let body = TokenStream::parse("x + y").unwrap();
/// let out = quote! {
///     fn #name() -> felt252 { #body }
/// };
/// assert_eq!(out.to_string(), "fn hello_Point ( ) -> felt252 { x + y }");
/// ```
#[macro_export]
macro_rules! quote {
    ($($tt:tt)*) => {{
        #[allow(unused_mut)]
        let mut __quote_out = $crate::TokenStream::new();
        $crate::__quote_into!(__quote_out; $($tt)*);
        __quote_out
    }};
}

/// The walk behind [`quote!`]: one token tree per step, groups walked inside.
#[doc(hidden)]
#[macro_export]
macro_rules! __quote_into {
    ($out:ident;) => {};
    ($out:ident; # $var:ident $($rest:tt)*) => {
        $crate::ToTokens::to_tokens(&$var, &mut $out);
        $crate::__quote_into!($out; $($rest)*);
    };
    ($out:ident; ( $($inner:tt)* ) $($rest:tt)*) => {
        $crate::quote::__push_text(&mut $out, "(");
        $crate::__quote_into!($out; $($inner)*);
        $crate::quote::__push_text(&mut $out, ")");
        $crate::__quote_into!($out; $($rest)*);
    };
    ($out:ident; [ $($inner:tt)* ] $($rest:tt)*) => {
        $crate::quote::__push_text(&mut $out, "[");
        $crate::__quote_into!($out; $($inner)*);
        $crate::quote::__push_text(&mut $out, "]");
        $crate::__quote_into!($out; $($rest)*);
    };
    ($out:ident; { $($inner:tt)* } $($rest:tt)*) => {
        $crate::quote::__push_text(&mut $out, "{");
        $crate::__quote_into!($out; $($inner)*);
        $crate::quote::__push_text(&mut $out, "}");
        $crate::__quote_into!($out; $($rest)*);
    };
    ($out:ident; $tt:tt $($rest:tt)*) => {
        $crate::quote::__push_text(&mut $out, stringify!($tt));
        $crate::__quote_into!($out; $($rest)*);
    };
}

#[cfg(test)]
mod tests {
    use super::Literal;
    use crate::{Span, TokenKind, TokenStream};

    #[test]
    fn writes_plain_code_as_generated_tokens() {
        let out = quote!(fn f(a: u8) -> Array<felt252> { array![a.into(), 2] });
        assert_eq!(out.to_string(), "fn f ( a : u8 ) -> Array < felt252 > { array ! [ a . into ( ) , 2 ] }");
        assert!(out.iter().all(|t| t.span.is_none()));
        assert_eq!(out.get(0).unwrap().kind, TokenKind::Ident);
        assert_eq!(out.get(7).unwrap().kind, TokenKind::Punct);
    }

    #[test]
    fn interpolates_identifiers_streams_numbers_and_literals_at_any_depth() {
        let name = "hello_S";
        let owned = String::from("Point");
        let n = 42u32;
        let body = TokenStream::parse("x+1").unwrap();
        let short = Literal("'hi'");
        let out = quote!(impl #owned { fn #name() -> felt252 { [#body, #n, #short] } });
        assert_eq!(out.to_string(), "impl Point { fn hello_S ( ) -> felt252 { [ x+1 , 42 , 'hi' ] } }");
    }

    #[test]
    fn keeps_the_spans_and_joint_flags_of_interpolated_tokens() {
        let mut args = TokenStream::new();
        args.push_ident_spanned("a", Span::new(5, 6));
        let first = args.get(0).unwrap();
        let out = quote!(( #args ) + #first);
        let spans: Vec<_> = out.iter().map(|t| t.span).collect();
        assert_eq!(spans, vec![None, Some(Span::new(5, 6)), None, None, Some(Span::new(5, 6))]);
    }

    #[test]
    fn passes_attributes_and_a_hash_before_a_group_through() {
        let out = quote!(#[derive(Drop)] struct S {});
        assert_eq!(out.to_string(), "# [ derive ( Drop ) ] struct S { }");
        assert!(quote!().is_empty());
    }

    #[test]
    fn reads_a_lifetime_as_a_joint_quote_and_an_identifier() {
        let out = quote!(&'a str);
        assert_eq!(out.to_string(), "& 'a str");
    }

    #[test]
    #[should_panic(expected = "quote!: `\"open` is not a token macro-host can read")]
    fn names_a_token_it_cannot_read() {
        // Rust's lexer never hands quote! such a token; the check guards the parser's other limits.
        super::__push_text(&mut TokenStream::new(), "\"open");
    }
}
