//! Forwarding calls on a bare HTTP/2 connection, to a module or a remote part.
//!
//! A resource call is one small request. Sent through an HTTP/2 client stack,
//! its headers and its body leave in two writes (the body waits for flow
//! control capacity to be assigned), and the server, woken by the first,
//! sleeps again until the second. Here both are queued before the connection
//! flushes, so the request leaves in one write; the answer streams back as it
//! comes. A connection found closed before a request is sent is made again
//! once, so a restarted server is reached without anyone's help.
//!
//! A client stream's later messages (a request body that had not ended when
//! its first message was read) follow as they come, within HTTP/2 flow
//! control.

use axle_wire::named::Opened;
use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body::Frame;
use http_body_util::BodyExt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use tokio::net::{TcpStream, UnixStream};
use tonic::body::Body;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Sender = h2::client::SendRequest<Bytes>;

/// A connection for forwarding. Clones share it.
#[derive(Clone)]
pub struct Forwarder {
    address: Arc<str>,
    send: Arc<Mutex<Option<Sender>>>,
    /// The `authorization` this part sends there, in place of the caller's.
    authorization: Option<http::HeaderValue>,
}

impl Forwarder {
    /// Connects to `address`: a Unix socket path (or `unix:PATH`), else
    /// `host:port` (or `http://host:port`) over TCP.
    pub async fn connect(address: &str) -> Result<Self, String> {
        let send = handshake(address).await.map_err(|e| e.to_string())?;
        Ok(Self {
            address: address.into(),
            send: Arc::new(Mutex::new(Some(send))),
            authorization: None,
        })
    }

    /// Sends `authorization` on every call. Either way, the caller's own
    /// token (for this part) never goes further.
    pub fn authorized(mut self, authorization: Option<http::HeaderValue>) -> Self {
        self.authorization = authorization;
        self
    }

    /// Sends one call, whose first message has been read, and returns the
    /// answer.
    pub async fn call(&self, req: Request<Opened>) -> Result<Response<Body>, BoxError> {
        let current = self.send.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut send = match current {
            Some(send) => send.ready().await.ok(),
            None => None,
        };
        if send.is_none() {
            // Closed, and nothing sent on it yet: connect again, once.
            let fresh = handshake(&self.address).await?;
            *self.send.lock().unwrap_or_else(|e| e.into_inner()) = Some(fresh.clone());
            send = Some(fresh.ready().await?);
        }
        let Some(mut send) = send else {
            return Err("no connection".into());
        };
        let (mut parts, body) = req.into_parts();
        match &self.authorization {
            Some(token) => parts
                .headers
                .insert(http::header::AUTHORIZATION, token.clone()),
            None => parts.headers.remove(http::header::AUTHORIZATION),
        };
        if parts.uri.scheme().is_none() || parts.uri.authority().is_none() {
            let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            parts.uri = Uri::try_from(format!("http://axle{path}"))?;
        }
        let head = Request::from_parts(parts, ());
        let Opened { first, rest } = body;
        let ends = rest.is_none();
        let (response, mut stream) = send.send_request(head, first.is_empty() && ends)?;
        if !first.is_empty() {
            stream.send_data(first, ends)?;
        }
        if let Some(rest) = rest {
            tokio::spawn(pump(rest, stream));
        }
        let response = response.await?;
        Ok(response.map(|recv| {
            Body::new(Received {
                recv,
                data_done: false,
            })
        }))
    }
}

/// Sends the rest of a client stream as it comes, no faster than the far
/// side takes it; a failed body resets the stream.
async fn pump(mut body: Body, mut stream: h2::SendStream<Bytes>) {
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(f) => f,
            Err(_) => return stream.send_reset(h2::Reason::CANCEL),
        };
        let frame = match frame.into_data() {
            Ok(mut data) => {
                while !data.is_empty() {
                    stream.reserve_capacity(data.len());
                    let granted = std::future::poll_fn(|cx| stream.poll_capacity(cx)).await;
                    let Some(Ok(n)) = granted else { return };
                    if stream
                        .send_data(data.split_to(n.min(data.len())), false)
                        .is_err()
                    {
                        return;
                    }
                }
                continue;
            }
            Err(frame) => frame,
        };
        if let Ok(trailers) = frame.into_trailers() {
            let _ = stream.send_trailers(trailers);
            return;
        }
    }
    let _ = stream.send_data(Bytes::new(), true);
}

async fn handshake(address: &str) -> Result<Sender, BoxError> {
    let unix = address
        .strip_prefix("unix://")
        .or_else(|| address.strip_prefix("unix:"))
        .or_else(|| address.starts_with('/').then_some(address));
    let send = match unix {
        Some(path) => spawn(
            builder()
                .handshake(UnixStream::connect(path).await?)
                .await?,
        ),
        None => {
            let host = address.strip_prefix("http://").unwrap_or(address);
            let tcp = TcpStream::connect(host).await?;
            tcp.set_nodelay(true)?;
            spawn(builder().handshake(tcp).await?)
        }
    };
    Ok(send)
}

/// HTTP/2 settings for forwarding: windows large enough that a camera's
/// multi-MiB image streams without a window update every 64 KiB (the
/// default), which cost a round trip each.
fn builder() -> h2::client::Builder {
    let mut b = h2::client::Builder::new();
    b.initial_window_size(2 << 20)
        .initial_connection_window_size(8 << 20);
    b
}

/// Drives a new connection in the background; it ends when the peer goes.
fn spawn<T>((send, connection): (Sender, h2::client::Connection<T, Bytes>)) -> Sender
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let _ = connection.await;
    });
    send
}

/// An answer, as a body: its data, then its trailers (gRPC status).
struct Received {
    recv: h2::RecvStream,
    data_done: bool,
}

impl http_body::Body for Received {
    type Data = Bytes;
    type Error = h2::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, h2::Error>>> {
        if !self.data_done {
            match ready!(self.recv.poll_data(cx)) {
                Some(Ok(data)) => {
                    let _ = self.recv.flow_control().release_capacity(data.len());
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => self.data_done = true,
            }
        }
        match ready!(self.recv.poll_trailers(cx)) {
            Ok(Some(trailers)) => Poll::Ready(Some(Ok(Frame::trailers(trailers)))),
            Ok(None) => Poll::Ready(None),
            Err(e) => Poll::Ready(Some(Err(e))),
        }
    }
}
