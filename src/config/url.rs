//! Backend URLs: `mysql://user[:password]@host:port`, checked but kept as written.
//!
//! A small parser rather than the `url` crate: the accepted form is narrow (no path, query or
//! default port), and the messages can say exactly what a DBA should fix.

/// Checks a shard URL; Err says what is wrong. Returns `host:port` for duplicate detection.
pub fn check_mysql_url(url: &str) -> Result<String, String> {
    const FORM: &str = "expected mysql://user[:password]@host:port";
    let Some(rest) = url.strip_prefix("mysql://") else {
        return Err(format!("\"{url}\" does not start with mysql:// ({FORM})"));
    };
    // The password may contain '@': the host starts after the last one.
    let Some((userinfo, hostport)) = rest.rsplit_once('@') else {
        return Err(format!("\"{url}\" names no user ({FORM})"));
    };
    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
    if user.is_empty() {
        return Err(format!("\"{url}\" has an empty user name ({FORM})"));
    }
    if hostport.contains(['/', '?', '#']) {
        return Err(format!(
            "\"{url}\": remove the path or options after host:port; the database is the schema name ({FORM})"
        ));
    }
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p),
        None => return Err(format!("\"{url}\" has no port ({FORM})")),
    };
    let host_ok = if let Some(v6) = host.strip_prefix('[') {
        v6.strip_suffix(']')
            .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok())
    } else {
        !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
    };
    if !host_ok {
        return Err(format!("\"{url}\" has a bad host \"{host}\" ({FORM})"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(format!("{}:{p}", host.to_lowercase())),
        _ => Err(format!("\"{url}\" has a bad port \"{port}\" ({FORM})")),
    }
}

#[cfg(test)]
mod tests {
    use super::check_mysql_url as c;

    #[test]
    fn urls() {
        assert_eq!(
            c("mysql://root@127.0.0.1:4000"),
            Ok("127.0.0.1:4000".into())
        );
        assert_eq!(
            c("mysql://app:s3cr@t@db-1.example.com:3306"),
            Ok("db-1.example.com:3306".into())
        );
        assert_eq!(c("mysql://u@[::1]:3306"), Ok("[::1]:3306".into()));
        for bad in [
            "postgres://u@h:1",
            "mysql://h:1",
            "mysql://@h:1",
            "mysql://u@h",
            "mysql://u@h:0",
            "mysql://u@h:99999",
            "mysql://u@h:1/db",
            "mysql://u@:1",
            "mysql://u@h h:1",
            "mysql://u@[zz]:1",
        ] {
            assert!(c(bad).is_err(), "{bad}");
        }
    }
}
