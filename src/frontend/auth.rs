//! mysql_native_password: the client proves it knows the password with
//! SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))).

use sha1::{Digest, Sha1};

/// Twenty random bytes for the handshake (printable, no NUL, as servers send).
pub fn new_scramble() -> [u8; 20] {
    let mut s = [0u8; 20];
    for b in s.iter_mut() {
        *b = rand::random_range(33u8..127u8);
    }
    s
}

/// Whether `response` proves knowledge of `password` for `scramble`.
pub fn check_native(scramble: &[u8], password: &str, response: &[u8]) -> bool {
    if password.is_empty() {
        return response.is_empty();
    }
    if response.len() != 20 {
        return false;
    }
    let stage1 = Sha1::digest(password.as_bytes());
    let stage2 = Sha1::digest(stage1);
    let mut h = Sha1::new();
    h.update(scramble);
    h.update(stage2);
    let mix = h.finalize();
    // response XOR mix must equal stage1, i.e. SHA1(that) must equal stage2.
    let candidate: Vec<u8> = response
        .iter()
        .zip(mix.iter())
        .map(|(a, b)| a ^ b)
        .collect();
    let ok = Sha1::digest(&candidate);
    // Constant-time comparison so the check leaks nothing through timing.
    ok.iter()
        .zip(stage2.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_right_password_only() {
        let scramble = new_scramble();
        let token = mysql_common::scramble::scramble_native(&scramble, b"app").unwrap();
        assert!(check_native(&scramble, "app", &token));
        assert!(!check_native(&scramble, "other", &token));
        assert!(!check_native(&scramble, "app", &token[..19]));
        assert!(check_native(&scramble, "", &[]));
        assert!(!check_native(&scramble, "app", &[]));
    }
}
