//! What a macro returns: an outcome, output tokens, diagnostics and optional aux data.

use crate::abi::{
    MH_OUTCOME_BAIL, MH_OUTCOME_LEAVE, MH_OUTCOME_REMOVE, MH_OUTCOME_REPLACE, MH_SEVERITY_ERROR,
    MH_SEVERITY_NOTE, MH_SEVERITY_WARNING,
};
use crate::token_stream::{Span, TokenStream};

/// What happens to the macro call (or the item an attribute or derive is applied to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Keep the original code.
    Leave,
    /// Replace the call (or item) by the output tokens.
    Replace,
    /// Delete the call (or item).
    Remove,
    /// The macro gave up: keep the original code and report the diagnostics.
    Bail,
}

impl Outcome {
    /// The `MH_OUTCOME_*` number of this outcome.
    pub fn to_abi(self) -> u32 {
        match self {
            Outcome::Leave => MH_OUTCOME_LEAVE,
            Outcome::Replace => MH_OUTCOME_REPLACE,
            Outcome::Remove => MH_OUTCOME_REMOVE,
            Outcome::Bail => MH_OUTCOME_BAIL,
        }
    }
}

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The code is wrong.
    Error,
    /// The code is suspicious.
    Warning,
    /// Information.
    Note,
}

impl Severity {
    /// The `MH_SEVERITY_*` number of this severity.
    pub fn to_abi(self) -> u32 {
        match self {
            Severity::Error => MH_SEVERITY_ERROR,
            Severity::Warning => MH_SEVERITY_WARNING,
            Severity::Note => MH_SEVERITY_NOTE,
        }
    }
}

/// A message about the macro call, optionally pointing at a source span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// How serious it is.
    pub severity: Severity,
    /// The message shown to the user.
    pub message: String,
    /// Where it points; `None` means the macro's call site.
    pub span: Option<Span>,
}

impl Diagnostic {
    /// A diagnostic with the given severity, pointing at the call site.
    pub fn new(severity: Severity, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity, message: message.into(), span: None }
    }

    /// An error at the call site.
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Error, message)
    }

    /// A warning at the call site.
    pub fn warning(message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Warning, message)
    }

    /// A note at the call site.
    pub fn note(message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Note, message)
    }

    /// The same diagnostic pointing at `span` (`None`: the call site), e.g. a token's span.
    pub fn with_span(mut self, span: Option<Span>) -> Diagnostic {
        self.span = span;
        self
    }
}

/// The result of one macro call: build it with [`ProcMacroResult::leave`], [`replace`](ProcMacroResult::replace),
/// [`remove`](ProcMacroResult::remove) or [`bail`](ProcMacroResult::bail), then add diagnostics and aux data.
///
/// ```
/// use macro_host_sdk::{Diagnostic, ProcMacroResult, TokenStream};
/// let r = ProcMacroResult::replace(TokenStream::parse("1 + 2").unwrap())
///     .with_diagnostic(Diagnostic::warning("constant expression"))
///     .with_aux_data(r#"{"folded":false}"#);
/// assert_eq!(r.aux_data(), Some(r#"{"folded":false}"#));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcMacroResult {
    outcome: Outcome,
    tokens: TokenStream,
    diagnostics: Vec<Diagnostic>,
    aux_data: Option<String>,
}

impl ProcMacroResult {
    fn with_outcome(outcome: Outcome, tokens: TokenStream) -> ProcMacroResult {
        ProcMacroResult { outcome, tokens, diagnostics: Vec::new(), aux_data: None }
    }

    /// Keep the original code unchanged.
    pub fn leave() -> ProcMacroResult {
        ProcMacroResult::with_outcome(Outcome::Leave, TokenStream::new())
    }

    /// Replace the call (or item) by `tokens`.
    pub fn replace(tokens: TokenStream) -> ProcMacroResult {
        ProcMacroResult::with_outcome(Outcome::Replace, tokens)
    }

    /// Delete the call (or item).
    pub fn remove() -> ProcMacroResult {
        ProcMacroResult::with_outcome(Outcome::Remove, TokenStream::new())
    }

    /// Give up: the original code stays and `diagnostic` (usually an error) says why.
    pub fn bail(diagnostic: Diagnostic) -> ProcMacroResult {
        ProcMacroResult::with_outcome(Outcome::Bail, TokenStream::new()).with_diagnostic(diagnostic)
    }

    /// Adds a diagnostic.
    pub fn with_diagnostic(mut self, diagnostic: Diagnostic) -> ProcMacroResult {
        self.diagnostics.push(diagnostic);
        self
    }

    /// Attaches aux data: the text of one JSON value (`{"count":3}`), handed to the library's
    /// post-process step with every other aux value of the run. The host rejects text that is not
    /// JSON; an empty string means no aux data. [`json_string`](crate::json_string) quotes strings.
    pub fn with_aux_data(mut self, json: impl Into<String>) -> ProcMacroResult {
        let json = json.into();
        self.aux_data = if json.is_empty() { None } else { Some(json) };
        self
    }

    /// The outcome.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// The output tokens (meaningful for `Replace`).
    pub fn tokens(&self) -> &TokenStream {
        &self.tokens
    }

    /// The diagnostics, in order.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The aux data JSON text, if any.
    pub fn aux_data(&self) -> Option<&str> {
        self.aux_data.as_deref()
    }

    /// Takes the result apart: outcome, tokens, diagnostics, aux data.
    pub fn into_parts(self) -> (Outcome, TokenStream, Vec<Diagnostic>, Option<String>) {
        (self.outcome, self.tokens, self.diagnostics, self.aux_data)
    }
}

/// `text` as a JSON string literal, quotes included: `json_string("a\"b")` is `"a\"b"` with the
/// quote escaped. Control characters become `\n`, `\t`, ... or `\u00XX`.
pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_set_the_outcome() {
        assert_eq!(ProcMacroResult::leave().outcome(), Outcome::Leave);
        assert_eq!(ProcMacroResult::remove().outcome(), Outcome::Remove);
        let b = ProcMacroResult::bail(Diagnostic::error("no").with_span(Some(Span::new(1, 2))));
        assert_eq!(b.outcome(), Outcome::Bail);
        assert_eq!(b.diagnostics()[0], Diagnostic { severity: Severity::Error, message: "no".into(), span: Some(Span::new(1, 2)) });
        assert_eq!(ProcMacroResult::leave().with_aux_data("").aux_data(), None);
    }

    #[test]
    fn json_string_escapes() {
        assert_eq!(json_string("a\"b\\c\nd\u{1}é"), "\"a\\\"b\\\\c\\nd\\u0001é\"");
    }
}
