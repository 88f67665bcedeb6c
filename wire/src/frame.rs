//! gRPC's message framing: a 5-byte header (a compression flag, then the
//! length, big-endian) before each message. Every reader of frames in axle
//! (the session layer, the module router, heartbeats, a data channel's
//! server and client) reads them with [`split_first`], so one size limit
//! holds everywhere.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use thiserror::Error;

/// The largest message accepted (as upstream: 32 MiB).
pub const MAX_MESSAGE: usize = 32 << 20;

/// A framing violation.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FrameError {
    /// A message larger than [`MAX_MESSAGE`].
    #[error("message exceeds {MAX_MESSAGE} bytes")]
    TooLarge,
    /// A compressed gRPC message: axle neither asks for nor accepts compression.
    #[error("compressed gRPC messages are not supported")]
    Compressed,
}

/// One whole message at the front of some framed bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Whether the sender compressed it.
    pub compressed: bool,
    /// The message, its header stripped.
    pub message: &'a [u8],
    /// The bytes after it.
    pub rest: &'a [u8],
}

/// The first message of `framed`: `Ok(None)` until it is whole, an error
/// as soon as its header announces more than [`MAX_MESSAGE`].
pub fn split_first(framed: &[u8]) -> Result<Option<Frame<'_>>, FrameError> {
    let Some(header) = framed.get(..5) else {
        return Ok(None);
    };
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if len > MAX_MESSAGE {
        return Err(FrameError::TooLarge);
    }
    let Some(message) = framed.get(5..5 + len) else {
        return Ok(None);
    };
    Ok(Some(Frame {
        compressed: header[0] != 0,
        message,
        rest: &framed[5 + len..],
    }))
}

/// The first message of `framed` if it is whole and uncompressed.
pub fn uncompressed(framed: &[u8]) -> Option<Frame<'_>> {
    split_first(framed).ok().flatten().filter(|f| !f.compressed)
}

/// A message with gRPC's 5-byte prefix (uncompressed), for an HTTP/2 body.
pub fn with_prefix(message: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(message.len() + 5);
    out.put_u8(0);
    out.put_u32(message.len() as u32);
    out.put_slice(message);
    out.freeze()
}

/// Reads prefixed gRPC messages out of HTTP/2 body chunks.
#[derive(Default)]
pub struct Deframer {
    buf: BytesMut,
}

impl Deframer {
    /// Adds a body chunk.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next whole message, if one has arrived.
    pub fn next_message(&mut self) -> Result<Option<Bytes>, FrameError> {
        let len = match split_first(&self.buf)? {
            None => return Ok(None),
            Some(f) if f.compressed => return Err(FrameError::Compressed),
            Some(f) => f.message.len(),
        };
        self.buf.advance(5);
        Ok(Some(self.buf.split_to(len).freeze()))
    }

    /// Whether a message was left half read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deframer_reads_split_and_joined_messages() {
        let mut d = Deframer::default();
        let two = [with_prefix(b"ab"), with_prefix(b"")].concat();
        d.push(&two[..3]);
        assert_eq!(d.next_message().unwrap(), None);
        d.push(&two[3..]);
        assert_eq!(d.next_message().unwrap().unwrap(), &b"ab"[..]);
        assert_eq!(d.next_message().unwrap().unwrap(), &b""[..]);
        assert!(d.is_empty());
        d.push(&[1, 0, 0, 0, 0]);
        assert_eq!(d.next_message(), Err(FrameError::Compressed));
    }

    #[test]
    fn an_oversized_header_is_refused_before_its_body_arrives() {
        let huge = ((MAX_MESSAGE + 1) as u32).to_be_bytes();
        let header = [0, huge[0], huge[1], huge[2], huge[3]];
        assert_eq!(split_first(&header), Err(FrameError::TooLarge));
        let mut d = Deframer::default();
        d.push(&header);
        assert_eq!(d.next_message(), Err(FrameError::TooLarge));
    }

    #[test]
    fn a_frame_splits_into_message_and_rest() {
        let two = [with_prefix(b"ab"), with_prefix(b"c")].concat();
        let f = split_first(&two).unwrap().unwrap();
        assert_eq!(
            (f.compressed, f.message, f.rest),
            (false, &b"ab"[..], &two[7..])
        );
        assert_eq!(split_first(&two[..6]), Ok(None));
        assert_eq!(uncompressed(&[1, 0, 0, 0, 0]), None);
    }
}
