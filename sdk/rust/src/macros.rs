//! `export_macros!`: the registration that generates a library's C entry points.

/// Registers a library's macros and generates the five C symbols of the macro ABI v1:
/// `mh_abi_version`, `mh_manifest`, `mh_expand`, `mh_free_result` and, when a `post_process`
/// entry is given, `mh_post_process`. Use it once, at the root of a `cdylib` crate.
///
/// Grammar: a comma-separated list of entries, in manifest order.
///
/// - `inline NAME` / `attribute NAME` / `derive NAME`: a macro whose function has the same name.
/// - `inline NAME => path::to::function` (same for the other kinds): a macro whose function has
///   another name, e.g. `derive ToValue => to_value`.
/// - `/// text` doc comments before an entry become its `doc` in the manifest.
/// - `post_process = path::to::function` (at most once): the library's post-process step.
/// - `fingerprint = path::to::function` (at most once): exports `mh_fingerprint`, a `fn() -> u64`
///   hash of the outside inputs (environment variables, files) the macros' output depends on; the
///   expansion cache puts it in every key. Without it, the macros are taken to be pure in their input.
///
/// Function signatures:
///
/// - inline: `fn(args: &TokenStream) -> ProcMacroResult`
/// - attribute: `fn(args: &TokenStream, item: &TokenStream) -> ProcMacroResult`
/// - derive: `fn(item: &TokenStream) -> ProcMacroResult`
/// - post_process: `fn(aux_data: &[&str]) -> ProcMacroResult`: one JSON text per aux value the
///   library's macros attached during the run; only the result's diagnostics are used.
///
/// A panic in any of them becomes outcome BAIL with the error diagnostic
/// ``macro `NAME` panicked: MESSAGE`` (``post_process panicked: MESSAGE``); the crate must keep
/// `panic = "unwind"` (the default) for that to work.
///
/// ```
/// use macro_host_sdk::{export_macros, ProcMacroResult, TokenStream};
///
/// fn twice(args: &TokenStream) -> ProcMacroResult {
///     let mut out = args.clone();
///     out.push_punct("+").extend_from(args);
///     ProcMacroResult::replace(out)
/// }
/// fn keep(_args: &TokenStream, _item: &TokenStream) -> ProcMacroResult {
///     ProcMacroResult::leave()
/// }
/// fn nothing(_aux: &[&str]) -> ProcMacroResult {
///     ProcMacroResult::leave()
/// }
///
/// export_macros! {
///     /// Doubles an expression: `twice!(x)` is `x + x`.
///     inline twice,
///     attribute keep_it => keep,
///     post_process = nothing,
/// }
/// ```
///
/// Without `post_process`, no `mh_post_process` symbol is exported:
///
/// ```
/// use macro_host_sdk::{export_macros, ProcMacroResult, TokenStream};
/// fn gone(_item: &TokenStream) -> ProcMacroResult {
///     ProcMacroResult::remove()
/// }
/// export_macros! { derive Gone => gone }
/// ```
///
/// An unknown kind is a compile error naming the kinds:
///
/// ```compile_fail
/// use macro_host_sdk::{export_macros, ProcMacroResult, TokenStream};
/// fn f(_args: &TokenStream) -> ProcMacroResult {
///     ProcMacroResult::leave()
/// }
/// export_macros! { function f }
/// ```
#[macro_export]
macro_rules! export_macros {
    ($($input:tt)*) => {
        $crate::__export_macros_munch! { @defs [] @post [] @fp [] @rest $($input)* }
    };
}

/// Reads `export_macros!` entries one at a time (a "tt muncher") into a normalised list.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_macros_munch {
    // Everything read: generate the code.
    (@defs [$($defs:tt)*] @post [$($post:tt)*] @fp [$($fp:tt)*] @rest) => {
        $crate::__export_macros_emit! { [$($defs)*] [$($post)*] [$($fp)*] }
    };
    // A separating or trailing comma.
    (@defs [$($defs:tt)*] @post [$($post:tt)*] @fp [$($fp:tt)*] @rest , $($rest:tt)*) => {
        $crate::__export_macros_munch! { @defs [$($defs)*] @post [$($post)*] @fp [$($fp)*] @rest $($rest)* }
    };
    // post_process = function
    (@defs [$($defs:tt)*] @post [] @fp [$($fp:tt)*] @rest post_process = $func:path $(, $($rest:tt)*)?) => {
        $crate::__export_macros_munch! { @defs [$($defs)*] @post [$func] @fp [$($fp)*] @rest $($($rest)*)? }
    };
    (@defs [$($defs:tt)*] @post [$($post:tt)+] @fp [$($fp:tt)*] @rest post_process $($rest:tt)*) => {
        compile_error!("export_macros!: `post_process` is given twice; a library has at most one");
    };
    // fingerprint = function
    (@defs [$($defs:tt)*] @post [$($post:tt)*] @fp [] @rest fingerprint = $func:path $(, $($rest:tt)*)?) => {
        $crate::__export_macros_munch! { @defs [$($defs)*] @post [$($post)*] @fp [$func] @rest $($($rest)*)? }
    };
    (@defs [$($defs:tt)*] @post [$($post:tt)*] @fp [$($fp:tt)+] @rest fingerprint $($rest:tt)*) => {
        compile_error!("export_macros!: `fingerprint` is given twice; a library has at most one");
    };
    // KIND NAME => function
    (@defs [$($defs:tt)*] @post [$($post:tt)*] @fp [$($fp:tt)*] @rest $(#[doc = $doc:literal])* $kind:ident $name:ident => $func:path $(, $($rest:tt)*)?) => {
        $crate::__export_macros_munch! {
            @defs [$($defs)* { [$($doc),*] $kind $name $func }] @post [$($post)*] @fp [$($fp)*] @rest $($($rest)*)?
        }
    };
    // KIND NAME (the function has the macro's name)
    (@defs [$($defs:tt)*] @post [$($post:tt)*] @fp [$($fp:tt)*] @rest $(#[doc = $doc:literal])* $kind:ident $name:ident $(, $($rest:tt)*)?) => {
        $crate::__export_macros_munch! {
            @defs [$($defs)* { [$($doc),*] $kind $name $name }] @post [$($post)*] @fp [$($fp)*] @rest $($($rest)*)?
        }
    };
    (@defs [$($defs:tt)*] @post [$($post:tt)*] @fp [$($fp:tt)*] @rest $($rest:tt)*) => {
        compile_error!(concat!(
            "export_macros!: expected `inline NAME`, `attribute NAME`, `derive NAME` (optionally `=> function`), ",
            "`post_process = function` or `fingerprint = function`, found: ",
            stringify!($($rest)*)
        ));
    };
}

/// Turns a kind keyword and a function into a `Handler`.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_macros_handler {
    (inline $func:path) => { $crate::export::Handler::Inline($func) };
    (attribute $func:path) => { $crate::export::Handler::Attribute($func) };
    (derive $func:path) => { $crate::export::Handler::Derive($func) };
    ($other:ident $func:path) => {
        compile_error!(concat!(
            "export_macros!: unknown macro kind `", stringify!($other), "`; expected inline, attribute or derive"
        ))
    };
}

/// Generates the macro table and the C entry points.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_macros_emit {
    ([$({ [$($doc:literal),*] $kind:ident $name:ident $func:path })*] [$($post:path)?] [$($fp:path)?]) => {
        static __MH_LIBRARY: $crate::export::Library = $crate::export::Library {
            macros: &[$($crate::export::MacroDef {
                name: stringify!($name),
                doc: &[$($doc),*],
                handler: $crate::__export_macros_handler!($kind $func),
            }),*],
            manifest: $crate::export::ManifestCell::new(),
        };

        /// Macro ABI entry point: the ABI version this library implements.
        #[no_mangle]
        pub extern "C" fn mh_abi_version() -> u32 {
            $crate::MH_ABI_VERSION
        }

        /// Macro ABI entry point: the manifest JSON, valid while the library is loaded.
        #[no_mangle]
        pub extern "C" fn mh_manifest() -> $crate::mh_str {
            __MH_LIBRARY.manifest()
        }

        /// Macro ABI entry point: expands one macro call.
        ///
        /// # Safety
        /// `request` is null or a valid request whose memory stays valid during the call.
        #[no_mangle]
        pub unsafe extern "C" fn mh_expand(request: *const $crate::mh_request) -> *mut $crate::mh_result {
            $crate::export::expand(&__MH_LIBRARY, request)
        }

        /// Macro ABI entry point: frees a result of `mh_expand` or `mh_post_process`.
        ///
        /// # Safety
        /// `result` is null or came from this library and was not freed before.
        #[no_mangle]
        pub unsafe extern "C" fn mh_free_result(result: *mut $crate::mh_result) {
            $crate::export::free_result(result)
        }

        /// Wasm ABI entry point: `size` bytes of module memory (aligned to 8) for the host's inputs.
        #[cfg(target_arch = "wasm32")]
        #[no_mangle]
        pub extern "C" fn mh_alloc(size: usize) -> *mut u8 {
            $crate::wasm::host_alloc(size)
        }

        /// Wasm ABI entry point: releases a block of `mh_alloc`.
        ///
        /// # Safety
        /// `ptr` came from `mh_alloc(size)` and was not released before.
        #[cfg(target_arch = "wasm32")]
        #[no_mangle]
        pub unsafe extern "C" fn mh_dealloc(ptr: *mut u8, size: usize) {
            $crate::wasm::host_dealloc(ptr, size)
        }

        /// Wasm ABI entry point: the message of the panic that trapped the last call, or null.
        #[cfg(target_arch = "wasm32")]
        #[no_mangle]
        pub extern "C" fn mh_panic_message() -> *const $crate::mh_str {
            $crate::wasm::panic_message_ptr()
        }

        /// Wasm ABI entry point: the size of the allocation that failed in the last call, or 0.
        #[cfg(target_arch = "wasm32")]
        #[no_mangle]
        pub extern "C" fn mh_alloc_failure() -> usize {
            $crate::wasm::alloc_failure()
        }

        $(
            /// Macro ABI entry point: sees the JSON array of every aux value of the run.
            ///
            /// # Safety
            /// `aux` points to `aux.len` readable bytes during the call.
            #[no_mangle]
            pub unsafe extern "C" fn mh_post_process(aux: $crate::mh_str) -> *mut $crate::mh_result {
                $crate::export::post_process(aux, $post)
            }
        )?

        $(
            /// Macro ABI entry point: a hash of the outside inputs the macros' output depends on.
            #[no_mangle]
            pub extern "C" fn mh_fingerprint() -> u64 {
                $crate::export::fingerprint($fp)
            }
        )?
    };
}
