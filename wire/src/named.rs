//! Reading a resource request before its service does: the session layer and
//! the module router both need the resource's name, which every resource
//! request carries as field 1 (`name`, or `controller` for input controllers).

use crate::frame;
use bytes::Bytes;
use http_body_util::BodyExt;
use prost::Message;
use tonic::Status;
use tonic::body::Body;

/// The largest request read ahead of its service (tonic's own decode limit).
const MAX_REQUEST: usize = 4 * 1024 * 1024;

/// A request's first gRPC message, read ahead of its service, and whatever
/// of the body follows it (a client stream's next messages). Unary
/// requests end with their one message: `rest` is `None`.
pub struct Opened {
    /// The bytes read: the first message whole (5-byte header included),
    /// and anything after it that came in the same frames.
    pub first: Bytes,
    /// The body's remainder, if it has not ended.
    pub rest: Option<Body>,
}

impl Opened {
    /// The request's body again, as it came.
    pub fn into_body(self) -> Body {
        match self.rest {
            None => {
                Body::new(http_body_util::Full::new(self.first).map_err(|never| match never {}))
            }
            Some(rest) => Body::new(Chained {
                first: Some(self.first),
                rest,
            }),
        }
    }
}

/// The bytes read ahead, then the rest of the body.
struct Chained {
    first: Option<Bytes>,
    rest: Body,
}

impl http_body::Body for Chained {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Status>>> {
        if let Some(first) = self.first.take() {
            return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(first))));
        }
        std::pin::Pin::new(&mut self.rest).poll_frame(cx)
    }
}

/// Reads a request's body up to the end of its first gRPC message, so
/// the resource it names is known; the rest stays a stream.
pub async fn read_first(mut body: Body) -> Result<Opened, Status> {
    use http_body::Body as _;
    let mut buf = bytes::BytesMut::new();
    loop {
        let whole = !matches!(frame::split_first(&buf), Ok(None));
        if whole || buf.len() > MAX_REQUEST {
            let rest = (!body.is_end_stream()).then_some(body);
            return Ok(Opened {
                first: buf.freeze(),
                rest,
            });
        }
        match body.frame().await {
            None => {
                return Ok(Opened {
                    first: buf.freeze(),
                    rest: None,
                });
            }
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    buf.extend_from_slice(&data);
                }
            }
            Some(Err(e)) => {
                return Err(Status::invalid_argument(format!(
                    "cannot read the request: {e}"
                )));
            }
        }
    }
}

/// Any resource request, seen only for its `name`.
#[derive(Clone, PartialEq, Message)]
struct Named {
    #[prost(string, tag = "1")]
    name: String,
}

/// The `name` in a gRPC-framed request: a 5-byte header (compression flag,
/// big-endian length), then the protobuf message. Compressed or malformed
/// requests name nothing here; the handler reports them.
pub fn resource_name(framed: &Bytes) -> Option<String> {
    let first = frame::uncompressed(framed)?;
    Named::decode(first.message).ok().map(|n| n.name)
}

/// The same gRPC-framed request naming the resource `name` instead: field
/// 1 is appended to the first message, and protobuf readers keep the last
/// value of a field, so the rest of it is passed on untouched, as are any
/// bytes after it (a stream's next messages). `None` for compressed or
/// malformed frames.
pub fn with_name(framed: &Bytes, name: &str) -> Option<Bytes> {
    let frame::Frame {
        message,
        rest: after,
        ..
    } = frame::uncompressed(framed)?;
    let field = Named { name: name.into() }.encode_to_vec();
    let total = u32::try_from(message.len() + field.len()).ok()?;
    let mut out = Vec::with_capacity(5 + total as usize + after.len());
    out.push(0);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(message);
    out.extend_from_slice(&field);
    out.extend_from_slice(after);
    Some(out.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(message: &[u8]) -> Bytes {
        let mut b = vec![0];
        b.extend_from_slice(&(message.len() as u32).to_be_bytes());
        b.extend_from_slice(message);
        b.into()
    }

    #[test]
    fn the_name_is_read_from_any_resource_request() {
        let req = axle_proto::motor::SetPowerRequest {
            name: "left".into(),
            power_pct: 0.5,
            extra: None,
        };
        assert_eq!(
            resource_name(&framed(&req.encode_to_vec())).as_deref(),
            Some("left")
        );
        let req = axle_proto::base::MoveStraightRequest {
            name: "base".into(),
            distance_mm: 10,
            mm_per_sec: 5.0,
            extra: None,
        };
        assert_eq!(
            resource_name(&framed(&req.encode_to_vec())).as_deref(),
            Some("base")
        );
    }

    #[test]
    fn truncated_or_garbage_requests_name_nothing() {
        assert_eq!(resource_name(&Bytes::from_static(&[0, 0, 0])), None);
        assert_eq!(
            resource_name(&Bytes::from_static(&[0, 0, 0, 0, 9, 1])),
            None
        );
        assert_eq!(resource_name(&framed(&[0xff, 0xff, 0xff])), None);
    }

    #[test]
    fn a_request_is_renamed_without_touching_the_rest() {
        let req = axle_proto::motor::SetPowerRequest {
            name: "sub:left".into(),
            power_pct: 0.5,
            extra: None,
        };
        let renamed = with_name(&framed(&req.encode_to_vec()), "left").unwrap();
        assert_eq!(resource_name(&renamed).as_deref(), Some("left"));
        let decoded = axle_proto::motor::SetPowerRequest::decode(&renamed[5..]).unwrap();
        assert_eq!((decoded.name.as_str(), decoded.power_pct), ("left", 0.5));
        assert_eq!(with_name(&Bytes::from_static(&[1, 0, 0, 0, 0]), "x"), None);
    }
}
