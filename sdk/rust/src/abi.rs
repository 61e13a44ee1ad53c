//! The macro ABI, version 1: `#[repr(C)]` mirrors of the structs and constants in
//! `sdk/c/macro_host.h`, with the same names. Macro authors rarely need these directly:
//! `export_macros!` generates the entry points that use them.
//!
//! A test (`test/sdk/constants.test.ts`) reads this file as text and checks every constant against
//! the C header and the TypeScript protocol, so keep one `pub const NAME: u32 = VALUE;` per line.
#![allow(non_camel_case_types)]

use std::os::raw::c_char;

/// The ABI version this crate implements; `mh_abi_version()` returns it.
pub const MH_ABI_VERSION: u32 = 1;

/// The span value of a generated token: it maps to the macro's call site.
pub const MH_SPAN_CALL_SITE: u32 = 0xFFFF_FFFF;

/// Token kind: identifier or keyword (`foo`, `fn`, `let`).
pub const MH_TOKEN_IDENT: u32 = 0;
/// Token kind: punctuation or operator (`(`, `,`, `->`, `::`, `+=`).
pub const MH_TOKEN_PUNCT: u32 = 1;
/// Token kind: number, string `"..."` or short string `'...'`.
pub const MH_TOKEN_LITERAL: u32 = 2;

/// Token flag bit: no whitespace between this token and the next one.
pub const MH_TOKEN_FLAG_JOINT: u32 = 1;

/// Macro kind: `name!(args)`.
pub const MH_KIND_INLINE: u32 = 0;
/// Macro kind: `#[name(args)] item`.
pub const MH_KIND_ATTRIBUTE: u32 = 1;
/// Macro kind: `#[derive(Name)] item`.
pub const MH_KIND_DERIVE: u32 = 2;

/// Outcome: keep the original code; output tokens are ignored.
pub const MH_OUTCOME_LEAVE: u32 = 0;
/// Outcome: replace the call (or item) by the output tokens.
pub const MH_OUTCOME_REPLACE: u32 = 1;
/// Outcome: delete the call (or item).
pub const MH_OUTCOME_REMOVE: u32 = 2;
/// Outcome: the macro gave up; keep the original code and report the diagnostics.
pub const MH_OUTCOME_BAIL: u32 = 3;

/// Diagnostic severity: error.
pub const MH_SEVERITY_ERROR: u32 = 0;
/// Diagnostic severity: warning.
pub const MH_SEVERITY_WARNING: u32 = 1;
/// Diagnostic severity: note.
pub const MH_SEVERITY_NOTE: u32 = 2;

/// A UTF-8 string with an explicit length; not NUL-terminated. `ptr` may be null when `len` is 0.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct mh_str {
    /// First byte.
    pub ptr: *const c_char,
    /// Length in bytes.
    pub len: usize,
}

/// A byte range of the original source, end exclusive; both fields are `MH_SPAN_CALL_SITE` for
/// generated code.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct mh_span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

/// One token record: six u32 fields, 24 bytes, no padding; the wire form uses the same numbers.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct mh_token {
    /// `MH_TOKEN_*`.
    pub kind: u32,
    /// `MH_TOKEN_FLAG_*` bits.
    pub flags: u32,
    /// Byte offset of the token's text in the stream's text buffer.
    pub text_off: u32,
    /// Byte length of the token's text.
    pub text_len: u32,
    /// Source span start, or `MH_SPAN_CALL_SITE`.
    pub span_start: u32,
    /// Source span end, or `MH_SPAN_CALL_SITE`.
    pub span_end: u32,
}

/// A flat token stream: `len` records plus the text they point into.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct mh_token_stream {
    /// `len` records; may be null when `len` is 0.
    pub tokens: *const mh_token,
    /// Number of tokens.
    pub len: usize,
    /// UTF-8 text buffer; may be null when `text_len` is 0.
    pub text: *const c_char,
    /// Length of `text` in bytes.
    pub text_len: usize,
}

/// One macro call, as the host passes it to `mh_expand`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct mh_request {
    /// `MH_KIND_*`: which kind of macro is called.
    pub kind: u32,
    /// The macro's name, as in the manifest.
    pub name: mh_str,
    /// Inline arguments, or the attribute's arguments; empty for derives.
    pub args: mh_token_stream,
    /// The item an attribute or derive is applied to; empty for inline macros.
    pub item: mh_token_stream,
    /// Span of the whole call in the source.
    pub call_site: mh_span,
}

/// One diagnostic reported by a macro.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct mh_diagnostic {
    /// `MH_SEVERITY_*`.
    pub severity: u32,
    /// Where it points; `MH_SPAN_CALL_SITE` for the call site.
    pub span: mh_span,
    /// UTF-8 message.
    pub message: mh_str,
}

/// What `mh_expand` (and `mh_post_process`) return. Owned by the library until `mh_free_result`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct mh_result {
    /// `MH_OUTCOME_*`.
    pub outcome: u32,
    /// Output, meaningful for `MH_OUTCOME_REPLACE`.
    pub tokens: mh_token_stream,
    /// Optional UTF-8 JSON value; a null `ptr` means none.
    pub aux_data: mh_str,
    /// `diagnostics_len` entries; may be null when 0.
    pub diagnostics: *const mh_diagnostic,
    /// Number of diagnostics.
    pub diagnostics_len: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, size_of, MaybeUninit};
    use std::ptr::addr_of;

    /// Byte offset of a field, computed without `offset_of!` (which is newer than rustc 1.63).
    macro_rules! offset {
        ($ty:ty, $field:ident) => {{
            let value = MaybeUninit::<$ty>::uninit();
            let base = value.as_ptr();
            // SAFETY: addr_of! computes the field address without reading the uninitialised value.
            let field = unsafe { addr_of!((*base).$field) };
            field as usize - base as usize
        }};
    }

    #[test]
    fn token_record_is_six_packed_u32() {
        assert_eq!(size_of::<mh_token>(), 24);
        assert_eq!(align_of::<mh_token>(), 4);
        assert_eq!(offset!(mh_token, span_end), 20);
    }

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn layout_matches_the_64_bit_table_in_docs_abi_md() {
        assert_eq!(size_of::<mh_str>(), 16);
        assert_eq!(size_of::<mh_span>(), 8);
        assert_eq!(size_of::<mh_token_stream>(), 32);
        assert_eq!(offset!(mh_token_stream, text), 16);
        assert_eq!(size_of::<mh_request>(), 96);
        assert_eq!(offset!(mh_request, name), 8);
        assert_eq!(offset!(mh_request, args), 24);
        assert_eq!(offset!(mh_request, item), 56);
        assert_eq!(offset!(mh_request, call_site), 88);
        assert_eq!(size_of::<mh_diagnostic>(), 32);
        assert_eq!(offset!(mh_diagnostic, span), 4);
        assert_eq!(offset!(mh_diagnostic, message), 16);
        assert_eq!(size_of::<mh_result>(), 72);
        assert_eq!(offset!(mh_result, tokens), 8);
        assert_eq!(offset!(mh_result, aux_data), 40);
        assert_eq!(offset!(mh_result, diagnostics), 56);
        assert_eq!(offset!(mh_result, diagnostics_len), 64);
    }
}
