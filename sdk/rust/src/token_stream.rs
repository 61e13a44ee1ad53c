//! Flat token streams: one `Vec` of 24-byte records plus one `String` of text, the same layout the
//! ABI uses, so a stream crosses the boundary without one allocation per token.

use crate::abi::{
    mh_token, MH_SPAN_CALL_SITE, MH_TOKEN_FLAG_JOINT, MH_TOKEN_IDENT, MH_TOKEN_LITERAL,
    MH_TOKEN_PUNCT,
};
use std::fmt;

/// A byte range of the original source file, end exclusive (UTF-8 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from `start` (inclusive) to `end` (exclusive).
    pub fn new(start: u32, end: u32) -> Span {
        Span { start, end }
    }
}

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// Identifier or keyword: `foo`, `fn`, `let`.
    Ident,
    /// Punctuation or operator: `(`, `,`, `->`, `::`, `+=`.
    Punct,
    /// Number, string `"..."` or short string `'...'`.
    Literal,
}

impl TokenKind {
    /// The `MH_TOKEN_*` number of this kind.
    pub fn to_abi(self) -> u32 {
        match self {
            TokenKind::Ident => MH_TOKEN_IDENT,
            TokenKind::Punct => MH_TOKEN_PUNCT,
            TokenKind::Literal => MH_TOKEN_LITERAL,
        }
    }

    /// The kind of an `MH_TOKEN_*` number, or `None` for an unknown number.
    pub fn from_abi(kind: u32) -> Option<TokenKind> {
        match kind {
            MH_TOKEN_IDENT => Some(TokenKind::Ident),
            MH_TOKEN_PUNCT => Some(TokenKind::Punct),
            MH_TOKEN_LITERAL => Some(TokenKind::Literal),
            _ => None,
        }
    }
}

/// A borrowed view of one token of a [`TokenStream`]; cheap to copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    /// What the token is.
    pub kind: TokenKind,
    /// The token's text, exactly as in the source (a string literal keeps its quotes).
    pub text: &'a str,
    /// Where the token is in the source; `None` for a generated token (it maps to the call site).
    pub span: Option<Span>,
    /// True when no whitespace separates this token from the next one.
    pub joint: bool,
}

impl<'a> Token<'a> {
    /// True for an identifier spelled `text`.
    pub fn is_ident(&self, text: &str) -> bool {
        self.kind == TokenKind::Ident && self.text == text
    }

    /// True for a punctuation token spelled `text`.
    pub fn is_punct(&self, text: &str) -> bool {
        self.kind == TokenKind::Punct && self.text == text
    }
}

/// A flat token stream: token records (six u32 each, as `mh_token`) plus one UTF-8 text buffer.
///
/// Build one with the `push_*` methods, [`TokenStream::extend_from`], `collect()` from tokens, or
/// [`TokenStream::parse`] for generated code; read one with [`TokenStream::iter`]. `Display` prints
/// the tokens with a space between them unless a token is joint to the next.
///
/// ```
/// use macro_host_sdk::TokenStream;
/// let mut out = TokenStream::new();
/// out.push_punct("(");
/// out.extend_from(&TokenStream::parse("a + 1").unwrap());
/// out.push_punct(")");
/// assert_eq!(out.to_string(), "( a + 1 )");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TokenStream {
    // Invariant: every record's kind is known and its text range is a char-aligned slice of `text`.
    records: Vec<mh_token>,
    text: String,
}

impl TokenStream {
    /// An empty stream.
    pub fn new() -> TokenStream {
        TokenStream::default()
    }

    /// An empty stream with room for `tokens` tokens and `text_bytes` bytes of text.
    pub fn with_capacity(tokens: usize, text_bytes: usize) -> TokenStream {
        TokenStream { records: Vec::with_capacity(tokens), text: String::with_capacity(text_bytes) }
    }

    /// A stream from raw records and their text, checking every record against the text.
    /// Returns a sentence saying what is wrong when a record has an unknown kind or points
    /// outside the text or into the middle of a UTF-8 character.
    pub fn from_records(records: Vec<mh_token>, text: String) -> Result<TokenStream, String> {
        for (i, r) in records.iter().enumerate() {
            if TokenKind::from_abi(r.kind).is_none() {
                return Err(format!("token {} has unknown kind {}", i, r.kind));
            }
            let start = r.text_off as usize;
            let end = start + r.text_len as usize;
            if end > text.len() {
                return Err(format!(
                    "token {} text ends at byte {}, past the text's {} bytes",
                    i,
                    end,
                    text.len()
                ));
            }
            if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
                return Err(format!(
                    "token {} text {}..{} splits a UTF-8 character",
                    i, start, end
                ));
            }
        }
        Ok(TokenStream { records, text })
    }

    /// The raw records, in the `mh_token` layout.
    pub fn records(&self) -> &[mh_token] {
        &self.records
    }

    /// The text buffer the records point into.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Takes the stream apart into its records and text (no copy).
    pub fn into_parts(self) -> (Vec<mh_token>, String) {
        (self.records, self.text)
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when the stream has no tokens.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The token at `index`, or `None` past the end.
    pub fn get(&self, index: usize) -> Option<Token<'_>> {
        self.records.get(index).map(|r| self.view(r))
    }

    /// The tokens, in order, as borrowed views.
    pub fn iter(&self) -> Iter<'_> {
        Iter { stream: self, records: self.records.iter() }
    }

    /// Appends a token. `span: None` marks a generated token (it maps to the call site);
    /// `joint` means no whitespace before the next token.
    pub fn push(&mut self, kind: TokenKind, text: &str, span: Option<Span>, joint: bool) -> &mut Self {
        let (span_start, span_end) = match span {
            Some(s) => (s.start, s.end),
            None => (MH_SPAN_CALL_SITE, MH_SPAN_CALL_SITE),
        };
        self.records.push(mh_token {
            kind: kind.to_abi(),
            flags: if joint { MH_TOKEN_FLAG_JOINT } else { 0 },
            text_off: to_u32(self.text.len()),
            text_len: to_u32(text.len()),
            span_start,
            span_end,
        });
        self.text.push_str(text);
        self
    }

    /// Appends a copy of `token`, keeping its kind, span and joint flag.
    pub fn push_token(&mut self, token: Token<'_>) -> &mut Self {
        self.push(token.kind, token.text, token.span, token.joint)
    }

    /// Appends a generated identifier.
    pub fn push_ident(&mut self, text: &str) -> &mut Self {
        self.push(TokenKind::Ident, text, None, false)
    }

    /// Appends a generated punctuation token.
    pub fn push_punct(&mut self, text: &str) -> &mut Self {
        self.push(TokenKind::Punct, text, None, false)
    }

    /// Appends a generated literal (`1`, `"text"` with its quotes, `'short'`).
    pub fn push_literal(&mut self, text: &str) -> &mut Self {
        self.push(TokenKind::Literal, text, None, false)
    }

    /// Appends an identifier with a source span.
    pub fn push_ident_spanned(&mut self, text: &str, span: Span) -> &mut Self {
        self.push(TokenKind::Ident, text, Some(span), false)
    }

    /// Appends a punctuation token with a source span.
    pub fn push_punct_spanned(&mut self, text: &str, span: Span) -> &mut Self {
        self.push(TokenKind::Punct, text, Some(span), false)
    }

    /// Appends a literal with a source span.
    pub fn push_literal_spanned(&mut self, text: &str, span: Span) -> &mut Self {
        self.push(TokenKind::Literal, text, Some(span), false)
    }

    /// Marks the last token as joint (or not) to whatever comes next; no-op on an empty stream.
    pub fn set_last_joint(&mut self, joint: bool) -> &mut Self {
        if let Some(last) = self.records.last_mut() {
            if joint {
                last.flags |= MH_TOKEN_FLAG_JOINT;
            } else {
                last.flags &= !MH_TOKEN_FLAG_JOINT;
            }
        }
        self
    }

    /// Appends every token of `other`, with spans and flags (one copy of records and text).
    pub fn extend_from(&mut self, other: &TokenStream) -> &mut Self {
        let base = to_u32(self.text.len());
        self.records.reserve(other.records.len());
        self.records.extend(other.records.iter().map(|r| mh_token { text_off: r.text_off + base, ..*r }));
        self.text.push_str(&other.text);
        self
    }

    /// Parses Cairo/Rust-like source into generated tokens (every span is `None`), for building
    /// output from text: `TokenStream::parse("impl Foo for Bar {}")`.
    ///
    /// Recognises identifiers, numbers (`12`, `0x1f`, `1_000u32`), strings `"..."`, short strings
    /// `'abc'`, multi-character operators (`::` `->` `=>` `==` `!=` `<=` `>=` `&&` `||` `+=` `-=`
    /// `*=` `/=` `%=` `..` `..=`) and single punctuation characters. Comments are skipped. A token
    /// is joint when the next one follows it with no whitespace.
    pub fn parse(source: &str) -> Result<TokenStream, ParseError> {
        crate::parse::parse(source)
    }

    fn view(&self, r: &mh_token) -> Token<'_> {
        let start = r.text_off as usize;
        let span = if r.span_start == MH_SPAN_CALL_SITE {
            None
        } else {
            Some(Span { start: r.span_start, end: r.span_end })
        };
        Token {
            // The invariant guarantees a known kind; Punct is a harmless fallback.
            kind: TokenKind::from_abi(r.kind).unwrap_or(TokenKind::Punct),
            text: &self.text[start..start + r.text_len as usize],
            span,
            joint: r.flags & MH_TOKEN_FLAG_JOINT != 0,
        }
    }
}

/// Why [`TokenStream::parse`] refused its input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the parsed text where the problem starts.
    pub offset: usize,
    /// What is wrong, as a sentence.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

impl std::error::Error for ParseError {}

impl std::str::FromStr for TokenStream {
    type Err = ParseError;
    fn from_str(source: &str) -> Result<TokenStream, ParseError> {
        TokenStream::parse(source)
    }
}

/// Iterator over the tokens of a [`TokenStream`].
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    stream: &'a TokenStream,
    records: std::slice::Iter<'a, mh_token>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Token<'a>;
    fn next(&mut self) -> Option<Token<'a>> {
        let stream = self.stream;
        self.records.next().map(|r| stream.view(r))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.records.size_hint()
    }
}

impl<'a> ExactSizeIterator for Iter<'a> {}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<Token<'a>> {
        let stream = self.stream;
        self.records.next_back().map(|r| stream.view(r))
    }
}

impl<'a> IntoIterator for &'a TokenStream {
    type Item = Token<'a>;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<'a> Extend<Token<'a>> for TokenStream {
    fn extend<I: IntoIterator<Item = Token<'a>>>(&mut self, tokens: I) {
        for token in tokens {
            self.push_token(token);
        }
    }
}

impl<'a> FromIterator<Token<'a>> for TokenStream {
    fn from_iter<I: IntoIterator<Item = Token<'a>>>(tokens: I) -> TokenStream {
        let mut stream = TokenStream::new();
        stream.extend(tokens);
        stream
    }
}

impl fmt::Display for TokenStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.records.len();
        for (i, token) in self.iter().enumerate() {
            f.write_str(token.text)?;
            if i + 1 < count && !token.joint {
                f.write_str(" ")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for TokenStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A text length as a record field; a stream's text is limited to 4 GiB by the ABI.
fn to_u32(n: usize) -> u32 {
    assert!(n <= u32::MAX as usize, "token stream text exceeds 4 GiB");
    n as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_flat_records_and_reads_them_back() {
        let mut s = TokenStream::new();
        s.push_ident_spanned("a", Span::new(5, 6)).push_punct(",").push_literal("1");
        assert_eq!(s.text(), "a,1");
        assert_eq!(
            s.records()[0],
            mh_token { kind: MH_TOKEN_IDENT, flags: 0, text_off: 0, text_len: 1, span_start: 5, span_end: 6 }
        );
        assert_eq!(s.records()[2].span_start, MH_SPAN_CALL_SITE);
        let tokens: Vec<Token> = s.iter().collect();
        assert_eq!(tokens[0], Token { kind: TokenKind::Ident, text: "a", span: Some(Span::new(5, 6)), joint: false });
        assert_eq!(tokens[2], Token { kind: TokenKind::Literal, text: "1", span: None, joint: false });
        assert_eq!(s.to_string(), "a , 1");
    }

    #[test]
    fn extend_from_rebases_text_offsets() {
        let mut a = TokenStream::parse("x").unwrap();
        let b = TokenStream::parse("yy::z").unwrap();
        a.extend_from(&b);
        assert_eq!(a.iter().map(|t| t.text).collect::<Vec<_>>(), vec!["x", "yy", "::", "z"]);
        assert_eq!(a.to_string(), "x yy::z");
    }

    #[test]
    fn collect_keeps_spans_and_joint() {
        let s = TokenStream::parse("f(a)").unwrap();
        let copy: TokenStream = s.iter().filter(|t| !t.is_ident("a")).collect();
        assert_eq!(copy.to_string(), "f()");
    }

    #[test]
    fn from_records_rejects_bad_records() {
        let rec = |kind, off, len| mh_token { kind, flags: 0, text_off: off, text_len: len, span_start: 0, span_end: 0 };
        assert_eq!(
            TokenStream::from_records(vec![rec(0, 0, 1), rec(0, 2, 5)], "abc".to_string()).unwrap_err(),
            "token 1 text ends at byte 7, past the text's 3 bytes"
        );
        assert_eq!(
            TokenStream::from_records(vec![rec(7, 0, 1)], "a".to_string()).unwrap_err(),
            "token 0 has unknown kind 7"
        );
        assert_eq!(
            TokenStream::from_records(vec![rec(2, 0, 1)], "é".to_string()).unwrap_err(),
            "token 0 text 0..1 splits a UTF-8 character"
        );
        let ok = TokenStream::from_records(vec![rec(2, 0, 2)], "é".to_string()).unwrap();
        assert_eq!(ok.get(0).unwrap().text, "é");
    }

    #[test]
    fn set_last_joint_changes_display() {
        let mut s = TokenStream::new();
        s.push_ident("println").set_last_joint(true).push_punct("!");
        assert_eq!(s.to_string(), "println!");
        s.set_last_joint(false);
        assert!(!s.get(1).unwrap().joint);
    }
}
