//! Tests of `export_macros!` and its runtime through the generated C entry points, called the way
//! the host calls them: raw requests in, raw results out, freed with `mh_free_result`.

use crate::*;
use std::os::raw::c_char;
use std::ptr;

fn echo(args: &TokenStream) -> ProcMacroResult {
    ProcMacroResult::replace(args.clone()).with_aux_data("{\"n\":1}")
}

fn explode(_args: &TokenStream) -> ProcMacroResult {
    panic!("kaboom {}", 42)
}

fn explode_str(_args: &TokenStream) -> ProcMacroResult {
    panic!("static boom")
}

fn explode_other(_args: &TokenStream) -> ProcMacroResult {
    std::panic::panic_any(7u8)
}

fn wrap_item(args: &TokenStream, item: &TokenStream) -> ProcMacroResult {
    let mut out = TokenStream::new();
    out.extend_from(args).extend_from(item);
    ProcMacroResult::replace(out).with_diagnostic(Diagnostic::warning("wrapped").with_span(Some(Span::new(3, 4))))
}

fn named(item: &TokenStream) -> ProcMacroResult {
    ProcMacroResult::replace(TokenStream::parse(&format!("impl X for {} {{}}", item.len())).unwrap())
}

fn count(aux: &[&str]) -> ProcMacroResult {
    if aux.first() == Some(&"\"panic\"") {
        panic!("post boom");
    }
    ProcMacroResult::leave().with_diagnostic(Diagnostic::note(format!("saw {}", aux.join("|"))))
}

crate::export_macros! {
    /// Echoes its arguments.
    ///   Second "line".
    inline echo,
    inline explode,
    inline explode_str,
    inline explode_other,
    attribute wrap => wrap_item,
    derive Named => named,
    post_process = count,
    fingerprint = outside_inputs,
}

fn outside_inputs() -> u64 {
    0x1234_5678_9abc_def0
}

#[test]
fn fingerprint_is_exported() {
    assert_eq!(mh_fingerprint(), 0x1234_5678_9abc_def0);
    assert_eq!(crate::export::fingerprint(|| panic!("no input")), u64::MAX);
}

fn mh_str_of(s: &str) -> mh_str {
    mh_str { ptr: s.as_ptr() as *const c_char, len: s.len() }
}

fn empty_stream() -> mh_token_stream {
    mh_token_stream { tokens: ptr::null(), len: 0, text: ptr::null(), text_len: 0 }
}

fn stream_of(s: &TokenStream) -> mh_token_stream {
    mh_token_stream {
        tokens: s.records().as_ptr(),
        len: s.len(),
        text: s.text().as_ptr() as *const c_char,
        text_len: s.text().len(),
    }
}

/// What a result held, copied out before freeing it, as the host does.
#[derive(Debug)]
struct Copied {
    outcome: u32,
    tokens: TokenStream,
    aux: Option<String>,
    diagnostics: Vec<(u32, u32, u32, String)>,
}

unsafe fn bytes(ptr: *const c_char, len: usize) -> String {
    if len == 0 {
        return String::new();
    }
    String::from_utf8(std::slice::from_raw_parts(ptr as *const u8, len).to_vec()).unwrap()
}

unsafe fn take(res: *mut mh_result) -> Copied {
    assert!(!res.is_null());
    let r = &*res;
    let records = if r.tokens.len == 0 { Vec::new() } else { std::slice::from_raw_parts(r.tokens.tokens, r.tokens.len).to_vec() };
    let tokens = TokenStream::from_records(records, bytes(r.tokens.text, r.tokens.text_len)).unwrap();
    let aux = if r.aux_data.ptr.is_null() { None } else { Some(bytes(r.aux_data.ptr, r.aux_data.len)) };
    let diagnostics = (0..r.diagnostics_len)
        .map(|i| {
            let d = &*r.diagnostics.add(i);
            (d.severity, d.span.start, d.span.end, bytes(d.message.ptr, d.message.len))
        })
        .collect();
    let outcome = r.outcome;
    mh_free_result(res);
    Copied { outcome, tokens, aux, diagnostics }
}

fn call(kind: u32, name: &str, args: mh_token_stream, item: mh_token_stream) -> Copied {
    let req = mh_request { kind, name: mh_str_of(name), args, item, call_site: mh_span { start: 0, end: 10 } };
    unsafe { take(mh_expand(&req)) }
}

fn error(message: &str) -> (u32, u32, u32, String) {
    (MH_SEVERITY_ERROR, MH_SPAN_CALL_SITE, MH_SPAN_CALL_SITE, message.to_string())
}

#[test]
fn abi_version_and_manifest() {
    assert_eq!(mh_abi_version(), MH_ABI_VERSION);
    let m = mh_manifest();
    let text = unsafe { bytes(m.ptr, m.len) };
    assert_eq!(
        text,
        concat!(
            r#"[{"name":"echo","kind":"inline","doc":"Echoes its arguments.\n  Second \"line\"."},"#,
            r#"{"name":"explode","kind":"inline","doc":""},"#,
            r#"{"name":"explode_str","kind":"inline","doc":""},"#,
            r#"{"name":"explode_other","kind":"inline","doc":""},"#,
            r#"{"name":"wrap","kind":"attribute","doc":""},"#,
            r#"{"name":"Named","kind":"derive","doc":""}]"#
        )
    );
    // Built once: the second call returns the same memory.
    assert_eq!(mh_manifest().ptr, m.ptr);
}

#[test]
fn inline_copies_the_request_and_returns_tokens_and_aux() {
    let mut args = TokenStream::new();
    args.push_ident_spanned("a", Span::new(5, 6)).push_punct_spanned(",", Span::new(6, 7)).push_literal("é1");
    let out = call(MH_KIND_INLINE, "echo", stream_of(&args), empty_stream());
    assert_eq!(out.outcome, MH_OUTCOME_REPLACE);
    assert_eq!(out.tokens, args);
    assert_eq!(out.aux.as_deref(), Some("{\"n\":1}"));
    assert!(out.diagnostics.is_empty());
}

#[test]
fn attribute_and_derive_receive_their_streams() {
    let args = TokenStream::parse("x").unwrap();
    let item = TokenStream::parse("fn f() {}").unwrap();
    let out = call(MH_KIND_ATTRIBUTE, "wrap", stream_of(&args), stream_of(&item));
    assert_eq!(out.tokens.to_string(), "x fn f() {}");
    assert_eq!(out.diagnostics, vec![(MH_SEVERITY_WARNING, 3, 4, "wrapped".to_string())]);
    assert_eq!(out.aux, None);
    let out = call(MH_KIND_DERIVE, "Named", stream_of(&args), stream_of(&item));
    assert_eq!(out.tokens.to_string(), "impl X for 6 {}");
}

#[test]
fn a_panic_becomes_bail_with_its_message() {
    let out = call(MH_KIND_INLINE, "explode", empty_stream(), empty_stream());
    assert_eq!(out.outcome, MH_OUTCOME_BAIL);
    assert_eq!(out.diagnostics, vec![error("macro `explode` panicked: kaboom 42")]);
    let out = call(MH_KIND_INLINE, "explode_str", empty_stream(), empty_stream());
    assert_eq!(out.diagnostics, vec![error("macro `explode_str` panicked: static boom")]);
    let out = call(MH_KIND_INLINE, "explode_other", empty_stream(), empty_stream());
    assert_eq!(out.diagnostics, vec![error("macro `explode_other` panicked: a panic payload that is not a string")]);
}

#[test]
fn unknown_names_and_wrong_kinds_bail() {
    let out = call(MH_KIND_INLINE, "nope", empty_stream(), empty_stream());
    assert_eq!(out.outcome, MH_OUTCOME_BAIL);
    assert_eq!(
        out.diagnostics,
        vec![error(
            "this library has no macro named `nope` (called as an inline macro); it provides: echo, explode, explode_str, explode_other, wrap, Named"
        )]
    );
    let out = call(MH_KIND_DERIVE, "echo", empty_stream(), empty_stream());
    assert_eq!(out.diagnostics, vec![error("macro `echo` is an inline macro, but was called as a derive macro")]);
    let out = call(9, "echo", empty_stream(), empty_stream());
    assert_eq!(out.diagnostics, vec![error("macro `echo` is an inline macro, but was called as an unknown kind (9) of macro")]);
}

#[test]
fn bad_requests_bail_with_what_is_wrong() {
    let out = unsafe { take(mh_expand(ptr::null())) };
    assert_eq!(out.diagnostics, vec![error("mh_expand was called with a NULL request")]);

    let bad_name = [b'e', 0xff];
    let req = mh_request {
        kind: MH_KIND_INLINE,
        name: mh_str { ptr: bad_name.as_ptr() as *const c_char, len: 2 },
        args: empty_stream(),
        item: empty_stream(),
        call_site: mh_span { start: 0, end: 0 },
    };
    let out = unsafe { take(mh_expand(&req)) };
    assert_eq!(
        out.diagnostics,
        vec![error("the requested macro name is not valid UTF-8 (invalid utf-8 sequence of 1 bytes from index 1)")]
    );

    let record = mh_token { kind: MH_TOKEN_IDENT, flags: 0, text_off: 1, text_len: 5, span_start: 0, span_end: 1 };
    let args = mh_token_stream { tokens: &record, len: 1, text: "ab".as_ptr() as *const c_char, text_len: 2 };
    let out = call(MH_KIND_INLINE, "echo", args, empty_stream());
    assert_eq!(
        out.diagnostics,
        vec![error("macro `echo`: the host sent an invalid args stream: token 0 text ends at byte 6, past the text's 2 bytes")]
    );

    let item = mh_token_stream { tokens: ptr::null(), len: 3, text: ptr::null(), text_len: 0 };
    let out = call(MH_KIND_DERIVE, "Named", empty_stream(), item);
    assert_eq!(
        out.diagnostics,
        vec![error("macro `Named`: the host sent an invalid item stream: it has 3 tokens but a NULL tokens pointer")]
    );
}

#[test]
fn post_process_gets_each_aux_value() {
    let out = unsafe { take(mh_post_process(mh_str_of("[{\"n\":1}, 2]"))) };
    assert_eq!(out.outcome, MH_OUTCOME_LEAVE);
    assert_eq!(out.diagnostics, vec![(MH_SEVERITY_NOTE, MH_SPAN_CALL_SITE, MH_SPAN_CALL_SITE, "saw {\"n\":1}|2".to_string())]);
    let out = unsafe { take(mh_post_process(mh_str_of("[\"panic\"]"))) };
    assert_eq!(out.diagnostics, vec![error("post_process panicked: post boom")]);
    let out = unsafe { take(mh_post_process(mh_str_of("{}"))) };
    assert_eq!(out.diagnostics, vec![error("post_process: the aux data is not a JSON array: expected `[` at byte 0")]);
}

#[test]
fn free_result_accepts_null() {
    unsafe { mh_free_result(ptr::null_mut()) };
}
