//! gRPC over a data channel: the framing both ends share.
//!
//! One gRPC message travels as one or more [`PacketMessage`]s, the last with
//! `eom`; the packets replace gRPC's 5-byte length prefix, which HTTP/2
//! bodies carry and data channels do not. Every data-channel message must
//! fit in 65,535 bytes (the Python client's read buffer), so packets carry
//! at most [`MAX_PACKET_DATA`] bytes.

use axle_proto::webrtc::{Metadata, PacketMessage, Strings};
pub use axle_wire::frame::{Deframer, FrameError, MAX_MESSAGE, with_prefix};
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};

/// Data bytes per packet: leaves room in a 65,535-byte data-channel message
/// for the envelope (stream id, oneof tags, lengths).
pub const MAX_PACKET_DATA: usize = 65_000;
/// The largest data-channel message either side may send.
pub const MAX_DATA_CHANNEL_MESSAGE: usize = 65_535;
/// Splits one message into packets; an empty message is one empty packet.
pub fn packets(message: Bytes) -> impl Iterator<Item = PacketMessage> {
    let count = message.len().div_ceil(MAX_PACKET_DATA).max(1);
    (0..count).map(move |i| {
        let start = i * MAX_PACKET_DATA;
        let end = (start + MAX_PACKET_DATA).min(message.len());
        PacketMessage {
            data: message.slice(start..end).to_vec(),
            eom: i + 1 == count,
        }
    })
}

/// Gathers packets into whole messages.
#[derive(Default)]
pub struct Reassembly {
    buf: BytesMut,
}

impl Reassembly {
    /// Bytes of a message begun and not yet complete.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether no message is half gathered.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Adds a packet; answers the message it completes.
    pub fn push(&mut self, packet: PacketMessage) -> Result<Option<Bytes>, FrameError> {
        if self.buf.len() + packet.data.len() > MAX_MESSAGE {
            self.buf.clear();
            return Err(FrameError::TooLarge);
        }
        self.buf.extend_from_slice(&packet.data);
        Ok(packet.eom.then(|| self.buf.split().freeze()))
    }
}

/// Headers that belong to the HTTP/2 transport, not to the call.
fn is_transport_header(name: &str) -> bool {
    name.starts_with(':')
        || matches!(
            name,
            "content-length" | "connection" | "te" | "transfer-encoding" | "host"
        )
}

/// HTTP headers (or trailers) as data-channel metadata, leaving out the
/// transport's own and gRPC's status, which travel apart.
pub fn metadata_of(headers: &HeaderMap) -> Metadata {
    let mut md = Metadata::default();
    for (name, value) in headers {
        let name = name.as_str();
        if is_transport_header(name)
            || matches!(
                name,
                "grpc-status" | "grpc-message" | "grpc-status-details-bin"
            )
        {
            continue;
        }
        if let Ok(v) = value.to_str() {
            md.md
                .entry(name.to_owned())
                .or_insert_with(Strings::default)
                .values
                .push(v.to_owned());
        }
    }
    md
}

/// Data-channel metadata as HTTP headers. Names or values HTTP cannot
/// carry, and the transport's own headers, are left out.
pub fn headers_of(md: &Metadata, into: &mut HeaderMap) {
    for (name, strings) in &md.md {
        let lower = name.to_ascii_lowercase();
        if is_transport_header(&lower) {
            continue;
        }
        let Ok(name) = HeaderName::from_bytes(lower.as_bytes()) else {
            continue;
        };
        for v in &strings.values {
            if let Ok(v) = HeaderValue::from_str(v) {
                into.append(name.clone(), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_split_and_reassemble() {
        let big = Bytes::from(vec![7u8; MAX_PACKET_DATA * 2 + 10]);
        let parts: Vec<_> = packets(big.clone()).collect();
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.data.len() <= MAX_PACKET_DATA));
        let mut r = Reassembly::default();
        let mut out = None;
        for p in parts {
            out = r.push(p).unwrap();
        }
        assert_eq!(out.unwrap(), big);
        let empty: Vec<_> = packets(Bytes::new()).collect();
        assert_eq!(empty.len(), 1);
        assert!(empty[0].eom && empty[0].data.is_empty());
    }

    #[test]
    fn reassembly_refuses_oversize() {
        let mut r = Reassembly::default();
        let chunk = PacketMessage {
            data: vec![0; MAX_PACKET_DATA],
            eom: false,
        };
        let mut result = Ok(None);
        for _ in 0..=(MAX_MESSAGE / MAX_PACKET_DATA) {
            result = r.push(chunk.clone());
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(FrameError::TooLarge));
    }

    #[test]
    fn metadata_round_trip_skips_transport() {
        let mut h = HeaderMap::new();
        h.insert("viam-sid", HeaderValue::from_static("abc"));
        h.insert("te", HeaderValue::from_static("trailers"));
        h.insert("grpc-status", HeaderValue::from_static("0"));
        let md = metadata_of(&h);
        assert_eq!(md.md.len(), 1);
        let mut back = HeaderMap::new();
        headers_of(&md, &mut back);
        assert_eq!(back.get("viam-sid").unwrap(), "abc");
    }
}
