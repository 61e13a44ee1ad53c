//! A small JSON checker that splits an array into the text of its elements, for post-processing
//! (the crate has no dependencies, so no serde). Elements are returned as slices, not parsed.

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 256;

/// Splits the JSON array `text` into the JSON text of each element, checking that the whole text
/// is valid JSON. `[{"a":1}, 2]` gives `["{\"a\":1}", "2"]`.
pub fn split_json_array(text: &str) -> Result<Vec<&str>, String> {
    let mut p = Parser { bytes: text.as_bytes(), pos: 0 };
    p.skip_ws();
    if p.peek() != Some(b'[') {
        return Err(p.error("expected `[`"));
    }
    p.pos += 1;
    let mut elements = Vec::new();
    p.skip_ws();
    if p.peek() == Some(b']') {
        p.pos += 1;
    } else {
        loop {
            p.skip_ws();
            let start = p.pos;
            p.value(1)?;
            elements.push(&text[start..p.pos]);
            p.skip_ws();
            match p.peek() {
                Some(b',') => p.pos += 1,
                Some(b']') => {
                    p.pos += 1;
                    break;
                }
                _ => return Err(p.error("expected `,` or `]`")),
            }
        }
    }
    p.skip_ws();
    if p.pos != text.len() {
        return Err(p.error("unexpected text after the array"));
    }
    Ok(elements)
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn error(&self, what: &str) -> String {
        match self.peek() {
            Some(_) => format!("{} at byte {}", what, self.pos),
            None => format!("{} at the end of the text", what),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.skip_ws();
        match self.peek() {
            Some(b'{') => self.container(depth, b'}', true),
            Some(b'[') => self.container(depth, b']', false),
            Some(b'"') => self.string(),
            Some(b't') => self.word("true"),
            Some(b'f') => self.word("false"),
            Some(b'n') => self.word("null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.error("expected a JSON value")),
        }
    }

    fn container(&mut self, depth: usize, close: u8, is_object: bool) -> Result<(), String> {
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            if is_object {
                if self.peek() != Some(b'"') {
                    return Err(self.error("expected a string key"));
                }
                self.string()?;
                self.skip_ws();
                if self.peek() != Some(b':') {
                    return Err(self.error("expected `:`"));
                }
                self.pos += 1;
            }
            self.value(depth + 1)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.error(if is_object { "expected `,` or `}`" } else { "expected `,` or `]`" })),
            }
        }
    }

    fn string(&mut self) -> Result<(), String> {
        let start = self.pos;
        self.pos += 1;
        while let Some(b) = self.peek() {
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(());
                }
                b'\\' => self.pos += 2,
                0..=0x1f => return Err(self.error("control character in a string")),
                _ => self.pos += 1,
            }
        }
        Err(format!("unterminated string starting at byte {}", start))
    }

    fn word(&mut self, word: &str) -> Result<(), String> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.error("expected a JSON value"))
        }
    }

    fn number(&mut self) -> Result<(), String> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits_start = self.pos;
        while let Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') = self.peek() {
            self.pos += 1;
        }
        if self.pos == digits_start {
            self.pos = start;
            return Err(self.error("expected a JSON value"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::split_json_array;

    #[test]
    fn splits_top_level_elements() {
        assert_eq!(
            split_json_array(r#" [ {"a":[1,2],"b":"x,]"} , 2, "s\"", null ,[] ] "#).unwrap(),
            vec![r#"{"a":[1,2],"b":"x,]"}"#, "2", r#""s\"""#, "null", "[]"]
        );
        assert_eq!(split_json_array("[]").unwrap(), Vec::<&str>::new());
    }

    #[test]
    fn reports_what_is_wrong() {
        assert_eq!(split_json_array("{}").unwrap_err(), "expected `[` at byte 0");
        assert_eq!(split_json_array("[1,").unwrap_err(), "expected a JSON value at the end of the text");
        assert_eq!(split_json_array("[1 2]").unwrap_err(), "expected `,` or `]` at byte 3");
        assert_eq!(split_json_array("[\"ab").unwrap_err(), "unterminated string starting at byte 1");
        assert_eq!(split_json_array("[1] x").unwrap_err(), "unexpected text after the array at byte 4");
        assert_eq!(split_json_array(&"[".repeat(300)).unwrap_err(), "nested too deeply at byte 257");
    }
}
