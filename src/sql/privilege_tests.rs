//! Recognition of administrative statements, file access and schema references, checked on
//! the forms MySQL accepts (and the tricks that hide them from a parser).

use super::*;

fn privileged(sql: &str) -> &'static str {
    match classify(sql) {
        Some(Admin::Privileged { privilege }) => privilege,
        other => panic!("{sql}: {other:?}"),
    }
}

#[test]
fn administrative_statements_by_leading_words() {
    for (sql, want) in [
        ("CREATE USER x IDENTIFIED BY 'y'", "CREATE USER"),
        ("create or replace user x", "CREATE USER"),
        ("DROP USER IF EXISTS x", "CREATE USER"),
        ("ALTER USER x ACCOUNT LOCK", "CREATE USER"),
        ("RENAME USER a TO b", "CREATE USER"),
        ("CREATE ROLE r", "CREATE USER"),
        ("GRANT ALL ON *.* TO x", "GRANT OPTION"),
        ("REVOKE SELECT ON t FROM x", "GRANT OPTION"),
        (
            "INSTALL SONAME 'ha_connect'",
            "INSERT, DELETE on mysql.plugin",
        ),
        ("UNINSTALL PLUGIN x", "INSERT, DELETE on mysql.plugin"),
        ("LOAD DATA INFILE '/etc/passwd' INTO TABLE t", "FILE"),
        ("CHANGE MASTER TO MASTER_HOST='x'", "SUPER"),
        ("START SLAVE", "SUPER"),
        ("stop replica", "SUPER"),
        ("START ALL SLAVES", "SUPER"),
        ("RESET MASTER", "RELOAD"),
        ("PURGE BINARY LOGS BEFORE NOW()", "SUPER"),
        ("FLUSH TABLES", "RELOAD"),
        ("FLUSH PRIVILEGES", "RELOAD"),
        ("BINLOG 'abc'", "SUPER"),
        ("SHOW MASTER STATUS", "REPLICATION CLIENT"),
        ("SHOW SLAVE STATUS", "REPLICATION CLIENT"),
        ("SHOW ALL SLAVES STATUS", "REPLICATION CLIENT"),
        ("SHOW BINARY LOGS", "REPLICATION CLIENT"),
        ("SHOW BINLOG EVENTS", "REPLICATION CLIENT"),
        ("SHOW ENGINE INNODB STATUS", "PROCESS"),
        ("SHOW EXPLAIN FOR 5", "PROCESS"),
        ("SHOW CREATE USER app", "CREATE USER"),
        (
            "CREATE FUNCTION f RETURNS STRING SONAME 'x.so'",
            "INSERT, DELETE on mysql.func",
        ),
        ("/*!GRANT ALL ON *.* TO x*/", "GRANT OPTION"),
        ("/*M!100000 CREATE USER x */", "CREATE USER"),
    ] {
        assert_eq!(privileged(sql), want, "{sql}");
    }
    assert!(matches!(
        classify("LOAD DATA LOCAL INFILE 'x' INTO TABLE t"),
        Some(Admin::Never {
            privilege: "FILE",
            ..
        })
    ));
    assert!(matches!(classify("SHUTDOWN"), Some(Admin::Never { .. })));
    assert!(matches!(
        classify("SET PASSWORD = PASSWORD('x')"),
        Some(Admin::Never { .. })
    ));
    assert!(matches!(classify("SET ROLE r"), Some(Admin::Never { .. })));
    assert!(matches!(
        classify("SET DEFAULT ROLE r FOR x"),
        Some(Admin::Never { .. })
    ));
    assert_eq!(classify("SET GLOBAL x = 1"), Some(Admin::SetGlobal));
    assert_eq!(
        classify("SET sort_buffer_size = 1, @@global.max_connections = 5"),
        Some(Admin::SetGlobal)
    );
    for sql in [
        "SELECT 1",
        "START TRANSACTION",
        "SET autocommit = 0",
        "SET @a = 1",
        "CREATE TABLE t (id INT)",
        "CREATE FUNCTION f() RETURNS INT RETURN 1",
        "DROP TABLE users",
        "SHOW TABLES",
        "SHOW ENGINES",
        "SHOW VARIABLES LIKE 'x'",
        "LOAD INDEX INTO CACHE t",
        "EXPLAIN SELECT 1",
        "ALTER TABLE user ADD c INT",
    ] {
        assert_eq!(classify(sql), None, "{sql}");
    }
}

#[test]
fn kill_processlist_grants() {
    let kill = |sql| classify(sql).expect(sql);
    assert_eq!(
        kill("KILL 7"),
        Admin::Kill {
            query: false,
            target: KillTarget::Id(7)
        }
    );
    assert_eq!(
        kill("kill hard query 7"),
        Admin::Kill {
            query: true,
            target: KillTarget::Id(7)
        }
    );
    assert_eq!(
        kill("KILL CONNECTION CONNECTION_ID()"),
        Admin::Kill {
            query: false,
            target: KillTarget::Current
        }
    );
    assert_eq!(
        kill("KILL USER 'app'"),
        Admin::Kill {
            query: false,
            target: KillTarget::User("app".into())
        }
    );
    assert_eq!(
        kill("KILL ?"),
        Admin::Kill {
            query: false,
            target: KillTarget::Param
        }
    );
    assert!(matches!(
        kill("KILL QUERY ID 5"),
        Admin::Kill {
            target: KillTarget::Other(_),
            ..
        }
    ));
    assert_eq!(
        kill("SHOW FULL PROCESSLIST"),
        Admin::ShowProcesslist { full: true }
    );
    assert_eq!(
        kill("show processlist"),
        Admin::ShowProcesslist { full: false }
    );
    assert_eq!(kill("SHOW GRANTS"), Admin::ShowGrants { user: None });
    assert_eq!(
        kill("SHOW GRANTS FOR CURRENT_USER()"),
        Admin::ShowGrants { user: None }
    );
    assert_eq!(
        kill("SHOW GRANTS FOR 'Other'@'%'"),
        Admin::ShowGrants {
            user: Some("Other".into())
        }
    );
}

#[test]
fn scan_finds_files_and_schemas_even_in_executable_comments() {
    let sys = |s: &str| system_schema(s).is_some();
    let s = scan("SELECT * FROM t INTO OUTFILE '/tmp/x'", sys);
    assert_eq!(s.file, Some("SELECT ... INTO OUTFILE"));
    let s = scan("SELECT 1 /*!, LOAD_FILE('/etc/passwd') */", sys);
    assert_eq!(s.file, Some("LOAD_FILE()"));
    let s = scan("SELECT load_file FROM t", sys);
    assert_eq!(s.file, None);
    let s = scan(
        "SELECT a.x FROM shop.t a /*M!, `mysql`.user */ JOIN db.t.c",
        sys,
    );
    assert_eq!(
        s.refs,
        vec![SchemaRef {
            schema: "mysql".into(),
            table: Some("user".into())
        }]
    );
    let s = scan("SELECT * FROM Information_Schema.TABLES", sys);
    assert_eq!(s.refs[0].schema, "information_schema");
    let s = scan("SHOW TABLES FROM mysql", sys);
    assert_eq!(
        s.refs,
        vec![SchemaRef {
            schema: "mysql".into(),
            table: None
        }]
    );
    let s = scan("DROP DATABASE IF EXISTS sys", sys);
    assert_eq!(s.refs[0].schema, "sys");
    let s = scan("USE performance_schema", sys);
    assert_eq!(s.refs[0].schema, "performance_schema");
    let s = scan("SELECT 'mysql.user', \"x\" FROM t", sys);
    assert_eq!(s, Scan::default());
    let s = scan("GRANT SELECT ON mysql.* TO x", sys);
    assert_eq!(s.refs[0].table.as_deref(), Some("*"));
    let other = |s: &str| s == "other";
    let s = scan("SELECT * FROM other.t JOIN shop.u", other);
    assert_eq!(s.refs.len(), 1);
}

#[test]
fn show_shards_statement() {
    assert_eq!(classify("SHOW SHARDS"), Some(Admin::ShowShards));
    assert_eq!(classify("show shards;"), Some(Admin::ShowShards));
    assert_eq!(classify("SHOW SHARDS LIKE 'x'"), None);
    assert_eq!(classify("SHOW FULL SHARDS"), None);
}

#[test]
fn operator_statements() {
    assert_eq!(classify("SHOW RULES"), Some(Admin::ShowRules));
    assert_eq!(classify("show sessions;"), Some(Admin::ShowSessions));
    assert_eq!(classify("SHOW STATS"), Some(Admin::ShowStats));
    assert_eq!(
        classify("RELOAD RULES"),
        Some(Admin::ReloadRules { force: false })
    );
    assert_eq!(
        classify("reload rules force;"),
        Some(Admin::ReloadRules { force: true })
    );
    assert_eq!(classify("RELOAD RULES NOW"), None);
    assert_eq!(classify("SHOW RULES FOR x"), None);
}

#[test]
fn explain_shards_statements() {
    assert_eq!(
        classify("EXPLAIN SHARDS SELECT a FROM `T` WHERE x = 'Ab'"),
        Some(Admin::ExplainShards(
            "SELECT a FROM `T` WHERE x = 'Ab'".into()
        ))
    );
    assert_eq!(
        classify("explain  shards\n  DELETE FROM t ;"),
        Some(Admin::ExplainShards("DELETE FROM t ;".into()))
    );
    assert_eq!(
        classify("EXPLAIN SHARDS"),
        Some(Admin::ExplainShards(String::new()))
    );
    assert_eq!(classify("EXPLAIN SELECT 1"), None);
    assert_eq!(classify("EXPLAIN shards_table"), None);
}

#[test]
fn promote_statements() {
    let p = |sql: &str| classify(sql);
    assert_eq!(
        p("PROMOTE REPLICA OF SHARD s1"),
        Some(Admin::Promote {
            shard: "S1".into(),
            replica: None
        })
    );
    assert_eq!(
        p("promote replica 1 of shard `Shard-2`;"),
        Some(Admin::Promote {
            shard: "Shard-2".into(),
            replica: Some(1)
        })
    );
    for bad in [
        "PROMOTE",
        "PROMOTE REPLICA",
        "PROMOTE REPLICA OF s1",
        "PROMOTE REPLICA x OF SHARD s1",
        "PROMOTE REPLICA OF SHARD s1 NOW",
    ] {
        assert_eq!(p(bad), Some(Admin::PromoteSyntax(bad.into())), "{bad}");
    }
}
