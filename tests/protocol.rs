//! The wire protocol at the byte level: what a client that sends odd or malformed packets gets.
//! A raw TCP client logs in with mysql_native_password and then sends packets by hand.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

struct Raw {
    s: TcpStream,
}

impl Raw {
    fn read(&mut self) -> Vec<u8> {
        let mut h = [0u8; 4];
        self.s.read_exact(&mut h).expect("packet header");
        let len = u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize;
        let mut p = vec![0u8; len];
        self.s.read_exact(&mut p).expect("packet body");
        p
    }

    fn send(&mut self, seq: u8, payload: &[u8]) {
        let l = (payload.len() as u32).to_le_bytes();
        let mut b = vec![l[0], l[1], l[2], seq];
        b.extend_from_slice(payload);
        self.s.write_all(&b).expect("send");
    }

    /// Sends a command and returns the first packet of the answer.
    fn command(&mut self, payload: &[u8]) -> Vec<u8> {
        self.send(0, payload);
        self.read()
    }

    fn login(addr: std::net::SocketAddr, db: &str) -> Raw {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut r = Raw { s };
        let hs = r.read();
        assert_eq!(hs[0], 10, "protocol version 10");
        let ver_end = hs.iter().skip(1).position(|&c| c == 0).unwrap() + 1;
        let p = ver_end + 1 + 4;
        let mut scramble = hs[p..p + 8].to_vec();
        let rest = p + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10;
        scramble.extend_from_slice(&hs[rest..rest + 12]);
        let token = mysql_common::scramble::scramble_native(&scramble, b"app").unwrap();
        // PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH | CONNECT_WITH_DB | LONG_PASSWORD
        let caps: u32 = (1 << 9) | (1 << 15) | (1 << 19) | (1 << 3) | 1;
        let mut resp = Vec::new();
        resp.extend_from_slice(&caps.to_le_bytes());
        resp.extend_from_slice(&(1u32 << 24).to_le_bytes());
        resp.push(45);
        resp.extend_from_slice(&[0u8; 23]);
        resp.extend_from_slice(b"app\0");
        resp.push(20);
        resp.extend_from_slice(&token);
        resp.extend_from_slice(db.as_bytes());
        resp.push(0);
        resp.extend_from_slice(b"mysql_native_password\0");
        r.send(1, &resp);
        let ok = r.read();
        assert_eq!(ok[0], 0, "login OK, got {ok:?}");
        r
    }
}

fn err_code(p: &[u8]) -> u16 {
    assert_eq!(p[0], 0xff, "an ERR packet, got {p:?}");
    u16::from_le_bytes([p[1], p[2]])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_and_malformed_packets_get_errors_and_the_session_goes_on() {
    let db = "proto";
    fresh_schema(db).await;
    let addr = start_proxy(rules(db, "")).await;
    tokio::task::spawn_blocking(move || {
        let mut r = Raw::login(addr, db);
        // An unknown command: error 1047, never a fake OK.
        assert_eq!(err_code(&r.command(&[0x63])), 1047);
        assert_eq!(r.command(&[0x0e])[0], 0, "COM_PING answers OK afterwards");
        // COM_STMT_EXECUTE for a statement never prepared, and one too short to parse.
        assert_eq!(
            err_code(&r.command(&[0x17, 9, 0, 0, 0, 0, 1, 0, 0, 0])),
            1243
        );
        assert_eq!(err_code(&r.command(&[0x17, 1])), 1835);
        // COM_STMT_PREPARE then EXECUTE with a truncated parameter block.
        let prep = r.command(b"\x16SELECT ? + 1");
        assert_eq!(prep[0], 0, "prepare OK: {prep:?}");
        let id = [prep[1], prep[2], prep[3], prep[4]];
        let columns = u16::from_le_bytes([prep[5], prep[6]]);
        let params = u16::from_le_bytes([prep[7], prep[8]]);
        assert_eq!((params, columns), (1, 1));
        // Drain the parameter and column definitions, each list followed by an EOF.
        for _ in 0..(params + 1 + columns + 1) {
            let _ = r.read();
        }
        let mut exec = vec![0x17];
        exec.extend_from_slice(&id);
        exec.extend_from_slice(&[0, 1, 0, 0, 0, 0, 1, 8]); // flags, iterations, bitmap, bound, type LONGLONG (no value)
        assert_eq!(err_code(&r.command(&exec)), 1835);
        // Invalid UTF-8 and empty queries.
        assert_eq!(err_code(&r.command(&[0x03, 0xff, 0xfe, 0x20])), 1064);
        assert_eq!(
            err_code(&r.command(&[0x03])),
            1065,
            "Query was empty, as MariaDB says"
        );
        assert_eq!(r.command(&[0x0e])[0], 0, "still alive");
        // A table that does not exist, described: 1146 (ORMs' existence checks rely on it).
        assert_eq!(err_code(&r.command(b"\x03DESCRIBE nosuch")), 1146);
        // COM_QUIT closes the connection.
        r.send(0, &[0x01]);
        let mut buf = [0u8; 1];
        assert_eq!(r.s.read(&mut buf).unwrap_or(0), 0);

        // A payload over the proxy's 64 MiB limit: error 1153, then the connection closes.
        let mut r = Raw::login(addr, db);
        let chunk = vec![0u8; 0xff_ffff];
        let mut first = chunk.clone();
        first[0] = 0x03;
        for seq in 0..4u8 {
            r.s.write_all(&[0xff, 0xff, 0xff, seq]).unwrap();
            r.s.write_all(if seq == 0 { &first } else { &chunk })
                .unwrap();
        }
        r.s.write_all(&[0x10, 0, 0, 4]).unwrap();
        assert_eq!(err_code(&r.read()), 1153);
    })
    .await
    .unwrap();
}
