//! Statement splitting checked against where MariaDB splits (the cases were run on a MariaDB
//! 10.11 server with multi-statements on; tests/compound.rs compares through the proxy).

use super::*;

fn split(text: &str) -> Vec<&str> {
    statements(text, true)
}

#[test]
fn empty_texts_have_no_statement() {
    for t in ["", "  ", " \n\t ", ";", ";;", " ; ;\n"] {
        assert_eq!(split(t), Vec::<&str>::new(), "{t:?}");
        assert_eq!(statements(t, false), Vec::<&str>::new(), "{t:?}");
    }
    assert_eq!(trim_query("  select 1; ;\n"), "select 1");
}

#[test]
fn splits_outside_quotes_and_comments() {
    assert_eq!(
        split("select ';' ; select 2 -- ; x\n; /* ; */ select 3;"),
        vec!["select ';'", "select 2 -- ; x", "/* ; */ select 3"]
    );
    assert_eq!(split("select 'a\\';b'"), vec!["select 'a\\';b'"]);
    assert_eq!(
        split("select 'a'';b'; select 2"),
        vec!["select 'a'';b'", "select 2"]
    );
    assert_eq!(
        split("select \"a\\\";b\"; x"),
        vec!["select \"a\\\";b\"", "x"]
    );
    assert_eq!(split("select `a``;b`; x"), vec!["select `a``;b`", "x"]);
    assert_eq!(split("select 1 # ; x\n; y"), vec!["select 1 # ; x", "y"]);
    // `--` needs a space after it to start a comment: `1--1` is 1 - -1.
    assert_eq!(
        split("select 1--1; select 2"),
        vec!["select 1--1", "select 2"]
    );
    assert_eq!(split("select 1 /*! ; */"), vec!["select 1 /*!", "*/"]);
}

#[test]
fn comments_after_a_statement_are_a_statement_of_their_own() {
    assert_eq!(split("select 1; -- x"), vec!["select 1", "-- x"]);
    assert_eq!(split("select 1 -- c\n;  # x"), vec!["select 1 -- c", "# x"]);
    assert_eq!(split("select 1;\n"), vec!["select 1"]);
    assert_eq!(split("/* a */ ;"), vec!["/* a */"]);
    assert!(
        is_comment_only("-- x") && is_comment_only("/* a */ # b") && is_comment_only("/*!  */")
    );
    assert!(!is_comment_only("/*!40101 select 5 */") && !is_comment_only("/*M!100100 x */"));
    // Without multi-statements the text is one statement; trailing comments are ignored.
    assert_eq!(statements("select 1; -- x", false), vec!["select 1"]);
    assert_eq!(
        statements("select 1; select 2", false),
        vec!["select 1; select 2"]
    );
}

#[test]
fn an_empty_statement_is_the_rest_of_the_text() {
    assert_eq!(split("select 1; ;select 2"), vec!["select 1", ";select 2"]);
    assert_eq!(
        split("select 1;; select 2; select 3"),
        vec!["select 1", "; select 2; select 3"]
    );
    assert_eq!(split("select 1;;"), vec!["select 1"]);
}

#[test]
fn transactions_still_split() {
    assert_eq!(
        split("BEGIN; select 1; COMMIT"),
        vec!["BEGIN", "select 1", "COMMIT"]
    );
    assert_eq!(split("begin work; end"), vec!["begin work", "end"]);
    assert_eq!(
        split("START TRANSACTION; BEGIN"),
        vec!["START TRANSACTION", "BEGIN"]
    );
}

#[test]
fn routine_bodies_stay_whole() {
    let p = "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END";
    assert_eq!(split(&format!("{p}; CALL p()")), vec![p, "CALL p()"]);
    let nested = "create definer=current_user() procedure db.p(in x int, out y int)
        comment 'a;b' modifies sql data
        outer_: begin
          declare done int default 0;
          declare c cursor for select case when k > 0 then k else 0 end from t;
          declare continue handler for not found begin set done = 1; end;
          if x > 0 then set y = 1; elseif x < 0 then set y = -1; else begin set y = 0; end; end if;
          l1: loop leave l1; end loop l1;
          repeat set x = x - 1; until x <= 0 end repeat;
          while x < 3 do set x = x + 1; end while;
          case x when 1 then select 1; else select t.end, `end` from t; end case;
          select if(x, 1, 2), repeat('a', 2);
        end outer_";
    assert_eq!(
        split(&format!("{nested};select 9")),
        vec![nested, "select 9"]
    );
    let f = "CREATE FUNCTION f(x INT) RETURNS INT DETERMINISTIC RETURN IF(x > 0, 1, 0)";
    assert_eq!(split(&format!("{f}; SELECT f(1)")), vec![f, "SELECT f(1)"]);
    let g =
        "CREATE OR REPLACE FUNCTION g() RETURNS VARCHAR(5) CHARSET utf8mb4 BEGIN RETURN 'x'; END";
    assert_eq!(split(&format!("{g}; SELECT g()")), vec![g, "SELECT g()"]);
    let udf = "CREATE FUNCTION h RETURNS STRING SONAME 'h.so'";
    assert_eq!(split(&format!("{udf}; SELECT 1")), vec![udf, "SELECT 1"]);
    let dump = "/*!50003 CREATE*/ /*!50020 DEFINER=`root`@`localhost`*/ /*!50003 PROCEDURE `p`() BEGIN SELECT 1; END */";
    assert_eq!(split(&format!("{dump};select 2")), vec![dump, "select 2"]);
}

#[test]
fn trigger_and_event_bodies_stay_whole() {
    let t = "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW FOLLOWS other BEGIN SET NEW.a = 1; SET NEW.b = 2; END";
    assert_eq!(
        split(&format!("{t}; INSERT INTO t VALUES (1)")),
        vec![t, "INSERT INTO t VALUES (1)"]
    );
    let simple = "CREATE TRIGGER tr2 AFTER UPDATE ON t FOR EACH ROW SET @n = IF(NEW.a > 0, 1, 0)";
    assert_eq!(
        split(&format!("{simple}; SELECT 1")),
        vec![simple, "SELECT 1"]
    );
    let e = "CREATE EVENT ev ON SCHEDULE EVERY 1 HOUR DO BEGIN DELETE FROM t; INSERT INTO log VALUES (1); END";
    assert_eq!(split(&format!("{e}; SELECT 1")), vec![e, "SELECT 1"]);
    let alter = "ALTER EVENT ev DO BEGIN SELECT 1; END";
    assert_eq!(
        split(&format!("{alter}; SELECT 2")),
        vec![alter, "SELECT 2"]
    );
}

#[test]
fn top_level_compound_statements_stay_whole() {
    let b = "BEGIN NOT ATOMIC DECLARE x INT DEFAULT 1; IF x THEN SELECT 1; END IF; END";
    assert_eq!(split(&format!("{b}; SELECT 2")), vec![b, "SELECT 2"]);
    let i = "IF 1 > 0 THEN SELECT 1; ELSE SELECT 2; END IF";
    assert_eq!(split(&format!("{i}; SELECT 3")), vec![i, "SELECT 3"]);
    let l = "lbl: BEGIN NOT ATOMIC SELECT 1; LEAVE lbl; END lbl";
    assert_eq!(split(&format!("{l}; SELECT 4")), vec![l, "SELECT 4"]);
    let w = "WHILE @i < 2 DO SET @i = @i + 1; END WHILE";
    assert_eq!(
        split(&format!("SET @i = 0; {w}; SELECT @i")),
        vec!["SET @i = 0", w, "SELECT @i"]
    );
    // A CASE expression inside a plain statement changes nothing.
    assert_eq!(
        split("SELECT CASE WHEN 1 THEN 2 END; SELECT 3"),
        vec!["SELECT CASE WHEN 1 THEN 2 END", "SELECT 3"]
    );
}

#[test]
fn stored_programs_are_recognised() {
    assert_eq!(
        stored_program("CREATE PROCEDURE p() SELECT 1"),
        Some(Program::Routine)
    );
    assert_eq!(
        stored_program(
            "create or replace definer = `a`@`%` aggregate function f() returns int return 1"
        ),
        Some(Program::Routine)
    );
    assert_eq!(
        stored_program("CREATE DEFINER=CURRENT_USER() PROCEDURE p() SELECT 1"),
        Some(Program::Routine)
    );
    assert_eq!(
        stored_program("DROP PROCEDURE IF EXISTS p"),
        Some(Program::Routine)
    );
    assert_eq!(
        stored_program("ALTER FUNCTION f COMMENT 'x'"),
        Some(Program::Routine)
    );
    assert_eq!(
        stored_program("BEGIN NOT ATOMIC SELECT 1; END"),
        Some(Program::Block)
    );
    assert_eq!(
        stored_program("IF 1 THEN SELECT 1; END IF"),
        Some(Program::Block)
    );
    assert_eq!(
        stored_program("l1: LOOP LEAVE l1; END LOOP"),
        Some(Program::Block)
    );
    for plain in [
        "BEGIN",
        "BEGIN WORK",
        "CREATE TABLE procedure_log (id INT)",
        "CREATE TABLE t (f INT COMMENT 'function')",
        "DROP TABLE t",
        "SELECT 1",
        "CALL p()",
    ] {
        assert_eq!(stored_program(plain), None, "{plain}");
    }
}
