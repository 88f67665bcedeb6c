//! The gRPC server end of a data channel: every data-channel message is a
//! `Request` frame of some stream; each stream becomes an HTTP request into
//! the same service stack a TCP listener serves (gate, sessions, module
//! router, services), and its response goes back as headers, messages in
//! packets, and trailers, always in that order and always ending with
//! trailers.

use axle_proto::google::rpc::Status as RpcStatus;
use axle_proto::webrtc::{
    Metadata, Request as Frame, RequestHeaders, Response as Out, ResponseHeaders, ResponseMessage,
    ResponseTrailers, Stream, request, response,
};
use axle_sdk_module::webrtc::frames::{self, Deframer, Reassembly};
use axle_wire::auth::Authenticator;
use axle_wire::{Owner, WebRtcPeer};
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use prost::Message;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio::task::AbortHandle;
use tonic::Status;
use tonic::body::Body;
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;
use tracing::debug;
use webrtc::data_channel::RTCDataChannel;

/// The stack every data-channel call goes through.
pub type CallService = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, Infallible>;

/// Streams one connection may have open at once (the Python client's own
/// limit is 256).
pub const MAX_STREAMS: usize = 256;
/// Request messages a stream may have queued before its call reads them.
const QUEUED_MESSAGES: usize = 64;
/// Request bytes one connection may hold at once, half reassembled or
/// queued for its calls: no client can make axle buffer more.
const MAX_HELD: usize = 64 << 20;
/// Sends wait while more than this is queued on the channel (as upstream).
const HIGH_WATER: usize = 1 << 20;
const LOW_WATER: usize = 512 << 10;

/// A frame that is not a `Request`: the peer does not speak the protocol.
#[derive(Debug, thiserror::Error)]
#[error("undecodable frame on the data channel ({len} bytes): {source}")]
pub struct Garbage {
    len: usize,
    source: prost::DecodeError,
}

/// One connection's gRPC server.
pub struct ChannelServer {
    out: Sender,
    service: CallService,
    owner: Owner,
    /// With auth configured: checked on every call, so a revoked key stops
    /// working on peers it opened too.
    auth: Option<Arc<Authenticator>>,
    peer: WebRtcPeer,
    streams: Mutex<HashMap<u64, Incoming>>,
    held: Held,
}

/// The request bytes a connection holds now, against [`MAX_HELD`].
#[derive(Clone, Default)]
struct Held(Arc<AtomicUsize>);

impl Held {
    /// Reserves `n` bytes; false if that would pass the limit.
    fn reserve(&self, n: usize) -> bool {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |h| {
                (h + n <= MAX_HELD).then_some(h + n)
            })
            .is_ok()
    }

    fn release(&self, n: usize) {
        self.0.fetch_sub(n, Ordering::AcqRel);
    }

    /// `message`, prefixed for the call's body; its `reserved` bytes are
    /// released when the call has dropped it.
    fn body_chunk(&self, message: &[u8], reserved: usize) -> Bytes {
        Bytes::from_owner(Chunk {
            data: frames::with_prefix(message),
            held: self.clone(),
            reserved,
        })
    }
}

struct Chunk {
    data: Bytes,
    held: Held,
    reserved: usize,
}

impl AsRef<[u8]> for Chunk {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        self.held.release(self.reserved);
    }
}

/// A stream's request side while its call runs.
struct Incoming {
    body: Option<mpsc::Sender<Bytes>>,
    /// The method takes one request message: its body ends with it. The
    /// TypeScript SDK never sends end-of-stream on such calls (goutils'
    /// server knows its methods' kinds), and tonic waits for the end.
    one_message: bool,
    reassembly: Reassembly,
    task: AbortHandle,
}

impl ChannelServer {
    /// A server answering on `dc`, whose calls are made as `owner` (the
    /// caller at signaling, as `auth` knew it) over `peer`.
    pub async fn new(
        dc: Arc<RTCDataChannel>,
        service: CallService,
        owner: Owner,
        auth: Option<Arc<Authenticator>>,
        peer: WebRtcPeer,
    ) -> Arc<Self> {
        Arc::new(Self {
            out: Sender::new(dc).await,
            service,
            owner,
            auth,
            peer,
            streams: Mutex::new(HashMap::new()),
            held: Held::default(),
        })
    }

    /// Handles one data-channel message. An undecodable one is an error: the
    /// caller closes the connection, since no stream can be answered.
    pub fn handle(self: &Arc<Self>, data: &[u8]) -> Result<(), Garbage> {
        let frame = Frame::decode(data).map_err(|source| Garbage {
            len: data.len(),
            source,
        })?;
        let id = frame.stream.map_or(0, |s| s.id);
        match frame.r#type {
            Some(request::Type::Headers(h)) => self.open(id, h),
            Some(request::Type::Message(m)) => self.message(id, m),
            Some(request::Type::RstStream(true)) => self.reset(id),
            Some(request::Type::RstStream(false)) | None => {}
        }
        Ok(())
    }

    /// Ends every call; the connection is going.
    pub fn close(&self) {
        let streams: Vec<_> = self.lock().drain().collect();
        for (_, s) in streams {
            self.forget(s);
        }
    }

    /// A stream leaves: its call ends, its half message is let go.
    fn forget(&self, stream: Incoming) {
        self.held.release(stream.reassembly.len());
        stream.task.abort();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Incoming>> {
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn open(self: &Arc<Self>, id: u64, headers: RequestHeaders) {
        let mut streams = self.lock();
        if streams.contains_key(&id) {
            drop(streams);
            return self.refuse(
                id,
                Status::invalid_argument(format!("stream {id} sent headers twice")),
            );
        }
        if streams.len() >= MAX_STREAMS {
            drop(streams);
            return self.refuse(
                id,
                Status::resource_exhausted(format!(
                    "at most {MAX_STREAMS} calls at once per connection"
                )),
            );
        }
        let request = match self.request(&headers) {
            Ok(r) => r,
            Err(status) => {
                drop(streams);
                return self.refuse(id, status);
            }
        };
        let one_message = axle_wire::descriptors::takes_one_message(request.uri().path());
        let (tx, rx) = mpsc::channel(QUEUED_MESSAGES);
        let body = StreamBody::new(
            tokio_stream::wrappers::ReceiverStream::new(rx)
                .map(|m: Bytes| Ok::<_, Infallible>(http_body::Frame::data(m))),
        );
        let request = request.map(|()| Body::new(body));
        let deadline = deadline_of(&headers);
        let call = self.service.clone().oneshot(request);
        let weak = Arc::downgrade(self);
        let out = self.out.clone();
        let task = tokio::spawn(async move {
            let mut w = StreamWriter::new(out, id);
            let served = async {
                let response = match call.await {
                    Ok(r) => r,
                    Err(never) => match never {},
                };
                w.respond(response).await
            };
            let status = match deadline {
                Some(d) => tokio::time::timeout(d, served)
                    .await
                    .unwrap_or_else(|_| Status::deadline_exceeded("the call's deadline passed")),
                None => served.await,
            };
            w.finish(status).await;
            if let Some(server) = weak.upgrade() {
                let done = server.lock().remove(&id);
                // A half-sent message the call never needed is let go too.
                if let Some(stream) = done {
                    server.held.release(stream.reassembly.len());
                }
            }
        });
        streams.insert(
            id,
            Incoming {
                body: Some(tx),
                one_message,
                reassembly: Reassembly::default(),
                task: task.abort_handle(),
            },
        );
    }

    /// The HTTP request for a stream's headers (body added by the caller).
    fn request(&self, headers: &RequestHeaders) -> Result<http::Request<()>, Status> {
        if let Some(auth) = &self.auth {
            auth.still_holds(&self.owner)?;
        }
        let path: http::uri::PathAndQuery = headers
            .method
            .parse()
            .ok()
            .filter(|p: &http::uri::PathAndQuery| p.path().starts_with('/') && p.query().is_none())
            .ok_or_else(|| Status::unimplemented(format!("no method {:?}", headers.method)))?;
        let mut request = http::Request::builder()
            .method(http::Method::POST)
            .uri(http::Uri::from(path))
            .version(http::Version::HTTP_2)
            .body(())
            .map_err(|e| Status::invalid_argument(format!("bad request headers: {e}")))?;
        if let Some(md) = &headers.metadata {
            frames::headers_of(md, request.headers_mut());
        }
        let h = request.headers_mut();
        h.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/grpc"),
        );
        h.insert(http::header::TE, http::HeaderValue::from_static("trailers"));
        // Identity was settled at signaling; a token on the channel means nothing.
        h.remove(http::header::AUTHORIZATION);
        request.extensions_mut().insert(self.owner.clone());
        request.extensions_mut().insert(self.peer.clone());
        Ok(request)
    }

    fn message(self: &Arc<Self>, id: u64, m: axle_proto::webrtc::RequestMessage) {
        let mut streams = self.lock();
        let Some(stream) = streams.get_mut(&id) else {
            drop(streams);
            debug!(stream = id, "message for a stream that has no headers");
            return self.refuse(
                id,
                Status::invalid_argument(format!("stream {id} sent a message before its headers")),
            );
        };
        if m.has_message {
            let packet = m.packet_message.unwrap_or_default();
            let size = packet.data.len();
            if !self.held.reserve(size) {
                let removed = streams.remove(&id);
                drop(streams);
                let why = format!("more than {MAX_HELD} request bytes held on this connection");
                return self.drop_stream(id, removed, Status::resource_exhausted(why));
            }
            let before = stream.reassembly.len();
            let refused = match stream.reassembly.push(packet) {
                Ok(None) => None,
                Ok(Some(message)) => {
                    let chunk = self.held.body_chunk(&message, before + size);
                    let sent = stream.body.as_ref().map(|b| b.try_send(chunk));
                    if stream.one_message {
                        stream.body = None;
                    }
                    match sent {
                        Some(Err(mpsc::error::TrySendError::Full(_))) => Some(
                            "the call is not reading its messages as fast as they come".to_owned(),
                        ),
                        _ => None,
                    }
                }
                Err(e) => {
                    self.held.release(before + size);
                    Some(e.to_string())
                }
            };
            if let Some(why) = refused {
                let removed = streams.remove(&id);
                drop(streams);
                return self.drop_stream(id, removed, Status::resource_exhausted(why));
            }
        }
        if m.eos {
            stream.body = None;
        }
    }

    fn reset(self: &Arc<Self>, id: u64) {
        let removed = self.lock().remove(&id);
        self.drop_stream(
            id,
            removed,
            Status::cancelled("the client cancelled the call"),
        );
    }

    /// Ends a running call with `status`.
    fn drop_stream(&self, id: u64, removed: Option<Incoming>, status: Status) {
        if let Some(stream) = removed {
            self.forget(stream);
        }
        self.refuse(id, status);
    }

    /// Answers a stream with headers and `status` as its trailers.
    fn refuse(&self, id: u64, status: Status) {
        let out = self.out.clone();
        tokio::spawn(async move { StreamWriter::new(out, id).finish(status).await });
    }
}

/// The call's deadline: the frame's `timeout`, else a `grpc-timeout` header.
fn deadline_of(headers: &RequestHeaders) -> Option<Duration> {
    if let Some(t) = headers.timeout.filter(|t| t.seconds > 0 || t.nanos > 0) {
        return Some(Duration::new(
            t.seconds.max(0) as u64,
            t.nanos.max(0) as u32,
        ));
    }
    let value = headers
        .metadata
        .as_ref()?
        .md
        .get("grpc-timeout")?
        .values
        .first()?;
    parse_grpc_timeout(value)
}

/// `grpc-timeout`: up to 8 digits and a unit (H, M, S, m, u, n).
fn parse_grpc_timeout(v: &str) -> Option<Duration> {
    let (digits, unit) = v.split_at(v.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok().filter(|_| digits.len() <= 8)?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Writes one stream's response frames: headers first, trailers last.
struct StreamWriter {
    out: Sender,
    id: u64,
    headers_sent: bool,
}

impl StreamWriter {
    fn new(out: Sender, id: u64) -> Self {
        Self {
            out,
            id,
            headers_sent: false,
        }
    }

    fn frame(&self, r#type: response::Type) -> Out {
        Out {
            stream: Some(Stream { id: self.id }),
            r#type: Some(r#type),
        }
    }

    async fn headers(&mut self, metadata: Metadata) -> Result<(), Status> {
        if !self.headers_sent {
            self.headers_sent = true;
            let frame = self.frame(response::Type::Headers(ResponseHeaders {
                metadata: Some(metadata),
            }));
            self.out.send(frame).await?;
        }
        Ok(())
    }

    /// Sends the response's headers and messages; answers its final status.
    async fn respond(&mut self, response: http::Response<Body>) -> Status {
        let (parts, mut body) = response.into_parts();
        if let Err(s) = self.headers(frames::metadata_of(&parts.headers)).await {
            return s;
        }
        // A trailers-only response (an error before any message).
        if let Some(status) = Status::from_header_map(&parts.headers) {
            return status;
        }
        let mut deframer = Deframer::default();
        while let Some(frame) = body.frame().await {
            let frame = match frame {
                Ok(f) => f,
                Err(e) => return Status::internal(format!("the response failed: {e}")),
            };
            match frame.into_data() {
                Ok(chunk) => {
                    deframer.push(&chunk);
                    loop {
                        match deframer.next_message() {
                            Ok(Some(m)) => {
                                if let Err(s) = self.message(m).await {
                                    return s;
                                }
                            }
                            Ok(None) => break,
                            Err(e) => return Status::internal(e.to_string()),
                        }
                    }
                }
                Err(frame) => {
                    if let Some(trailers) = frame.trailers_ref() {
                        return Status::from_header_map(trailers)
                            .unwrap_or_else(|| Status::unknown("trailers without grpc-status"));
                    }
                }
            }
        }
        Status::internal("the response ended without a status")
    }

    async fn message(&mut self, message: Bytes) -> Result<(), Status> {
        for packet in frames::packets(message) {
            let frame = self.frame(response::Type::Message(ResponseMessage {
                packet_message: Some(packet),
            }));
            self.out.send(frame).await?;
        }
        Ok(())
    }

    /// Ends the stream: headers if none went yet, then trailers.
    async fn finish(mut self, status: Status) {
        if self.headers(Metadata::default()).await.is_err() {
            return;
        }
        let mut md = Metadata::default();
        for (k, v) in status.metadata().clone().into_headers().iter() {
            if let Ok(v) = v.to_str() {
                md.md
                    .entry(k.to_string())
                    .or_default()
                    .values
                    .push(v.to_owned());
            }
        }
        let trailers = ResponseTrailers {
            status: Some(RpcStatus {
                code: status.code() as i32,
                message: status.message().to_owned(),
                details: Vec::new(),
            }),
            metadata: Some(md),
        };
        let _ = self
            .out
            .send(self.frame(response::Type::Trailers(trailers)))
            .await;
    }
}

/// The data channel's sending side, shared by every stream: waits while the
/// channel has more than [`HIGH_WATER`] queued, so a large response cannot
/// swell memory without bound.
#[derive(Clone)]
struct Sender {
    dc: Weak<RTCDataChannel>,
    drained: Arc<Notify>,
}

impl Sender {
    async fn new(dc: Arc<RTCDataChannel>) -> Self {
        let drained = Arc::new(Notify::new());
        dc.set_buffered_amount_low_threshold(LOW_WATER).await;
        let notify = drained.clone();
        dc.on_buffered_amount_low(Box::new(move || {
            notify.notify_waiters();
            Box::pin(async {})
        }))
        .await;
        Self {
            dc: Arc::downgrade(&dc),
            drained,
        }
    }

    async fn send(&self, frame: Out) -> Result<(), Status> {
        let gone = || Status::unavailable("the peer connection closed");
        let dc = self.dc.upgrade().ok_or_else(gone)?;
        while dc.buffered_amount().await > HIGH_WATER {
            let drained = self.drained.notified();
            if dc.buffered_amount().await <= HIGH_WATER {
                break;
            }
            // Bounded: a channel that closes meanwhile never drains.
            let _ = tokio::time::timeout(Duration::from_millis(100), drained).await;
            if dc.ready_state()
                != webrtc::data_channel::data_channel_state::RTCDataChannelState::Open
            {
                return Err(gone());
            }
        }
        let bytes = Bytes::from(frame.encode_to_vec());
        debug_assert!(bytes.len() <= frames::MAX_DATA_CHANNEL_MESSAGE);
        dc.send(&bytes).await.map(drop).map_err(|_| gone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_bytes_are_bounded_and_released_when_the_call_drops_them() {
        let held = Held::default();
        assert!(held.reserve(MAX_HELD - 10));
        assert!(!held.reserve(11), "over the limit");
        let chunk = held.body_chunk(b"0123456789", 10);
        assert!(held.reserve(10));
        assert_eq!(&chunk[5..], b"0123456789");
        let body_copy = chunk.clone();
        drop(chunk);
        assert!(!held.reserve(1), "a clone still holds the message");
        drop(body_copy);
        held.release(10);
        assert!(held.reserve(10));
    }

    #[test]
    fn grpc_timeouts() {
        assert_eq!(parse_grpc_timeout("100m"), Some(Duration::from_millis(100)));
        assert_eq!(parse_grpc_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_grpc_timeout("123456789S"), None);
        assert_eq!(parse_grpc_timeout("x"), None);
        assert_eq!(parse_grpc_timeout(""), None);
    }

    #[test]
    fn largest_frame_fits_a_data_channel_message() {
        let packet = frames::packets(Bytes::from(vec![0u8; frames::MAX_PACKET_DATA]))
            .next()
            .unwrap();
        let frame = Out {
            stream: Some(Stream { id: u64::MAX }),
            r#type: Some(response::Type::Message(ResponseMessage {
                packet_message: Some(packet),
            })),
        };
        assert!(frame.encoded_len() <= frames::MAX_DATA_CHANNEL_MESSAGE);
    }
}
