//! The analyze stage: SQL text → a small typed description of what a statement does.
//!
//! - [`split`]: a COM_QUERY text → its statements, where the server splits them (compound
//!   statement bodies kept whole);
//! - [`lexer`]: a light tokenizer (words, strings, symbols with their byte ranges);
//! - [`command`]: the statements recognised without the parser (transaction control, SET,
//!   PREPARE/EXECUTE, USE, SHOW, stored programs), which sqlparser refuses or which need no AST;
//! - [`session`]: references to session state inside statements (`VERSION()`, `@v`, ...);
//! - [`analyze`]: sqlparser's MySQL dialect → [`analyze::Analysis`] (kind, tables, placeholders,
//!   the shape a scatter merge needs), cached per statement text in [`cache`];
//! - [`info_schema`]: how each view of information_schema is answered, and the schemas a
//!   statement on them is restricted to;
//! - [`keycond`]: the shard-key predicates of a WHERE clause for a given key column;
//! - [`scopes`]: the table instances of a statement and the joins on their shard keys;
//! - [`privilege`]: administrative statements, file access and schema references, from the
//!   tokens (executable comments included), for the proxy's privilege boundary;
//! - [`text`]: the client's bytes as a lossless `str` and back (statement text is not UTF-8).

pub mod analyze;
pub mod cache;
pub mod command;
pub mod info_schema;
pub mod keycond;
pub mod lexer;
pub mod normalize;
pub mod privilege;
pub mod readonly;
pub mod scopes;
pub mod session;
pub mod split;
pub mod text;

use mysql_async::Value;

/// A value in a statement: a literal, a `?` placeholder bound at execute time, or something the
/// proxy does not evaluate (a function call, a column).
#[derive(Clone, Debug, PartialEq)]
pub enum ValueRef {
    /// A literal written in the SQL text.
    Lit(Value),
    /// The n-th (0-based) `?` placeholder.
    Param(usize),
    /// Any other expression.
    Expr,
}

impl ValueRef {
    /// The value once parameters are bound; `None` for expressions the proxy cannot evaluate.
    pub fn bind<'a>(&'a self, params: &'a [Value]) -> Option<&'a Value> {
        match self {
            ValueRef::Lit(v) => Some(v),
            ValueRef::Param(i) => params.get(*i),
            ValueRef::Expr => None,
        }
    }
}
