//! Errors of every layer, composed into [`ProxyError`], and their mapping to what a MySQL client
//! sees: an error code, a SQLSTATE and a message that names the problem without leaking internals.

use crate::route::RouteError;

/// Any error that ends one client statement. Each variant decides its own MySQL code and state in
/// [`ProxyError::code`] and [`ProxyError::sqlstate`], in this one place.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The SQL text does not parse (1064).
    #[error("You have an error in your SQL syntax: {0}")]
    Syntax(String),
    /// A query with no statement in it, only whitespace and `;` (1065 ER_EMPTY_QUERY).
    #[error("Query was empty")]
    EmptyQuery,
    /// A table that is neither in the rules nor on the default shard (1146).
    #[error("Table '{schema}.{table}' doesn't exist")]
    UnknownTable { schema: String, table: String },
    /// A statement the proxy cannot run correctly across shards (1235).
    #[error("This version of shardgate doesn't yet support '{0}'")]
    NotSupported(String),
    /// A statement needs a current schema and none is selected (1046).
    #[error("No database selected")]
    NoDatabase,
    /// A schema that is not in the rules (1049).
    #[error("Unknown database '{0}'")]
    UnknownDatabase(String),
    /// Wrong user or password (1045).
    #[error("Access denied for user '{0}' (using password: {1})")]
    AccessDenied(String, &'static str),
    /// The user may not read or change this table (1142 ER_TABLEACCESS_DENIED_ERROR): a table
    /// of a backend's own schemas, or of a logical schema the user may not use.
    #[error("{command} command denied to user '{user}'@'{host}' for table `{schema}`.`{table}`")]
    TableDenied {
        command: String,
        user: String,
        host: String,
        schema: String,
        table: String,
    },
    /// The user may not use this schema (1044).
    #[error("Access denied for user '{user}' to database '{schema}'")]
    SchemaDenied { user: String, schema: String },
    /// A command byte the proxy does not implement (1047).
    #[error("Unknown command {0:#04x}")]
    UnknownCommand(u8),
    /// A prepared statement id the client never prepared or already closed (1243).
    #[error("Unknown prepared statement handler ({0}) given to {1}")]
    UnknownStatement(u32, &'static str),
    /// A client packet over the proxy's limit (1153 ER_NET_PACKET_TOO_LARGE).
    #[error("Got a packet bigger than the proxy's limit of 64 MiB")]
    PacketTooLarge,
    /// A malformed packet from the client (1835 ER_MALFORMED_PACKET).
    #[error("Malformed packet: {0}")]
    Malformed(String),
    /// Placement of a key failed (no range/list entry, or a value of the wrong type).
    #[error(transparent)]
    Route(#[from] RouteError),
    /// A backend answered with an error: passed through with its own code and state.
    #[error("{message}")]
    Backend {
        code: u16,
        state: String,
        message: String,
    },
    /// A backend could not be reached, died or did not answer in time (2013-style).
    #[error("Lost connection to shard {shard}: {detail}")]
    BackendLost { shard: String, detail: String },
    /// A statement was refused because the session's transaction failed part-way (1180-style).
    #[error("{0}")]
    Transaction(String),
    /// The user lacks a privilege the statement needs (1227): administering a server is not
    /// the application's business behind a proxy.
    #[error(
        "Access denied; you need (at least one of) the {0} privilege(s) for this operation \
         (through shardgate, statements that administer a server are for users with \
         `admin = true` in the rules)"
    )]
    Privilege(String),
    /// A buffered cross-shard result outgrew the memory the proxy may hold for its merge
    /// (1038 ER_OUT_OF_SORTMEMORY): the rows were dropped and the backends' results drained.
    #[error(
        "shardgate: this cross-shard result needs more than {limit_mb} MB of proxy memory to \
         merge (merge_memory_limit_mb in the rules file); add a LIMIT, narrow the WHERE to \
         fewer shards, or raise the limit"
    )]
    MergeMemory { limit_mb: u64 },
    /// An error MySQL itself gives in this situation, raised by the proxy answering for the
    /// session (prepared statement names, user variables): its own code, state and message.
    #[error("{message}")]
    Sql {
        code: u16,
        state: &'static str,
        message: String,
    },
}

impl ProxyError {
    /// MySQL's answer to a statement interrupted by `KILL QUERY` (1317).
    pub fn interrupted() -> ProxyError {
        ProxyError::Sql {
            code: 1317,
            state: "70100",
            message: "Query execution was interrupted".into(),
        }
    }

    /// The MySQL error number the client receives.
    pub fn code(&self) -> u16 {
        match self {
            ProxyError::Syntax(_) => 1064,
            ProxyError::EmptyQuery => 1065,
            ProxyError::UnknownTable { .. } => 1146,
            ProxyError::NotSupported(_) => 1235,
            ProxyError::NoDatabase => 1046,
            ProxyError::UnknownDatabase(_) => 1049,
            ProxyError::AccessDenied(..) => 1045,
            ProxyError::SchemaDenied { .. } => 1044,
            ProxyError::TableDenied { .. } => 1142,
            ProxyError::UnknownCommand(_) => 1047,
            ProxyError::UnknownStatement(..) => 1243,
            ProxyError::Malformed(_) => 1835,
            ProxyError::PacketTooLarge => 1153,
            ProxyError::Route(RouteError::NoShardForKey { .. }) => 1526,
            ProxyError::Route(_) => 1525,
            ProxyError::Backend { code, .. } => *code,
            ProxyError::BackendLost { .. } => 2013,
            ProxyError::Transaction(_) => 1180,
            ProxyError::Privilege(_) => 1227,
            ProxyError::MergeMemory { .. } => 1038,
            ProxyError::Sql { code, .. } => *code,
        }
    }

    /// A copy of this error as a client sees it (code, state, message), for a second reader
    /// of the same failure.
    pub fn same(&self) -> ProxyError {
        ProxyError::Backend {
            code: self.code(),
            state: self.sqlstate().to_string(),
            message: self.to_string(),
        }
    }

    /// The SQLSTATE the client receives.
    pub fn sqlstate(&self) -> &str {
        match self {
            ProxyError::Syntax(_) | ProxyError::EmptyQuery | ProxyError::NotSupported(_) => "42000",
            ProxyError::UnknownTable { .. } => "42S02",
            ProxyError::NoDatabase => "3D000",
            ProxyError::UnknownDatabase(_)
            | ProxyError::SchemaDenied { .. }
            | ProxyError::TableDenied { .. } => "42000",
            ProxyError::AccessDenied(..) => "28000",
            ProxyError::UnknownCommand(_) | ProxyError::PacketTooLarge => "08S01",
            ProxyError::Backend { state, .. } => state,
            ProxyError::Privilege(_) => "42000",
            ProxyError::MergeMemory { .. } => "HY001",
            ProxyError::Sql { state, .. } => state,
            _ => "HY000",
        }
    }

    /// Whether the error came from losing a backend, so the connection it ran on must be dropped.
    pub fn is_connection_loss(&self) -> bool {
        matches!(self, ProxyError::BackendLost { .. })
    }
}

/// Result of a statement-level operation.
pub type Result<T, E = ProxyError> = std::result::Result<T, E>;
