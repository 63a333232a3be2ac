//! One bad rules file per validation rule: each problem is reported with its message and its
//! place (`file:line: path`), and every problem of a file is reported, not just the first.

use shardgate::config::Rules;

#[path = "bad_rules/auto_increment.rs"]
mod auto_increment;
#[path = "bad_rules/collation.rs"]
mod collation;
#[path = "bad_rules/colocated.rs"]
mod colocated;

/// A valid file (19 lines) that the tests extend or edit.
const BASE: &str = r#"listen = "127.0.0.1:3307"

[[users]]
name = "app"
password = "pw"
schemas = ["shop"]

[[shards]]
name = "s0"
primary = "mysql://root@127.0.0.1:4000"

[[shards]]
name = "s1"
primary = "mysql://root@127.0.0.1:4002"

[[schemas]]
name = "shop"
default_shard = "s0"

"#;

/// Every problem of `text`, as `location | message`.
fn errors(text: &str) -> Vec<String> {
    match Rules::from_toml(text, "r.toml") {
        Ok(_) => Vec::new(),
        Err(e) => {
            e.0.iter()
                .map(|e| format!("{} | {}", e.location, e.message))
                .collect()
        }
    }
}

/// Asserts a problem at exactly `location` whose message contains `part`.
#[track_caller]
fn has(errs: &[String], location: &str, part: &str) {
    let hit = errs.iter().any(|e| {
        e.split_once(" | ")
            .is_some_and(|(l, m)| l == location && m.contains(part))
    });
    assert!(
        hit,
        "no error at {location:?} containing {part:?}; got:\n{}",
        errs.join("\n")
    );
}

fn with_table(table: &str) -> Vec<String> {
    errors(&format!("{BASE}[[schemas.tables]]\n{table}"))
}

#[test]
fn base_is_valid() {
    assert_eq!(errors(BASE), Vec::<String>::new());
}

#[test]
fn display_is_one_problem_per_line() {
    let e = Rules::from_toml("listen = 1\n", "r.toml").expect_err("bad");
    let text = e.to_string();
    assert_eq!(text.lines().count(), e.0.len());
    assert!(text.lines().all(|l| l.starts_with("r.toml")), "{text}");
}

#[test]
fn toml_syntax_error_has_its_line() {
    let errs = errors(&format!("{BASE}[[schemas.tables]\n"));
    has(&errs, "r.toml:20", "TOML syntax");
}

#[test]
fn wrong_value_type() {
    let errs = errors(&BASE.replace(
        "[[users]]",
        "[proxy]\nmax_connections = \"many\"\n\n[[users]]",
    ));
    has(&errs, "r.toml:4", "invalid type");
}

#[test]
fn admin_is_a_boolean() {
    let errs = errors(&BASE.replace(
        "schemas = [\"shop\"]",
        "schemas = [\"shop\"]\nadmin = \"yes\"",
    ));
    has(&errs, "r.toml:7", "invalid type");
    let errs = errors(&BASE.replace("schemas = [\"shop\"]", "schemas = [\"shop\"]\nadmn = true"));
    has(&errs, "r.toml:7: users[0]", "unknown key `admn`");
    let ok = BASE.replace("schemas = [\"shop\"]", "admin = true");
    let rules = Rules::from_toml(&ok, "r.toml").expect("valid");
    assert!(rules.users[0].admin);
    assert!(!Rules::from_toml(BASE, "r.toml").expect("valid").users[0].admin);
}

#[test]
fn every_unknown_key_is_reported() {
    let text = BASE
        .replace("listen =", "lisen = \"x\"\nlisten =")
        .replace("[[users]]", "[proxy]\nmax_conections = 5\n\n[[users]]")
        .replace("password = \"pw\"", "password = \"pw\"\npasword = \"pw\"");
    let errs = errors(&format!(
        "{text}[[schemas.tables]]\nnames = [\"t\"]\nalgoritm = \"hash\"\nalgorithm = \"range\"\nkey = \"id\"\nkey_type = \"int\"\nranges = [{{ shard = \"s0\", form = 1 }}]\n"
    ));
    has(&errs, "r.toml:1", "unknown key `lisen`");
    has(&errs, "r.toml:5: proxy", "unknown key `max_conections`");
    has(&errs, "r.toml:10: users[0]", "unknown key `pasword`");
    has(
        &errs,
        "r.toml:27: schemas[0].tables[0]",
        "unknown key `algoritm`",
    );
    has(
        &errs,
        "r.toml:31: schemas[0].tables[0].ranges[0]",
        "unknown key `form`",
    );
    assert_eq!(errs.len(), 5, "{errs:#?}");
}

#[test]
fn missing_required_keys() {
    let errs = errors(&BASE.replace("primary = \"mysql://root@127.0.0.1:4002\"\n", ""));
    has(&errs, "r.toml:12: shards[1]", "missing key `primary`");
    let errs = errors(&BASE.replace("listen = \"127.0.0.1:3307\"\n", ""));
    has(&errs, "r.toml: listen", "missing key `listen`");
    let errs = with_table("names = [\"t\"]\nalgorithm = \"hash\"\nkey_type = \"int\"\n");
    has(
        &errs,
        "r.toml:20: schemas[0].tables[0]",
        "missing key `key`",
    );
    let errs = errors(&BASE.replace("default_shard = \"s0\"\n", ""));
    has(
        &errs,
        "r.toml:16: schemas[0]",
        "missing key `default_shard`",
    );
}

#[test]
fn duplicate_names() {
    let errs = errors(&BASE.replace("name = \"s1\"", "name = \"s0\""));
    has(
        &errs,
        "r.toml:13: shards[1].name",
        "shard \"s0\" is declared twice (first as shards[0])",
    );
    let errs = errors(&format!(
        "{BASE}[[schemas]]\nname = \"shop\"\ndefault_shard = \"s1\"\n"
    ));
    has(
        &errs,
        "r.toml:21: schemas[1].name",
        "schema \"shop\" is declared twice",
    );
    let errs = errors(&BASE.replace(
        "[[shards]]\nname = \"s0\"",
        "[[users]]\nname = \"app\"\npassword = \"\"\n\n[[shards]]\nname = \"s0\"",
    ));
    has(
        &errs,
        "r.toml:9: users[1].name",
        "user \"app\" is declared twice",
    );
}

#[test]
fn table_named_twice_in_a_schema() {
    let errs = with_table(
        "names = [\"t\", \"u\"]\nalgorithm = \"broadcast\"\n\n[[schemas.tables]]\nnames = [\"T\"]\nalgorithm = \"broadcast\"\n",
    );
    has(
        &errs,
        "r.toml:25: schemas[0].tables[1].names[0]",
        "already has a rule at schemas[0].tables[0].names[0]",
    );
}

#[test]
fn unknown_shard_names_everywhere() {
    let errs = errors(&BASE.replace("default_shard = \"s0\"", "default_shard = \"s9\""));
    has(
        &errs,
        "r.toml:18: schemas[0].default_shard",
        "\"s9\" is not a declared shard (shards: s0, s1)",
    );
    let errs = with_table(
        "names = [\"t\"]\nalgorithm = \"hash\"\nkey = \"id\"\nkey_type = \"int\"\nshards = [\"s0\", \"s7\"]\n",
    );
    has(
        &errs,
        "r.toml:25: schemas[0].tables[0].shards[1]",
        "\"s7\" is not a declared shard",
    );
    let errs = with_table(
        "names = [\"t\"]\nalgorithm = \"range\"\nkey = \"id\"\nkey_type = \"int\"\ndefault_shard = \"x\"\nranges = [{ shard = \"s0\", to = 5 }]\n",
    );
    has(
        &errs,
        "r.toml:25: schemas[0].tables[0].default_shard",
        "\"x\" is not a declared shard",
    );
    let errs = with_table(
        "names = [\"t\"]\nalgorithm = \"range\"\nkey = \"id\"\nkey_type = \"int\"\nranges = [\n  { shard = \"s0\", to = 5 },\n  { shard = \"s3\", from = 5 },\n]\n",
    );
    has(
        &errs,
        "r.toml:27: schemas[0].tables[0].ranges[1]",
        "shard = \"s3\" is not a declared shard",
    );
    let errs = with_table(
        "names = [\"t\"]\nalgorithm = \"list\"\nkey = \"id\"\nkey_type = \"int\"\nlists = [{ shard = \"nope\", values = [1] }]\n",
    );
    has(
        &errs,
        "r.toml:25: schemas[0].tables[0].lists[0]",
        "shard = \"nope\" is not a declared shard",
    );
}

#[test]
fn empty_shard_list() {
    let errs = with_table("names = [\"t\"]\nalgorithm = \"broadcast\"\nshards = []\n");
    has(
        &errs,
        "r.toml:23: schemas[0].tables[0].shards",
        "empty shard list",
    );
}

#[test]
fn bad_urls() {
    let errs = errors(&BASE.replace("mysql://root@127.0.0.1:4002", "mysql://root@127.0.0.1").replace(
        "primary = \"mysql://root@127.0.0.1:4000\"",
        "primary = \"mysql://root@127.0.0.1:4000\"\nreplicas = [\"mysql://127.0.0.1:4001\"]",
    ));
    has(&errs, "r.toml:11: shards[0].replicas[0]", "names no user");
    has(&errs, "r.toml:15: shards[1].primary", "has no port");
    let errs = errors(&BASE.replace("4002", "4000"));
    has(
        &errs,
        "r.toml:14: shards[1].primary",
        "server 127.0.0.1:4000 is already used by shards[0].primary",
    );
}

#[test]
fn refused_key_types() {
    let errs =
        with_table("names = [\"t\"]\nalgorithm = \"hash\"\nkey = \"d\"\nkey_type = \"date\"\n");
    has(
        &errs,
        "r.toml:24: schemas[0].tables[0].key_type",
        "algorithm hash does not take key_type = \"date\"",
    );
    let errs = with_table(
        "names = [\"t\"]\nalgorithm = \"consistent_hash\"\nkey = \"d\"\nkey_type = \"datetime\"\n",
    );
    has(
        &errs,
        "r.toml:24: schemas[0].tables[0].key_type",
        "consistent_hash does not take key_type = \"datetime\"",
    );
    let errs =
        with_table("names = [\"t\"]\nalgorithm = \"hash\"\nkey = \"d\"\nkey_type = \"float\"\n");
    has(
        &errs,
        "r.toml:24: schemas[0].tables[0].key_type",
        "unknown key_type \"float\"",
    );
    let errs = with_table("names = [\"t\"]\nalgorithm = \"modulo\"\n");
    has(
        &errs,
        "r.toml:22: schemas[0].tables[0].algorithm",
        "unknown algorithm \"modulo\"",
    );
}

#[test]
fn range_and_list_need_entries() {
    let errs =
        with_table("names = [\"t\"]\nalgorithm = \"range\"\nkey = \"id\"\nkey_type = \"int\"\n");
    has(
        &errs,
        "r.toml:20: schemas[0].tables[0]",
        "missing key `ranges`",
    );
    let errs = with_table(
        "names = [\"t\"]\nalgorithm = \"list\"\nkey = \"id\"\nkey_type = \"int\"\nlists = []\n",
    );
    has(
        &errs,
        "r.toml:25: schemas[0].tables[0].lists",
        "empty `lists`",
    );
}

#[test]
fn overlapping_ranges_name_both() {
    let errs = with_table(
        "names = [\"t\"]\nalgorithm = \"range\"\nkey = \"d\"\nkey_type = \"date\"\nranges = [\n  { shard = \"s0\", from = \"2026-01-01\", to = \"2026-07-01\" },\n  { shard = \"s1\", from = \"2026-06-01\", to = \"2027-01-01\" },\n  { shard = \"s1\", from = \"2027-01-01\" },\n]\n",
    );
    has(
        &errs,
        "r.toml:27: schemas[0].tables[0].ranges[1]",
        "range ['2026-06-01', '2027-01-01') overlaps ranges[0] ['2026-01-01', '2026-07-01') (line 26)",
    );
    assert_eq!(errs.len(), 1, "{errs:#?}");
}

#[test]
fn bad_range_entries() {
    let errs = with_table(
        "names = [\"t\"]\nalgorithm = \"range\"\nkey = \"id\"\nkey_type = \"int\"\nranges = [\n  { shard = \"s0\", from = 10, to = 10 },\n  { shard = \"s1\", from = \"20\" },\n]\n",
    );
    has(
        &errs,
        "r.toml:26: schemas[0].tables[0].ranges[0]",
        "empty range: from 10 must be below to 10",
    );
    has(
        &errs,
        "r.toml:27: schemas[0].tables[0].ranges[1].from",
        "expected an integer, found string",
    );
}

#[test]
fn duplicate_list_values_name_both() {
    let errs = with_table(
        "names = [\"t\"]\nalgorithm = \"list\"\nkey = \"city\"\nkey_type = \"string\"\nlists = [\n  { shard = \"s0\", values = [\"paris\", \"lyon\", \"Lyon \"] },\n  { shard = \"s1\", values = [\"PARIS\"] },\n]\n",
    );
    has(
        &errs,
        "r.toml:26: schemas[0].tables[0].lists[0].values[2]",
        "value 'Lyon ' is already listed at lists[0].values[1] (line 26) as 'lyon' (equal under collation utf8mb4_general_ci)",
    );
    has(
        &errs,
        "r.toml:27: schemas[0].tables[0].lists[1].values[0]",
        "value 'PARIS' is already listed at lists[0].values[0] (line 26) as 'paris' (equal under collation utf8mb4_general_ci)",
    );
    assert_eq!(errs.len(), 2, "{errs:#?}");
}

#[test]
fn keys_of_another_algorithm() {
    let errs = with_table(
        "names = [\"t\"]\nalgorithm = \"range\"\nkey = \"id\"\nkey_type = \"int\"\nshards = [\"s0\"]\nranges = [{ shard = \"s0\" }]\n",
    );
    has(
        &errs,
        "r.toml:25: schemas[0].tables[0].shards",
        "`shards` is not used by algorithm range",
    );
    let errs = with_table(
        "names = [\"t\"]\nalgorithm = \"hash\"\nkey = \"id\"\nkey_type = \"int\"\nvirtual_nodes = 3\n",
    );
    has(
        &errs,
        "r.toml:25: schemas[0].tables[0].virtual_nodes",
        "not used by algorithm hash",
    );
    let errs = with_table("names = [\"t\"]\nalgorithm = \"broadcast\"\nkey = \"id\"\n");
    has(
        &errs,
        "r.toml:23: schemas[0].tables[0].key",
        "a broadcast table has no shard key",
    );
    let errs = with_table(
        "names = [\"t\"]\nalgorithm = \"consistent_hash\"\nkey = \"id\"\nkey_type = \"string\"\nvirtual_nodes = 0\n",
    );
    has(
        &errs,
        "r.toml:25: schemas[0].tables[0].virtual_nodes",
        "virtual_nodes must be between 1 and 10000",
    );
    let errs = with_table(
        "names = [\"t\"]\nalgorithm = \"hash\"\nkey = \"id\"\nkey_type = \"string\"\nauto_increment = true\n",
    );
    has(
        &errs,
        "r.toml:25: schemas[0].tables[0].auto_increment",
        "auto_increment needs key_type = \"int\"",
    );
}

#[test]
fn users_with_unknown_schemas() {
    let errs = errors(&BASE.replace("schemas = [\"shop\"]", "schemas = [\"shop\", \"crm\"]"));
    has(
        &errs,
        "r.toml:6: users[0].schemas[1]",
        "schema \"crm\" is not declared (schemas: shop)",
    );
}

#[test]
fn listen_must_be_a_socket_address() {
    let errs = errors(&BASE.replace("127.0.0.1:3307", "localhost:3307"));
    has(
        &errs,
        "r.toml:1: listen",
        "\"localhost:3307\" is not an IP address and port",
    );
}

#[test]
fn no_shards_no_users() {
    let errs = errors("listen = \"127.0.0.1:3307\"\n");
    has(&errs, "r.toml: shards", "no shards");
    has(&errs, "r.toml: users", "no users");
}

#[test]
fn bad_proxy_settings() {
    let errs = errors(&BASE.replace(
        "[[users]]",
        "[proxy]\nbackend_timeout_ms = 0\nid_block_size = -5\nmerge_memory_limit_mb = 0\nworker_threads = -1\n\n[[users]]",
    ));
    has(
        &errs,
        "r.toml:4: proxy.backend_timeout_ms",
        "must be at least 1, not 0",
    );
    has(
        &errs,
        "r.toml:5: proxy.id_block_size",
        "must be at least 1, not -5",
    );
    has(
        &errs,
        "r.toml:6: proxy.merge_memory_limit_mb",
        "must be at least 1, not 0",
    );
    has(
        &errs,
        "r.toml:7: proxy.worker_threads",
        "must be at least 0, not -1",
    );
}

#[test]
fn names_and_patterns_that_can_name_one_table_name_both_places() {
    let errs = with_table(concat!(
        "names = [\"t_*\", \"orders\"]\n",
        "algorithm = \"broadcast\"\n",
        "\n",
        "[[schemas.tables]]\n",
        "names = [\"*_eu\", \"T_ACME\", \"order?\"]\n",
        "algorithm = \"broadcast\"\n",
        "\n",
        "[[schemas.tables]]\n",
        "names = [\"T_*\"]\n",
        "algorithm = \"broadcast\"\n",
    ));
    has(
        &errs,
        "r.toml:25: schemas[0].tables[1].names[0]",
        "pattern \"*_eu\" and pattern \"t_*\" of schemas[0].tables[0].names[0] (line 21) can match the same table, e.g. \"t_eu\"",
    );
    has(
        &errs,
        "r.toml:25: schemas[0].tables[1].names[1]",
        "table \"T_ACME\" matches pattern \"t_*\" of schemas[0].tables[0].names[0] (line 21)",
    );
    has(
        &errs,
        "r.toml:25: schemas[0].tables[1].names[2]",
        "pattern \"order?\" matches table \"orders\" of schemas[0].tables[0].names[1] (line 21)",
    );
    // The same pattern twice is reported once, as a name with two rules.
    has(
        &errs,
        "r.toml:29: schemas[0].tables[2].names[0]",
        "table \"T_*\" already has a rule at schemas[0].tables[0].names[0]",
    );
    has(
        &errs,
        "r.toml:29: schemas[0].tables[2].names[0]",
        "pattern \"T_*\" and pattern \"*_eu\" of schemas[0].tables[1].names[0] (line 25)",
    );
    has(
        &errs,
        "r.toml:29: schemas[0].tables[2].names[0]",
        "pattern \"T_*\" matches table \"T_ACME\"",
    );
    assert_eq!(errs.len(), 6, "{}", errs.join("\n"));
}

#[test]
fn disjoint_patterns_and_overlaps_within_one_rule_are_fine() {
    let errs = with_table(concat!(
        "names = [\"t_*\", \"t_a*\", \"t_x\"]\n",
        "algorithm = \"broadcast\"\n",
        "\n",
        "[[schemas.tables]]\n",
        "names = [\"u_*\", \"log_20??\"]\n",
        "algorithm = \"broadcast\"\n",
        "\n",
        "[[schemas.tables]]\n",
        "names = [\"log_2026_*\", \"t\"]\n",
        "algorithm = \"broadcast\"\n",
    ));
    assert_eq!(errs, Vec::<String>::new());
}

#[test]
fn characters_kept_for_later_pattern_syntax() {
    let errs =
        with_table("names = [\"t_[0-9]\", \"a{b,c}\", \"ok_*\"]\nalgorithm = \"broadcast\"\n");
    has(
        &errs,
        "r.toml:21: schemas[0].tables[0].names[0]",
        "\"t_[0-9]\": `[` is not allowed in names",
    );
    has(
        &errs,
        "r.toml:21: schemas[0].tables[0].names[1]",
        "`{` is not allowed",
    );
    assert_eq!(errs.len(), 2, "{}", errs.join("\n"));
}
