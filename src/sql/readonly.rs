//! Whether a statement only reads, so that a replica may answer it.
//!
//! Conservative: a SELECT qualifies when it takes no locks (`FOR UPDATE`, `LOCK IN SHARE
//! MODE`, `FOR SHARE`), stores nothing (`INTO`), and calls only built-in functions without
//! side effects. A function this list does not know may be a stored function that writes, so
//! it keeps the statement on the primary; so do the functions whose answer is the primary
//! connection's own state (locks, `LAST_INSERT_ID()`, sequences, `ROW_COUNT()`).

use sqlparser::ast::{Expr, ObjectNamePart, SetExpr, Statement, visit_expressions};
use std::ops::ControlFlow;

/// Built-in functions a replica answers as the primary would (upper case). Deliberately a list
/// of what is known to be safe rather than of what is not: a name outside it may be a stored
/// function.
const SAFE_FUNCTIONS: &[&str] = &[
    // aggregates and window functions
    "COUNT",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "GROUP_CONCAT",
    "BIT_AND",
    "BIT_OR",
    "BIT_XOR",
    "STD",
    "STDDEV",
    "STDDEV_POP",
    "STDDEV_SAMP",
    "VARIANCE",
    "VAR_POP",
    "VAR_SAMP",
    "JSON_ARRAYAGG",
    "JSON_OBJECTAGG",
    "ROW_NUMBER",
    "RANK",
    "DENSE_RANK",
    "PERCENT_RANK",
    "CUME_DIST",
    "NTILE",
    "LAG",
    "LEAD",
    "FIRST_VALUE",
    "LAST_VALUE",
    "NTH_VALUE",
    "MEDIAN",
    "PERCENTILE_CONT",
    "PERCENTILE_DISC",
    // control flow and comparison
    "IF",
    "IFNULL",
    "NULLIF",
    "COALESCE",
    "GREATEST",
    "LEAST",
    "ISNULL",
    "INTERVAL",
    "NVL",
    "NVL2",
    "DECODE_ORACLE",
    // strings
    "ASCII",
    "BIN",
    "BIT_LENGTH",
    "CHAR",
    "CHAR_LENGTH",
    "CHARACTER_LENGTH",
    "CHR",
    "CONCAT",
    "CONCAT_WS",
    "ELT",
    "EXPORT_SET",
    "FIELD",
    "FIND_IN_SET",
    "FORMAT",
    "FROM_BASE64",
    "HEX",
    "INSERT",
    "INSTR",
    "LCASE",
    "LEFT",
    "LENGTH",
    "LENGTHB",
    "LOCATE",
    "LOWER",
    "LPAD",
    "LTRIM",
    "MAKE_SET",
    "MID",
    "OCT",
    "OCTET_LENGTH",
    "ORD",
    "POSITION",
    "QUOTE",
    "REPEAT",
    "REPLACE",
    "REVERSE",
    "RIGHT",
    "RPAD",
    "RTRIM",
    "SOUNDEX",
    "SPACE",
    "STRCMP",
    "SUBSTR",
    "SUBSTRING",
    "SUBSTRING_INDEX",
    "TO_BASE64",
    "TRIM",
    "UCASE",
    "UNHEX",
    "UPPER",
    "WEIGHT_STRING",
    "REGEXP_REPLACE",
    "REGEXP_INSTR",
    "REGEXP_SUBSTR",
    "COLLATION",
    "CHARSET",
    "COERCIBILITY",
    "CONVERT",
    "CAST",
    "BINARY",
    "SFORMAT",
    "NATURAL_SORT_KEY",
    "TO_CHAR",
    // numbers
    "ABS",
    "ACOS",
    "ASIN",
    "ATAN",
    "ATAN2",
    "CEIL",
    "CEILING",
    "CONV",
    "COS",
    "COT",
    "CRC32",
    "CRC32C",
    "DEGREES",
    "DIV",
    "EXP",
    "FLOOR",
    "LN",
    "LOG",
    "LOG10",
    "LOG2",
    "MOD",
    "PI",
    "POW",
    "POWER",
    "RADIANS",
    "RAND",
    "ROUND",
    "SIGN",
    "SIN",
    "SQRT",
    "TAN",
    "TRUNCATE",
    // dates and times
    "ADDDATE",
    "ADDTIME",
    "CONVERT_TZ",
    "CURDATE",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "CURTIME",
    "DATE",
    "DATEDIFF",
    "DATE_ADD",
    "DATE_FORMAT",
    "DATE_SUB",
    "DAY",
    "DAYNAME",
    "DAYOFMONTH",
    "DAYOFWEEK",
    "DAYOFYEAR",
    "EXTRACT",
    "FROM_DAYS",
    "FROM_UNIXTIME",
    "GET_FORMAT",
    "HOUR",
    "LAST_DAY",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "MAKEDATE",
    "MAKETIME",
    "MICROSECOND",
    "MINUTE",
    "MONTH",
    "MONTHNAME",
    "NOW",
    "PERIOD_ADD",
    "PERIOD_DIFF",
    "QUARTER",
    "SECOND",
    "SEC_TO_TIME",
    "STR_TO_DATE",
    "SUBDATE",
    "SUBTIME",
    "SYSDATE",
    "TIME",
    "TIMEDIFF",
    "TIMESTAMP",
    "TIMESTAMPADD",
    "TIMESTAMPDIFF",
    "TIME_FORMAT",
    "TIME_TO_SEC",
    "TO_DAYS",
    "TO_SECONDS",
    "UNIX_TIMESTAMP",
    "UTC_DATE",
    "UTC_TIME",
    "UTC_TIMESTAMP",
    "WEEK",
    "WEEKDAY",
    "WEEKOFYEAR",
    "YEAR",
    "YEARWEEK",
    // JSON
    "JSON_ARRAY",
    "JSON_ARRAY_APPEND",
    "JSON_ARRAY_INSERT",
    "JSON_COMPACT",
    "JSON_CONTAINS",
    "JSON_CONTAINS_PATH",
    "JSON_DEPTH",
    "JSON_DETAILED",
    "JSON_EQUALS",
    "JSON_EXISTS",
    "JSON_EXTRACT",
    "JSON_INSERT",
    "JSON_KEYS",
    "JSON_LENGTH",
    "JSON_LOOSE",
    "JSON_MERGE",
    "JSON_MERGE_PATCH",
    "JSON_MERGE_PRESERVE",
    "JSON_NORMALIZE",
    "JSON_OBJECT",
    "JSON_OVERLAPS",
    "JSON_QUERY",
    "JSON_QUOTE",
    "JSON_REMOVE",
    "JSON_REPLACE",
    "JSON_SEARCH",
    "JSON_SET",
    "JSON_TABLE",
    "JSON_TYPE",
    "JSON_UNQUOTE",
    "JSON_VALID",
    "JSON_VALUE",
    "JSON_PRETTY",
    // hashing and encoding
    "MD5",
    "SHA",
    "SHA1",
    "SHA2",
    "COMPRESS",
    "UNCOMPRESS",
    "UNCOMPRESSED_LENGTH",
    "INET_ATON",
    "INET_NTOA",
    "INET6_ATON",
    "INET6_NTOA",
    "IS_IPV4",
    "IS_IPV6",
    "UUID",
    "UUID_SHORT",
    "SYS_GUID",
    "BIT_COUNT",
    // what the proxy answers or substitutes itself, or that is the same on every server
    "DATABASE",
    "SCHEMA",
    "USER",
    "CURRENT_USER",
    "SESSION_USER",
    "SYSTEM_USER",
    "VERSION",
    "CONNECTION_ID",
    "CURRENT_ROLE",
    "BENCHMARK",
    "SLEEP",
    "DEFAULT",
    "VALUES",
    "VALUE",
];

/// Whether `stmt` only reads and a replica may answer it (see the module comment).
pub fn replica_safe(stmt: &Statement) -> bool {
    let Statement::Query(q) = stmt else {
        return false;
    };
    if !q.locks.is_empty() || q.for_clause.is_some() {
        return false;
    }
    if let SetExpr::Select(s) = q.body.as_ref()
        && s.into.is_some()
    {
        return false;
    }
    let mut safe = true;
    let _ = visit_expressions(stmt, |e| {
        if let Expr::Function(f) = e {
            let known = match f.name.0.as_slice() {
                [ObjectNamePart::Identifier(id)] => {
                    let upper = id.value.to_ascii_uppercase();
                    SAFE_FUNCTIONS.contains(&upper.as_str())
                }
                _ => false,
            };
            if !known {
                safe = false;
                return ControlFlow::Break(());
            }
        }
        if matches!(e, Expr::Subquery(q) | Expr::Exists { subquery: q, .. } | Expr::InSubquery { subquery: q, .. } if !q.locks.is_empty())
        {
            safe = false;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    safe
}

#[cfg(test)]
mod tests {
    use super::replica_safe;
    use crate::sql::analyze::parse;

    fn safe(sql: &str) -> bool {
        let stmts = parse(sql).expect("parses");
        replica_safe(&stmts[0])
    }

    #[test]
    fn plain_reads_are_safe() {
        assert!(safe("SELECT * FROM t WHERE id = 1"));
        assert!(safe(
            "SELECT COUNT(*), MAX(a) FROM t GROUP BY b HAVING SUM(c) > 1"
        ));
        assert!(safe(
            "SELECT CONCAT(a, UPPER(b)), NOW() FROM t ORDER BY 1 LIMIT 3"
        ));
        assert!(safe("SELECT a FROM t WHERE b IN (SELECT b FROM u)"));
        assert!(safe("SELECT 1"));
    }

    #[test]
    fn locks_writes_and_unknown_functions_are_not() {
        assert!(!safe("SELECT * FROM t WHERE id = 1 FOR UPDATE"));
        assert!(!safe("SELECT GET_LOCK('x', 1)"));
        assert!(!safe("SELECT LAST_INSERT_ID()"));
        assert!(!safe("SELECT NEXTVAL(s)"));
        assert!(!safe("SELECT my_func(a) FROM t"));
        assert!(!safe("SELECT db.f(a) FROM t"));
        assert!(!safe("UPDATE t SET a = 1"));
        assert!(!safe("INSERT INTO t VALUES (1)"));
        assert!(!safe(
            "SELECT a FROM t WHERE b IN (SELECT b FROM u FOR UPDATE)"
        ));
    }
}
