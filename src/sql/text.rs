//! Statement text as the proxy holds it. A client sends bytes in its connection's character set
//! (latin1, utf8mb4, raw `_binary'...'` data interpolated by a driver), not UTF-8, while the
//! lexer, the plan cache and sqlparser work on `str`. [`decode`] maps the bytes to a `String`
//! losslessly and [`encode`] gives them back exactly:
//!
//! - valid UTF-8 stays as it is (the common case costs one validation and no copy);
//! - every byte of an invalid sequence becomes one private-use character, U+F700 + byte
//!   (U+F780..U+F7FF, as bytes are >= 0x80 there);
//! - a character of that same range that the client really sent is itself written byte by byte,
//!   so that the mapping stays one-to-one.
//!
//! Quotes, backslashes and every other ASCII byte are unchanged, so lexing and parsing the mapped
//! text finds the same tokens as the server does in any ASCII-compatible character set. Values
//! taken out of the text (string literals for routing) are turned back into bytes with
//! [`encode`] / [`unescape`]; text sent to a backend always goes through [`encode`].
//!
//! (Python's `surrogateescape` does the same with lone surrogates, which a Rust `str` cannot
//! hold; no crate offers this mapping over `str`.)

use std::borrow::Cow;

const BASE: u32 = 0xF700;
const FIRST: char = '\u{F780}';
const LAST: char = '\u{F7FF}';

/// Whether UTF-8 bytes may hold a character of the escape range (EF 9E xx / EF 9F xx).
pub(crate) fn may_hold_escapes(b: &[u8]) -> bool {
    b.windows(2)
        .any(|w| w[0] == 0xEF && (w[1] == 0x9E || w[1] == 0x9F))
}

fn push_byte(out: &mut String, b: u8) {
    // `b` >= 0x80 here, so the character is in U+F780..U+F7FF, which are valid scalar values.
    out.push(char::from_u32(BASE + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER));
}

/// The client's bytes as a string, losslessly (see the module documentation).
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes)
        && !may_hold_escapes(bytes)
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if (FIRST..=LAST).contains(&c) {
                let mut buf = [0u8; 4];
                for &b in c.encode_utf8(&mut buf).as_bytes() {
                    push_byte(&mut out, b);
                }
            } else {
                out.push(c);
            }
        }
        for &b in chunk.invalid() {
            push_byte(&mut out, b);
        }
    }
    Cow::Owned(out)
}

/// The bytes a string made by [`decode`] stands for.
pub fn encode(s: &str) -> Cow<'_, [u8]> {
    if !may_hold_escapes(s.as_bytes()) {
        return Cow::Borrowed(s.as_bytes());
    }
    let mut out = Vec::with_capacity(s.len());
    let mut buf = [0u8; 4];
    for c in s.chars() {
        if (FIRST..=LAST).contains(&c) {
            out.push((u32::from(c) - BASE) as u8);
        } else {
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    Cow::Owned(out)
}

/// Whether the text stands for bytes that are valid UTF-8 (so it can go where only UTF-8 text is
/// accepted, such as a backend PREPARE through mysql_async).
pub fn is_utf8(s: &str) -> bool {
    !s.chars().any(|c| (FIRST..=LAST).contains(&c))
}

/// The bytes of a MySQL string literal's body (between its quotes, as written, in the mapped
/// form), with MySQL's escapes applied: `\0 \' \" \b \n \r \t \Z \\`, a doubled quote for one,
/// `\%` and `\_` kept with their backslash (for LIKE), and a backslash before any other
/// character dropped. sqlparser's own unescaping differs (`\a`, `\f`, `\x41`), which is why the
/// parser runs with unescaping off and literals are read here.
pub fn unescape(body: &str, quote: char) -> Vec<u8> {
    let mut out = String::with_capacity(body.len());
    let mut it = body.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('0') => out.push('\0'),
                Some('b') => out.push('\u{8}'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('Z') => out.push('\u{1a}'),
                Some(c @ ('%' | '_')) => {
                    out.push('\\');
                    out.push(c);
                }
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else if c == quote && it.peek() == Some(&quote) {
            it.next();
            out.push(quote);
        } else {
            out.push(c);
        }
    }
    encode(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn utf8_is_borrowed() {
        assert!(matches!(decode(b"SELECT '\xc3\xa9'"), Cow::Borrowed(_)));
        assert!(matches!(encode("SELECT 'é'"), Cow::Borrowed(_)));
    }

    #[test]
    fn invalid_bytes_round_trip() {
        let raw = b"INSERT INTO t VALUES (1, _binary'\0\xff\x80')";
        let s = decode(raw);
        assert!(s.starts_with("INSERT INTO t VALUES (1, _binary'\0"));
        assert!(!is_utf8(&s));
        assert_eq!(&*encode(&s), raw);
    }

    #[test]
    fn escape_range_sent_by_the_client_round_trips() {
        let raw = "a\u{F780}b\u{F7FF}".as_bytes();
        let s = decode(raw);
        assert_eq!(&*encode(&s), raw);
        assert_eq!(s.chars().count(), 2 + 6);
    }

    #[test]
    fn mysql_escapes() {
        assert_eq!(unescape(r"a\'b''c\\d\%e\x\0\f", '\''), b"a'b'c\\d\\%ex\0f");
        assert_eq!(unescape(r#"q""x\"y"#, '"'), b"q\"x\"y");
        let s = decode(b"\xe9\\n");
        assert_eq!(unescape(&s, '\''), b"\xe9\n");
    }

    proptest! {
        #[test]
        fn any_bytes_round_trip(raw in proptest::collection::vec(any::<u8>(), 0..64)) {
            let s = decode(&raw);
            prop_assert_eq!(&*encode(&s), &raw[..]);
            // ASCII bytes keep their place, so the lexer sees the same quotes and separators.
            let ascii: Vec<u8> = raw.iter().copied().filter(u8::is_ascii).collect();
            let back: Vec<u8> = s.bytes().filter(u8::is_ascii).collect();
            prop_assert_eq!(ascii, back);
        }
    }
}
