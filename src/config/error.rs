//! Configuration errors and the collector that gives each one its place in the file.

use std::fmt;
use std::ops::Range;

/// One problem in a rules file, with the place it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the problem is, e.g. `rules.toml:57: schemas[0].tables[2].ranges[1]`
    /// (`file:line: path`; the line is left out when it is not known).
    pub location: String,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Every problem found in a rules file (never empty when returned as an error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    /// One problem per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Collects errors while a file is validated; turns byte spans into line numbers.
pub struct Diag<'a> {
    origin: &'a str,
    text: &'a str,
    /// (byte offset for sorting, error); errors without a span sort last.
    errors: Vec<(usize, ConfigError)>,
}

impl<'a> Diag<'a> {
    /// A collector for the file `origin` whose content is `text`.
    pub fn new(origin: &'a str, text: &'a str) -> Self {
        Diag {
            origin,
            text,
            errors: Vec::new(),
        }
    }

    /// 1-based line of a byte offset.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    /// Records a problem at `path`, on the line of `span` when there is one.
    pub fn err(&mut self, span: Option<Range<usize>>, path: &str, message: impl Into<String>) {
        let (offset, location) = match span {
            Some(s) => {
                let line = self.line_of(s.start);
                let loc = if path.is_empty() {
                    format!("{}:{line}", self.origin)
                } else {
                    format!("{}:{line}: {path}", self.origin)
                };
                (s.start, loc)
            }
            None if path.is_empty() => (usize::MAX, self.origin.to_string()),
            None => (usize::MAX, format!("{}: {path}", self.origin)),
        };
        let message = message.into();
        self.errors
            .push((offset, ConfigError { location, message }));
    }

    /// True when no problem has been recorded.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The problems found, in file order.
    pub fn finish(mut self) -> ConfigErrors {
        self.errors.sort_by_key(|(offset, _)| *offset);
        ConfigErrors(self.errors.into_iter().map(|(_, e)| e).collect())
    }
}
