//! The scanner under statement splitting: words and punctuation with their byte offsets,
//! skipping whitespace, quoted text and comments the way the MariaDB server's lexer does.

/// The word a token is, if it is one.
pub(super) fn word_at(b: &[u8], pos: usize, t: Tok) -> Option<&[u8]> {
    match t {
        Tok::Word(end) => b.get(pos..end),
        _ => None,
    }
}

/// A token: a word (ending at the byte offset given), or one byte of punctuation. Quoted text
/// and comments are skipped; the content of `/*! ... */` and `/*M! ... */` counts, as the
/// server runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tok {
    Word(usize),
    Sym(u8),
    /// A quoted string or identifier.
    Quoted,
}

/// Tokens of a text with their start offsets.
pub(super) struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    /// Inside an executable comment, whose `*/` is skipped.
    exec: bool,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(b: &'a [u8]) -> Self {
        Scanner {
            b,
            i: 0,
            exec: false,
        }
    }

    fn skip_to_line_end(&mut self) {
        while self.i < self.b.len() && self.b[self.i] != b'\n' {
            self.i += 1;
        }
    }
}

impl Iterator for Scanner<'_> {
    type Item = (usize, Tok);

    fn next(&mut self) -> Option<(usize, Tok)> {
        let b = self.b;
        while self.i < b.len() {
            let start = self.i;
            let c = b[start];
            let next = b.get(start + 1).copied();
            match c {
                c if c.is_ascii_whitespace() || c == 0x0b => self.i += 1,
                b'#' => self.skip_to_line_end(),
                // `--` starts a comment only when followed by a space or control character.
                b'-' if next == Some(b'-') && b.get(start + 2).is_none_or(|&c| c <= b' ') => {
                    self.skip_to_line_end()
                }
                b'/' if next == Some(b'*') => {
                    let rest = &b[start + 2..];
                    let exec = if rest.starts_with(b"!") {
                        Some(1)
                    } else if rest.starts_with(b"M!") {
                        Some(2)
                    } else {
                        None
                    };
                    if let Some(n) = exec.filter(|_| !self.exec) {
                        self.exec = true;
                        self.i = start + 2 + n;
                        while self.i < b.len() && b[self.i].is_ascii_digit() {
                            self.i += 1; // the version: /*!50003 ... */
                        }
                    } else {
                        self.i = start + 2;
                        while self.i < b.len() && !b[self.i..].starts_with(b"*/") {
                            self.i += 1;
                        }
                        self.i = (self.i + 2).min(b.len());
                    }
                }
                b'*' if next == Some(b'/') && self.exec => {
                    self.exec = false;
                    self.i += 2;
                }
                b'\'' | b'"' | b'`' => {
                    self.i += 1;
                    while self.i < b.len() {
                        let d = b[self.i];
                        if d == b'\\' && c != b'`' {
                            self.i += 2;
                        } else if d == c && b.get(self.i + 1) == Some(&c) {
                            self.i += 2; // a doubled quote stands for itself
                        } else if d == c {
                            self.i += 1;
                            break;
                        } else {
                            self.i += 1;
                        }
                    }
                    self.i = self.i.min(b.len());
                    return Some((start, Tok::Quoted));
                }
                c if is_word_byte(c) => {
                    while self.i < b.len() && is_word_byte(b[self.i]) {
                        self.i += 1;
                    }
                    return Some((start, Tok::Word(self.i)));
                }
                c => {
                    self.i += 1;
                    return Some((start, Tok::Sym(c)));
                }
            }
        }
        None
    }
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}
