//! Whatever a client sends, the proxy's parsers answer with an error, never a panic: SQL text
//! through the statement splitter, classifier, literal normaliser and analysis, and raw packet
//! payloads through the handshake and COM_STMT_EXECUTE decoders.

use proptest::prelude::*;
use shardgate::frontend::packets::{Reader, parse_handshake_response};
use shardgate::frontend::rows::parse_execute_params;
use shardgate::sql::cache::PlanCache;
use shardgate::sql::{normalize, split};

/// SQL-ish text: keywords, identifiers, literals, quotes, comments and punctuation in any order.
fn sqlish() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just("SELECT ".to_string()),
        Just("INSERT INTO t (id) VALUES ".to_string()),
        Just("UPDATE t SET ".to_string()),
        Just("SHOW ".to_string()),
        Just("SET ".to_string()),
        Just("CREATE ".to_string()),
        Just("PROCEDURE p() BEGIN ".to_string()),
        Just("BEGIN NOT ATOMIC ".to_string()),
        Just("END ".to_string()),
        Just("IF ".to_string()),
        Just("CASE ".to_string()),
        Just("l: ".to_string()),
        Just("/*!".to_string()),
        Just("*/".to_string()),
        Just("-- ".to_string()),
        Just("TABLE ".to_string()),
        Just("FROM ".to_string()),
        Just("WHERE id = ".to_string()),
        Just("ORDER BY ".to_string()),
        Just("LIMIT ".to_string()),
        Just("@@".to_string()),
        Just("?".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("`".to_string()),
        Just("\\".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just("/*!".to_string()),
        Just("-- ".to_string()),
        Just("#".to_string()),
        Just(";".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just(",".to_string()),
        Just(".".to_string()),
        Just("-".to_string()),
        "[0-9]{1,20}",
        "[a-zA-Z_é]{1,8}",
        "\\PC{0,4}",
    ];
    prop::collection::vec(atom, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn sql_text_never_panics(sql in sqlish()) {
        let cache = PlanCache::new(8);
        for stmt in split::statements(&sql, true) {
            let _ = split::is_comment_only(stmt);
            let _ = split::stored_program(stmt);
            let _ = shardgate::sql::command::classify(stmt);
            let _ = normalize::normalize(stmt);
            let _ = cache.get_text(stmt);
            let _ = cache.get(stmt);
        }
        let _ = shardgate::sql::command::classify(&sql);
    }

    #[test]
    fn arbitrary_text_never_panics(sql in "\\PC{0,64}") {
        let _ = split::statements(&sql, true);
        let _ = split::statements(&sql, false);
        let _ = split::stored_program(&sql);
        let _ = shardgate::sql::command::classify(&sql);
        let _ = normalize::normalize(&sql);
    }

    #[test]
    fn packets_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..128), count in 0usize..20) {
        let _ = parse_handshake_response(&bytes);
        let mut types = Vec::new();
        let _ = parse_execute_params(&mut Reader::new(&bytes), count, &mut types, &Default::default());
        // A second execute reusing the types bound by the first.
        let _ = parse_execute_params(&mut Reader::new(&bytes), count, &mut types, &Default::default());
        let mut r = Reader::new(&bytes);
        let _ = r.lenenc_str();
        let _ = r.cstr();
    }
}
