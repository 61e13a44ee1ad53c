//! `TokenStream::parse`: a small tokenizer for code a macro generates from text. It follows the
//! same token rules as the host's tokenizer (client/tokenizer.ts), so printed output re-tokenizes
//! the same way; every token it makes is generated (no span).

use crate::token_stream::{ParseError, TokenKind, TokenStream};

// Multi-character operators, longest first so the first match is the longest.
const OPERATORS: [&str; 24] = [
    "..=", "...", "<<=", ">>=", "::", "->", "=>", "==", "!=", "<=", ">=", "&&", "||", "+=", "-=",
    "*=", "/=", "%=", "^=", "&=", "|=", "..", "<<", ">>",
];
const SINGLE_PUNCT: &str = "#,;:.=<>!+-*/%&|^~?@$()[]{}";

pub(crate) fn parse(source: &str) -> Result<TokenStream, ParseError> {
    let bytes = source.as_bytes();
    let mut out = TokenStream::with_capacity(source.len() / 3 + 1, source.len());
    let mut pos = skip_trivia(source, 0)?;
    while pos < bytes.len() {
        let (kind, end) = scan_token(source, pos)?;
        let next = skip_trivia(source, end)?;
        let joint = next == end && next < bytes.len();
        out.push(kind, &source[pos..end], None, joint);
        pos = next;
    }
    Ok(out)
}

/// Skips whitespace and comments from `pos`; returns where the next token starts.
fn skip_trivia(source: &str, mut pos: usize) -> Result<usize, ParseError> {
    let bytes = source.as_bytes();
    loop {
        match source[pos..].chars().next() {
            Some(c) if c.is_whitespace() => pos += c.len_utf8(),
            Some('/') if bytes.get(pos + 1) == Some(&b'/') => {
                pos = source[pos..].find('\n').map(|n| pos + n).unwrap_or(bytes.len());
            }
            Some('/') if bytes.get(pos + 1) == Some(&b'*') => {
                let start = pos;
                let mut depth = 0usize;
                loop {
                    if pos >= bytes.len() {
                        return Err(error(start, "unterminated block comment"));
                    }
                    if bytes[pos] == b'/' && bytes.get(pos + 1) == Some(&b'*') {
                        depth += 1;
                        pos += 2;
                    } else if bytes[pos] == b'*' && bytes.get(pos + 1) == Some(&b'/') {
                        depth -= 1;
                        pos += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        pos += 1;
                    }
                }
            }
            _ => return Ok(pos),
        }
    }
}

/// Scans the token at `pos` (not trivia); returns its kind and end.
fn scan_token(source: &str, pos: usize) -> Result<(TokenKind, usize), ParseError> {
    let bytes = source.as_bytes();
    let rest = &source[pos..];
    let c = rest.chars().next().unwrap_or(' ');
    if is_ident_start(c) {
        return Ok((TokenKind::Ident, pos + ident_len(rest)));
    }
    if c.is_ascii_digit() {
        return Ok((TokenKind::Literal, pos + number_len(rest)));
    }
    if c == '"' {
        return match quoted_len(rest, b'"', true) {
            Some(n) => Ok((TokenKind::Literal, pos + n)),
            None => Err(error(pos, "unterminated string literal")),
        };
    }
    if c == '\'' {
        // A quote closed on the same line is a short string; otherwise a lifetime's quote.
        return match quoted_len(rest, b'\'', false) {
            Some(n) => Ok((TokenKind::Literal, pos + n)),
            None => Ok((TokenKind::Punct, pos + 1)),
        };
    }
    for op in OPERATORS.iter() {
        if rest.starts_with(op) {
            return Ok((TokenKind::Punct, pos + op.len()));
        }
    }
    if c.is_ascii() && SINGLE_PUNCT.as_bytes().contains(&bytes[pos]) {
        return Ok((TokenKind::Punct, pos + 1));
    }
    Err(error(pos, &format!("unexpected character {:?}", c)))
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn ident_len(rest: &str) -> usize {
    rest.char_indices()
        .find(|&(_, c)| !(c == '_' || c.is_alphanumeric()))
        .map(|(i, _)| i)
        .unwrap_or(rest.len())
}

/// Digits, letters and `_` (hex digits, suffixes), plus a `.` that is followed by a digit.
fn number_len(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    let mut i = 0;
    let mut seen_dot = false;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_alphanumeric() || b == b'_' {
            i += 1;
        } else if b == b'.' && !seen_dot && bytes.get(i + 1).map_or(false, |d| d.is_ascii_digit()) {
            seen_dot = true;
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// Length of a quoted literal starting at `rest[0]` (the quote), with backslash escapes; `None`
/// when it is not closed (before the end of the line, unless `multiline`).
fn quoted_len(rest: &str, quote: u8, multiline: bool) -> Option<usize> {
    let bytes = rest.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' if !multiline => return None,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn error(offset: usize, message: &str) -> ParseError {
    ParseError { offset, message: message.to_string() }
}

#[cfg(test)]
mod tests {
    use crate::{TokenKind, TokenStream};

    fn kinds_and_texts(src: &str) -> Vec<(TokenKind, String)> {
        TokenStream::parse(src).unwrap().iter().map(|t| (t.kind, t.text.to_string())).collect()
    }

    #[test]
    fn tokenizes_every_class() {
        use TokenKind::*;
        assert_eq!(
            kinds_and_texts("fn f(x: u32) -> felt252 { x += 0x1f; 'abc' \"s\\\"q\" 1.5 a::b }"),
            vec![
                (Ident, "fn".into()), (Ident, "f".into()), (Punct, "(".into()), (Ident, "x".into()),
                (Punct, ":".into()), (Ident, "u32".into()), (Punct, ")".into()), (Punct, "->".into()),
                (Ident, "felt252".into()), (Punct, "{".into()), (Ident, "x".into()), (Punct, "+=".into()),
                (Literal, "0x1f".into()), (Punct, ";".into()), (Literal, "'abc'".into()),
                (Literal, "\"s\\\"q\"".into()), (Literal, "1.5".into()), (Ident, "a".into()),
                (Punct, "::".into()), (Ident, "b".into()), (Punct, "}".into()),
            ]
        );
    }

    #[test]
    fn operators_take_the_longest_match() {
        let texts: Vec<String> = kinds_and_texts("a..=b => c != d <= e >= f && g || h -= i == j .. k")
            .into_iter()
            .filter(|(k, _)| *k == TokenKind::Punct)
            .map(|(_, t)| t)
            .collect();
        assert_eq!(texts, vec!["..=", "=>", "!=", "<=", ">=", "&&", "||", "-=", "==", ".."]);
    }

    #[test]
    fn joint_follows_whitespace_and_display_round_trips() {
        let s = TokenStream::parse("println!(\"enter f\"); x = a.b(1, 2) // done\n/* c */ y").unwrap();
        assert_eq!(s.to_string(), "println!(\"enter f\"); x = a.b(1, 2) y");
        assert!(s.iter().all(|t| t.span.is_none()));
    }

    #[test]
    fn lifetime_quote_is_a_joint_punct() {
        let s = TokenStream::parse("&'a str").unwrap();
        assert_eq!(s.iter().map(|t| t.text).collect::<Vec<_>>(), vec!["&", "'", "a", "str"]);
        assert_eq!(s.to_string(), "&'a str");
    }

    #[test]
    fn reports_errors_with_offsets() {
        assert_eq!(TokenStream::parse("x \"open").unwrap_err().to_string(), "unterminated string literal at byte 2");
        assert_eq!(TokenStream::parse("/* a /* b */").unwrap_err().to_string(), "unterminated block comment at byte 0");
        assert_eq!(TokenStream::parse("a \\ b").unwrap_err().to_string(), "unexpected character '\\\\' at byte 2");
        assert!(TokenStream::parse("").unwrap().is_empty());
    }
}
