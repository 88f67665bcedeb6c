//! Forwarding calls to a module on a bare HTTP/2 connection.
//!
//! A resource call is one small request. Sent through an HTTP/2 client stack,
//! its headers and its body leave in two writes (the body waits for flow
//! control capacity to be assigned), and the module, woken by the first,
//! sleeps again until the second. Here both are queued before the connection
//! flushes, so the request leaves in one write; the answer streams back as it
//! comes.

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body::Frame;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::net::UnixStream;
use tonic::body::Body;

/// A connection to a module for forwarding. Clones share it.
#[derive(Clone)]
pub struct Forwarder {
    send: h2::client::SendRequest<Bytes>,
}

impl Forwarder {
    /// Connects to the module serving on `socket`.
    pub async fn connect(socket: &Path) -> Result<Self, String> {
        let io = UnixStream::connect(socket)
            .await
            .map_err(|e| e.to_string())?;
        let (send, connection) = h2::client::handshake(io).await.map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            // Ends when the module goes away; its actor handles that.
            let _ = connection.await;
        });
        Ok(Self { send })
    }

    /// Sends one call, whose body has been read whole, and returns the answer.
    pub async fn call(&self, req: Request<Bytes>) -> Result<Response<Body>, h2::Error> {
        let mut send = self.send.clone().ready().await?;
        let (mut parts, body) = req.into_parts();
        if parts.uri.scheme().is_none() || parts.uri.authority().is_none() {
            let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            parts.uri = Uri::try_from(format!("http://module{path}")).unwrap_or_default();
        }
        let head = Request::from_parts(parts, ());
        let (response, mut stream) = send.send_request(head, body.is_empty())?;
        if !body.is_empty() {
            stream.send_data(body, true)?;
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

/// A module's answer, as a body: its data, then its trailers (gRPC status).
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
