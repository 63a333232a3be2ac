//! MySQL packet framing on any async stream: 3-byte length, 1-byte sequence id, payloads of
//! 16 MiB - 1 split across packets. Writes are buffered and flushed once per response, since a
//! `write` per packet tripled CPU per query in a prototype.
//!
//! Hand-written rather than taken from a crate: the server-side crates available either impose
//! their own result metadata (opensrv-mysql) or are client-only (mysql_async); framing is 40 lines.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

const MAX_PAYLOAD: usize = 0xff_ff_ff;

/// Each connection's read buffer, and its write buffer's size at rest. Small, since a
/// connection keeps them while idle (10,000 idle clients); a packet longer than the read buffer
/// is read straight into its own allocation, and the write buffer grows with a response.
const BUFFER: usize = 4 * 1024;

/// A write buffer grown past this by a large response goes back to [`BUFFER`] once flushed.
const BUFFER_KEPT: usize = 256 * 1024;

/// Largest client payload the proxy accepts (a statement or a long-data chunk).
pub const MAX_CLIENT_PACKET: usize = 64 * 1024 * 1024;

/// A packet stream over `S`, generic so that a later TLS upgrade can wrap the socket.
pub struct PacketIo<S> {
    stream: BufReader<S>,
    out: Vec<u8>,
    seq: u8,
}

impl<S: AsyncRead + AsyncWrite + Unpin> PacketIo<S> {
    /// Wraps a connected stream.
    pub fn new(stream: S) -> Self {
        PacketIo {
            stream: BufReader::with_capacity(BUFFER, stream),
            out: Vec::with_capacity(BUFFER),
            seq: 0,
        }
    }

    /// Starts a new command: the client's next packet carries sequence id 0.
    pub fn reset_seq(&mut self) {
        self.seq = 0;
    }

    /// Reads one logical packet (joining continuation packets). `Ok(None)` on a clean EOF.
    pub async fn read_packet(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut payload = Vec::new();
        loop {
            let mut header = [0u8; 4];
            match self.stream.read_exact(&mut header).await {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && payload.is_empty() => {
                    return Ok(None);
                }
                Err(e) => return Err(e),
            }
            let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
            self.seq = header[3].wrapping_add(1);
            if payload.len() + len > MAX_CLIENT_PACKET {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "packet larger than the proxy's limit",
                ));
            }
            let start = payload.len();
            payload.resize(start + len, 0);
            self.stream.read_exact(&mut payload[start..]).await?;
            if len < MAX_PAYLOAD {
                return Ok(Some(payload));
            }
        }
    }

    /// Queues one logical packet (split when longer than 16 MiB - 1).
    pub fn write_packet(&mut self, payload: &[u8]) {
        let mut rest = payload;
        loop {
            let chunk = rest.len().min(MAX_PAYLOAD);
            let len = (chunk as u32).to_le_bytes();
            self.out
                .extend_from_slice(&[len[0], len[1], len[2], self.seq]);
            self.out.extend_from_slice(&rest[..chunk]);
            self.seq = self.seq.wrapping_add(1);
            rest = &rest[chunk..];
            if chunk < MAX_PAYLOAD {
                break;
            }
        }
    }

    /// Queues a packet built in place by `build`, avoiding a temporary buffer per row.
    pub fn write_with(&mut self, build: impl FnOnce(&mut Vec<u8>)) {
        let start = self.out.len();
        self.out.extend_from_slice(&[0, 0, 0, 0]);
        build(&mut self.out);
        let len = self.out.len() - start - 4;
        if len >= MAX_PAYLOAD {
            self.split_in_place(start, len);
            return;
        }
        let l = (len as u32).to_le_bytes();
        self.out[start..start + 4].copy_from_slice(&[l[0], l[1], l[2], self.seq]);
        self.seq = self.seq.wrapping_add(1);
    }

    /// Frames a payload of `len >= MAX_PAYLOAD` bytes built at `start + 4` as packets of at most
    /// 16 MiB - 1, in place: the chunks move towards the end to make room for their headers
    /// (a large row is copied once more within the buffer, not into a second buffer).
    fn split_in_place(&mut self, start: usize, len: usize) {
        // Full chunks, then the last (possibly empty) one: a header each.
        let chunks = len / MAX_PAYLOAD + 1;
        self.out.resize(self.out.len() + 4 * (chunks - 1), 0);
        // From the last chunk back, so that no chunk is overwritten before it moves.
        for i in (0..chunks).rev() {
            let from = start + 4 + i * MAX_PAYLOAD;
            let size = if i + 1 == chunks {
                len - i * MAX_PAYLOAD
            } else {
                MAX_PAYLOAD
            };
            let to = start + (i + 1) * 4 + i * MAX_PAYLOAD;
            self.out.copy_within(from..from + size, to);
            let l = (size as u32).to_le_bytes();
            let seq = self.seq.wrapping_add(i as u8);
            self.out[to - 4..to].copy_from_slice(&[l[0], l[1], l[2], seq]);
        }
        self.seq = self.seq.wrapping_add(chunks as u8);
    }

    /// Bytes queued and not yet flushed.
    pub fn pending(&self) -> usize {
        self.out.len()
    }

    /// Sends everything queued.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        if !self.out.is_empty() {
            self.stream.get_mut().write_all(&self.out).await?;
            self.out.clear();
            if self.out.capacity() > BUFFER_KEPT {
                self.out.shrink_to(BUFFER);
            }
        }
        self.stream.get_mut().flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip_small_and_large() {
        let (a, b) = tokio::io::duplex(1 << 20);
        let mut w = PacketIo::new(a);
        let mut r = PacketIo::new(b);
        let big = vec![7u8; MAX_PAYLOAD + 10];
        w.write_packet(b"hello");
        w.write_with(|buf| buf.extend_from_slice(b"built"));
        w.write_packet(&big);
        // Built in place and split there: exactly 16 MiB - 1 (an empty packet follows), and
        // two full chunks and a rest.
        let exact: Vec<u8> = (0..MAX_PAYLOAD).map(|i| (i % 251) as u8).collect();
        let long: Vec<u8> = (0..2 * MAX_PAYLOAD + 5).map(|i| (i % 253) as u8).collect();
        w.write_with(|buf| buf.extend_from_slice(&exact));
        w.write_packet(b"between");
        w.write_with(|buf| buf.extend_from_slice(&long));
        let writer = tokio::spawn(async move {
            w.flush().await.unwrap();
            w
        });
        assert_eq!(r.read_packet().await.unwrap().unwrap(), b"hello");
        assert_eq!(r.read_packet().await.unwrap().unwrap(), b"built");
        assert_eq!(r.read_packet().await.unwrap().unwrap(), big);
        assert_eq!(r.read_packet().await.unwrap().unwrap(), exact);
        assert_eq!(r.read_packet().await.unwrap().unwrap(), b"between");
        assert_eq!(r.read_packet().await.unwrap().unwrap(), long);
        // Sequence ids ran on through every split: 1 + 1 + 2 + 2 + 1 + 3 packets.
        assert_eq!(r.seq, 10);
        drop(writer.await.unwrap());
        assert!(r.read_packet().await.unwrap().is_none());
    }
}
