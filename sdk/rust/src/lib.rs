#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod abi;
pub mod export;
mod json;
mod macros;
mod parse;
#[doc(hidden)]
pub mod quote;
mod result;
mod token_stream;
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod wasm;

pub use abi::*;
pub use json::split_json_array;
pub use result::{json_string, Diagnostic, Outcome, ProcMacroResult, Severity};
pub use quote::{Literal, ToTokens};
pub use token_stream::{Iter, ParseError, Span, Token, TokenKind, TokenStream};

#[cfg(test)]
mod export_tests;
