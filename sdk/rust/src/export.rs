//! The runtime behind [`export_macros!`](crate::export_macros): the macro table, the manifest, and
//! the C entry points' bodies. Every entry point runs under `catch_unwind`, so a panic becomes a
//! BAIL result with an error diagnostic and nothing ever unwinds across the FFI boundary.
//!
//! Macro authors do not call these directly; the generated code does.

use crate::abi::{
    mh_diagnostic, mh_request, mh_result, mh_span, mh_str, mh_token, mh_token_stream,
    MH_KIND_ATTRIBUTE, MH_KIND_DERIVE, MH_KIND_INLINE, MH_SPAN_CALL_SITE,
};
use crate::json::split_json_array;
use crate::result::{json_string, Diagnostic, ProcMacroResult};
use crate::token_stream::TokenStream;
use std::any::Any;
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

/// The function behind one macro, by kind.
#[derive(Clone, Copy)]
pub enum Handler {
    /// `name!(args)`: receives the arguments.
    Inline(fn(&TokenStream) -> ProcMacroResult),
    /// `#[name(args)] item`: receives the attribute's arguments and the item.
    Attribute(fn(&TokenStream, &TokenStream) -> ProcMacroResult),
    /// `#[derive(Name)] item`: receives the item.
    Derive(fn(&TokenStream) -> ProcMacroResult),
}

impl Handler {
    /// The `MH_KIND_*` number of this handler's kind.
    pub fn kind(&self) -> u32 {
        match self {
            Handler::Inline(_) => MH_KIND_INLINE,
            Handler::Attribute(_) => MH_KIND_ATTRIBUTE,
            Handler::Derive(_) => MH_KIND_DERIVE,
        }
    }
}

/// One macro of a library: its name (as calls spell it), doc lines and function.
pub struct MacroDef {
    /// The name a call uses: `add` for `add!(...)`, `ToValue` for `#[derive(ToValue)]`.
    pub name: &'static str,
    /// Doc comment lines (each as `///` gives it, usually with one leading space).
    pub doc: &'static [&'static str],
    /// The function to call.
    pub handler: Handler,
}

/// A library's macro table plus its manifest, built on first use.
pub struct Library {
    /// Every macro, in manifest order.
    pub macros: &'static [MacroDef],
    /// The manifest JSON, built once.
    pub manifest: ManifestCell,
}

/// Holds the manifest JSON once it is built; it lives as long as the library is loaded.
pub struct ManifestCell {
    text: AtomicPtr<String>,
}

impl ManifestCell {
    /// An empty cell, for a `static`.
    pub const fn new() -> ManifestCell {
        ManifestCell { text: AtomicPtr::new(ptr::null_mut()) }
    }
}

impl Default for ManifestCell {
    fn default() -> ManifestCell {
        ManifestCell::new()
    }
}

impl Library {
    /// The body of `mh_manifest`: the manifest JSON, built on the first call and kept.
    pub fn manifest(&self) -> mh_str {
        let text = catch_unwind(AssertUnwindSafe(|| self.manifest_text()));
        match text {
            Ok(text) => mh_str { ptr: text.as_ptr() as *const c_char, len: text.len() },
            // Only an allocation failure gets here; an empty manifest makes the host's load fail
            // with a message instead of unwinding into it.
            Err(_) => mh_str { ptr: ptr::null(), len: 0 },
        }
    }

    /// The manifest JSON text: `[{"name":"add","kind":"inline","doc":"..."}, ...]`.
    pub fn manifest_text(&self) -> &str {
        let current = self.manifest.text.load(Ordering::Acquire);
        if !current.is_null() {
            // SAFETY: a non-null pointer was published once from a leaked Box and is never freed.
            return unsafe { &*current };
        }
        let fresh = Box::into_raw(Box::new(build_manifest(self.macros)));
        match self.manifest.text.compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: `fresh` is now published and never freed.
            Ok(_) => unsafe { &*fresh },
            Err(winner) => {
                // Another thread built it first: keep theirs, drop ours.
                // SAFETY: `fresh` came from Box::into_raw above and was never published.
                drop(unsafe { Box::from_raw(fresh) });
                // SAFETY: as above, `winner` is published and never freed.
                unsafe { &*winner }
            }
        }
    }
}

fn build_manifest(macros: &[MacroDef]) -> String {
    let mut json = String::from("[");
    for (i, def) in macros.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        let kind = match def.handler {
            Handler::Inline(_) => "inline",
            Handler::Attribute(_) => "attribute",
            Handler::Derive(_) => "derive",
        };
        json.push_str(&format!(
            "{{\"name\":{},\"kind\":\"{}\",\"doc\":{}}}",
            json_string(def.name),
            kind,
            json_string(&doc_text(def.doc))
        ));
    }
    json.push(']');
    json
}

/// Joins `///` lines into one text, dropping the one space `/// ` leaves at each line start.
fn doc_text(lines: &[&str]) -> String {
    let joined: Vec<&str> = lines.iter().map(|l| l.strip_prefix(' ').unwrap_or(l)).collect();
    joined.join("\n").trim().to_string()
}

/// The body of `mh_expand`.
///
/// # Safety
/// `request` is null or points to a valid `mh_request` whose pointers are valid for the call.
pub unsafe fn expand(library: &Library, request: *const mh_request) -> *mut mh_result {
    #[cfg(target_arch = "wasm32")]
    crate::wasm::panic_context("macro-host SDK panicked in mh_expand: ".to_string());
    let result = catch_unwind(AssertUnwindSafe(|| expand_request(library, request)))
        .unwrap_or_else(|payload| sdk_panic("mh_expand", &*payload));
    into_raw(result)
}

/// The body of `mh_post_process`: `post_process` receives the JSON text of each aux value
/// (`["{\"a\":1}", "2"]` for the aux array `[{"a":1},2]`).
///
/// # Safety
/// `aux` points to `aux.len` readable bytes (or is null with length 0) for the call.
pub unsafe fn post_process(aux: mh_str, post_process: fn(&[&str]) -> ProcMacroResult) -> *mut mh_result {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let text = match read_str(aux) {
            Ok(text) => text,
            Err(e) => return bail(format!("post_process: the aux data {}", e)),
        };
        let values = match split_json_array(&text) {
            Ok(values) => values,
            Err(e) => return bail(format!("post_process: the aux data is not a JSON array: {}", e)),
        };
        #[cfg(target_arch = "wasm32")]
        crate::wasm::panic_context("post_process panicked: ".to_string());
        catch_unwind(AssertUnwindSafe(|| post_process(&values)))
            .unwrap_or_else(|payload| bail(format!("post_process panicked: {}", panic_message(&*payload))))
    }))
    .unwrap_or_else(|payload| sdk_panic("mh_post_process", &*payload));
    into_raw(result)
}

/// The body of `mh_fingerprint`. A panic cannot cross the C boundary: it gives `u64::MAX`, which
/// still changes the cache key of a library that panics in one build and not in the next.
pub fn fingerprint(fingerprint: fn() -> u64) -> u64 {
    catch_unwind(fingerprint).unwrap_or(u64::MAX)
}

/// The body of `mh_free_result`.
///
/// # Safety
/// `result` is null or a pointer returned by this library's `mh_expand` or `mh_post_process`,
/// not freed before.
pub unsafe fn free_result(result: *mut mh_result) {
    if result.is_null() {
        return;
    }
    // Dropping Vecs and Strings does not panic; the guard keeps that true for any future field.
    let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(result as *mut OwnedResult))));
}

unsafe fn expand_request(library: &Library, request: *const mh_request) -> ProcMacroResult {
    if request.is_null() {
        return bail("mh_expand was called with a NULL request".to_string());
    }
    let request = &*request;
    let name = match read_str(request.name) {
        Ok(name) => name,
        Err(e) => return bail(format!("the requested macro name {}", e)),
    };
    let def = match find_macro(library, &name, request.kind) {
        Ok(def) => def,
        Err(message) => return bail(message),
    };
    let args = if request.kind == MH_KIND_DERIVE { Ok(TokenStream::new()) } else { read_stream(request.args) };
    let item = if request.kind == MH_KIND_INLINE { Ok(TokenStream::new()) } else { read_stream(request.item) };
    let (args, item) = match (args, item) {
        (Ok(args), Ok(item)) => (args, item),
        (Err(e), _) => return bail(format!("macro `{}`: the host sent an invalid args stream: {}", name, e)),
        (_, Err(e)) => return bail(format!("macro `{}`: the host sent an invalid item stream: {}", name, e)),
    };
    let handler = def.handler;
    // On wasm32 catch_unwind cannot catch (panics abort); the hook records the same message instead.
    #[cfg(target_arch = "wasm32")]
    crate::wasm::panic_context(format!("macro `{}` panicked: ", name));
    catch_unwind(AssertUnwindSafe(move || match handler {
        Handler::Inline(f) => f(&args),
        Handler::Attribute(f) => f(&args, &item),
        Handler::Derive(f) => f(&item),
    }))
    .unwrap_or_else(|payload| bail(format!("macro `{}` panicked: {}", name, panic_message(&*payload))))
}

fn find_macro<'a>(library: &'a Library, name: &str, kind: u32) -> Result<&'a MacroDef, String> {
    if let Some(def) = library.macros.iter().find(|d| d.name == name && d.handler.kind() == kind) {
        return Ok(def);
    }
    let called_as = kind_name(kind);
    if let Some(def) = library.macros.iter().find(|d| d.name == name) {
        return Err(format!(
            "macro `{}` is {} macro, but was called as {} macro",
            name,
            kind_name(def.handler.kind()),
            called_as
        ));
    }
    let names: Vec<&str> = library.macros.iter().map(|d| d.name).collect();
    Err(format!(
        "this library has no macro named `{}` (called as {} macro); it provides: {}",
        name,
        called_as,
        if names.is_empty() { "nothing".to_string() } else { names.join(", ") }
    ))
}

fn kind_name(kind: u32) -> String {
    match kind {
        MH_KIND_INLINE => "an inline".to_string(),
        MH_KIND_ATTRIBUTE => "an attribute".to_string(),
        MH_KIND_DERIVE => "a derive".to_string(),
        other => format!("an unknown kind ({}) of", other),
    }
}

/// Copies a host string (valid only during the call) into an owned String.
unsafe fn read_str(s: mh_str) -> Result<String, String> {
    let bytes = read_bytes(s.ptr as *const u8, s.len)?;
    String::from_utf8(bytes.to_vec()).map_err(|e| format!("is not valid UTF-8 ({})", e.utf8_error()))
}

/// Copies a host stream's records and text once into an owned, checked TokenStream.
unsafe fn read_stream(s: mh_token_stream) -> Result<TokenStream, String> {
    if s.tokens.is_null() && s.len > 0 {
        return Err(format!("it has {} tokens but a NULL tokens pointer", s.len));
    }
    let records: Vec<mh_token> =
        if s.len == 0 { Vec::new() } else { std::slice::from_raw_parts(s.tokens, s.len).to_vec() };
    let text = read_bytes(s.text as *const u8, s.text_len)?;
    let text = String::from_utf8(text.to_vec()).map_err(|e| format!("its text is not valid UTF-8 ({})", e.utf8_error()))?;
    TokenStream::from_records(records, text)
}

unsafe fn read_bytes<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], String> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(format!("has length {} but a NULL pointer", len));
    }
    Ok(std::slice::from_raw_parts(ptr, len))
}

fn bail(message: String) -> ProcMacroResult {
    ProcMacroResult::bail(Diagnostic::error(message))
}

fn sdk_panic(entry: &str, payload: &(dyn Any + Send)) -> ProcMacroResult {
    bail(format!("macro-host SDK panicked in {}: {}", entry, panic_message(payload)))
}

/// The text of a panic payload: `panic!("...")` gives a `&str` or a `String`.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic payload that is not a string".to_string()
    }
}

/// One heap block owning a result and everything its pointers point into; `raw` comes first so
/// the block's address is also the `mh_result` address the host sees.
#[repr(C)]
struct OwnedResult {
    raw: mh_result,
    records: Vec<mh_token>,
    text: String,
    aux_data: Option<String>,
    diagnostics: Vec<mh_diagnostic>,
    messages: Vec<String>,
}

/// Boxes a result for the host. Returns null only if even that panicked (out of memory).
fn into_raw(result: ProcMacroResult) -> *mut mh_result {
    catch_unwind(AssertUnwindSafe(move || {
        let (outcome, tokens, diagnostics, aux_data) = result.into_parts();
        let (records, text) = tokens.into_parts();
        let mut messages = Vec::with_capacity(diagnostics.len());
        let mut raw_diagnostics = Vec::with_capacity(diagnostics.len());
        for d in diagnostics {
            let span = match d.span {
                Some(s) => mh_span { start: s.start, end: s.end },
                None => mh_span { start: MH_SPAN_CALL_SITE, end: MH_SPAN_CALL_SITE },
            };
            // A String's heap buffer does not move when the String moves into `messages`.
            raw_diagnostics.push(mh_diagnostic { severity: d.severity.to_abi(), span, message: str_of(&d.message) });
            messages.push(d.message);
        }
        let raw = mh_result {
            outcome: outcome.to_abi(),
            tokens: mh_token_stream {
                tokens: if records.is_empty() { ptr::null() } else { records.as_ptr() },
                len: records.len(),
                text: str_of(&text).ptr,
                text_len: text.len(),
            },
            aux_data: match &aux_data {
                Some(json) => str_of(json),
                None => mh_str { ptr: ptr::null(), len: 0 },
            },
            diagnostics: if raw_diagnostics.is_empty() { ptr::null() } else { raw_diagnostics.as_ptr() },
            diagnostics_len: raw_diagnostics.len(),
        };
        let owned = Box::new(OwnedResult { raw, records, text, aux_data, diagnostics: raw_diagnostics, messages });
        Box::into_raw(owned) as *mut mh_result
    }))
    .unwrap_or(ptr::null_mut())
}

fn str_of(s: &str) -> mh_str {
    mh_str { ptr: if s.is_empty() { ptr::null() } else { s.as_ptr() as *const c_char }, len: s.len() }
}
