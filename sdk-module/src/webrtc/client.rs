//! The client end of gRPC over a data channel: a tower service, so any
//! generated client (and [`crate::client::RobotClient`]) can call over a
//! peer connection as over HTTP/2.
//!
//! Each call is a stream with a fresh id: its headers, then its messages in
//! packets, then end-of-stream; the answer comes back as headers, messages
//! and trailers, which become an HTTP response whose body ends with gRPC
//! trailers. Dropping an unfinished response resets the stream.

use super::frames::{self, Deframer, Reassembly};
use axle_proto::webrtc::{
    Metadata, PacketMessage, Request as Frame, RequestHeaders, RequestMessage,
    Response as Incoming, Stream, request, response,
};
use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue};
use http_body::Frame as BodyFrame;
use http_body_util::{BodyExt, StreamBody};
use prost::Message;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::mpsc;
use tonic::Status;
use tonic::body::Body;
use tower::Service;
use webrtc::data_channel::RTCDataChannel;
use webrtc::peer_connection::RTCPeerConnection;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A call's answer, as it arrives.
enum Event {
    Headers(Metadata),
    Message(Bytes),
    End(Status),
}

/// A peer connection to a robot, carrying gRPC calls. Clones share it.
#[derive(Clone)]
pub struct ClientChannel {
    shared: Arc<Shared>,
}

struct Shared {
    pc: Arc<RTCPeerConnection>,
    dc: Arc<RTCDataChannel>,
    next_id: AtomicU64,
    streams: Mutex<HashMap<u64, Pending>>,
    closed: AtomicBool,
}

struct Pending {
    events: mpsc::UnboundedSender<Event>,
    reassembly: Reassembly,
}

impl ClientChannel {
    /// Calls over `dc`, the open data channel of `pc`.
    pub fn new(pc: Arc<RTCPeerConnection>, dc: Arc<RTCDataChannel>) -> Self {
        let shared = Arc::new(Shared {
            pc,
            dc: dc.clone(),
            next_id: AtomicU64::new(0),
            streams: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
        });
        let weak = Arc::downgrade(&shared);
        dc.on_message(Box::new(move |m| {
            if let Some(s) = weak.upgrade() {
                s.receive(&m.data);
            }
            Box::pin(async {})
        }));
        let weak = Arc::downgrade(&shared);
        dc.on_close(Box::new(move || {
            if let Some(s) = weak.upgrade() {
                s.fail_all("the peer connection closed");
            }
            Box::pin(async {})
        }));
        let weak = Arc::downgrade(&shared);
        shared
            .pc
            .on_peer_connection_state_change(Box::new(move |state| {
                use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState as S;
                if matches!(state, S::Failed | S::Closed)
                    && let Some(s) = weak.upgrade()
                {
                    s.fail_all("the peer connection failed");
                }
                Box::pin(async {})
            }));
        Self { shared }
    }

    /// Closes the peer connection; calls in flight fail UNAVAILABLE.
    pub async fn close(&self) {
        self.shared.fail_all("the client closed the connection");
        let _ = self.shared.pc.close().await;
    }

    /// Whether the connection has closed.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// The underlying data channel, for tests of the server's framing.
    pub fn data_channel(&self) -> Arc<RTCDataChannel> {
        self.shared.dc.clone()
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The last clone is gone: nobody can call any more.
        let pc = self.pc.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = pc.close().await;
            });
        }
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Pending>> {
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fail_all(&self, why: &str) {
        self.closed.store(true, Ordering::Release);
        for (_, p) in self.lock().drain() {
            let _ = p.events.send(Event::End(Status::unavailable(why)));
        }
    }

    /// Routes one data-channel message to its call.
    fn receive(&self, data: &[u8]) {
        let Ok(frame) = Incoming::decode(data) else {
            tracing::warn!(
                len = data.len(),
                "undecodable frame from the robot; ignored"
            );
            return;
        };
        let id = frame.stream.map_or(0, |s| s.id);
        let mut streams = self.lock();
        let Some(pending) = streams.get_mut(&id) else {
            return;
        };
        let event = match frame.r#type {
            Some(response::Type::Headers(h)) => Event::Headers(h.metadata.unwrap_or_default()),
            Some(response::Type::Message(m)) => {
                match pending
                    .reassembly
                    .push(m.packet_message.unwrap_or_default())
                {
                    Ok(Some(message)) => Event::Message(message),
                    Ok(None) => return,
                    Err(e) => Event::End(Status::resource_exhausted(e.to_string())),
                }
            }
            Some(response::Type::Trailers(t)) => {
                let s = t.status.unwrap_or_default();
                let mut status = Status::new(s.code.into(), s.message);
                if let Some(md) = t.metadata {
                    let mut headers = HeaderMap::new();
                    frames::headers_of(&md, &mut headers);
                    *status.metadata_mut() = tonic::metadata::MetadataMap::from_headers(headers);
                }
                Event::End(status)
            }
            None => return,
        };
        let end = matches!(event, Event::End(_));
        let _ = pending.events.send(event);
        if end {
            streams.remove(&id);
        }
    }
}

impl Service<http::Request<Body>> for ClientChannel {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<http::Response<Body>, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let shared = self.shared.clone();
        Box::pin(async move { shared.call(req).await })
    }
}

impl Shared {
    async fn call(
        self: Arc<Self>,
        req: http::Request<Body>,
    ) -> Result<http::Response<Body>, BoxError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Box::new(Status::unavailable("the peer connection closed")));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.lock().insert(
            id,
            Pending {
                events: tx,
                reassembly: Reassembly::default(),
            },
        );
        let (parts, body) = req.into_parts();
        let headers = Frame {
            stream: Some(Stream { id }),
            r#type: Some(request::Type::Headers(RequestHeaders {
                method: parts.uri.path().to_owned(),
                metadata: Some(frames::metadata_of(&parts.headers)),
                timeout: None,
            })),
        };
        self.send(&headers).await?;
        // The request streams on while the answer comes (client streaming).
        let sender = self.clone();
        let sending = tokio::spawn(async move { sender.send_body(id, body).await });
        // From here a dropped call resets its stream, answered or not.
        let mut guard = ResetOnDrop {
            shared: self.clone(),
            id,
            done: false,
            sending: sending.abort_handle(),
        };
        let first = match rx.recv().await {
            Some(Event::Headers(md)) => md,
            Some(Event::End(status)) => {
                guard.done = true;
                return Ok(status.into_http());
            }
            Some(Event::Message(_)) | None => {
                return Err(Box::new(Status::internal(
                    "the robot answered a message before headers",
                )));
            }
        };
        let mut response = http::Response::new(());
        frames::headers_of(&first, response.headers_mut());
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc"),
        );
        let frames = futures::stream::unfold((rx, guard), |(mut rx, mut guard)| async move {
            match rx.recv().await? {
                Event::Message(m) => Some((
                    Ok::<_, Status>(BodyFrame::data(frames::with_prefix(&m))),
                    (rx, guard),
                )),
                Event::End(status) => {
                    guard.done = true;
                    let mut trailers = HeaderMap::new();
                    let _ = status.add_header(&mut trailers);
                    Some((Ok(BodyFrame::trailers(trailers)), (rx, guard)))
                }
                Event::Headers(_) => Some((
                    Err(Status::internal("the robot sent headers twice")),
                    (rx, guard),
                )),
            }
        });
        Ok(response.map(|()| Body::new(StreamBody::new(frames))))
    }

    /// Sends the request's messages; the last packet carries end-of-stream
    /// (one data-channel message less per unary call).
    async fn send_body(&self, id: u64, mut body: Body) -> Result<(), BoxError> {
        let mut deframer = Deframer::default();
        let mut held: Option<PacketMessage> = None;
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame?.into_data() else {
                continue;
            };
            deframer.push(&data);
            while let Some(message) = deframer.next_message()? {
                for packet in frames::packets(message) {
                    if let Some(previous) = held.replace(packet) {
                        self.send(&message_frame(id, Some(previous), false)).await?;
                    }
                }
            }
        }
        self.send(&message_frame(id, held, true)).await
    }

    async fn send(&self, frame: &Frame) -> Result<(), BoxError> {
        self.dc
            .send(&Bytes::from(frame.encode_to_vec()))
            .await
            .map(drop)
            .map_err(|e| {
                Box::new(Status::unavailable(format!(
                    "cannot send on the peer connection: {e}"
                ))) as BoxError
            })
    }
}

fn message_frame(id: u64, packet: Option<PacketMessage>, eos: bool) -> Frame {
    Frame {
        stream: Some(Stream { id }),
        r#type: Some(request::Type::Message(RequestMessage {
            has_message: packet.is_some(),
            packet_message: packet,
            eos,
        })),
    }
}

/// Resets a stream whose response was dropped before its trailers.
struct ResetOnDrop {
    shared: Arc<Shared>,
    id: u64,
    done: bool,
    sending: tokio::task::AbortHandle,
}

impl Drop for ResetOnDrop {
    fn drop(&mut self) {
        self.sending.abort();
        if self.done || self.shared.lock().remove(&self.id).is_none() {
            return;
        }
        let shared = self.shared.clone();
        let reset = Frame {
            stream: Some(Stream { id: self.id }),
            r#type: Some(request::Type::RstStream(true)),
        };
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { shared.send(&reset).await });
        }
    }
}
