//! The heartbeat fast path: `RobotService/SendSessionHeartbeat` is answered
//! here, right behind authentication, and goes no further.
//!
//! A heartbeat only renews its session in the [`SessionTable`]. Routing it
//! through the module router, the session layer, tonic's router and codec
//! would cost more than the renewal itself; a robot with thousands of
//! clients answers tens of thousands of heartbeats a second. Everything a
//! heartbeat must pass (origins, grpc-web, authentication) is in front of
//! this layer, so the answer is the same as the full path's.

use super::SessionTable;
use axle_proto::robot::SendSessionHeartbeatRequest;
use axle_wire::frame::{Frame as GrpcFrame, split_first};
use axle_wire::{Owner, Via};
use bytes::Bytes;
use futures::future::{BoxFuture, Either};
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt, Limited, StreamBody};
use prost::Message;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::Status;
use tonic::body::Body;
use tower::{Layer, Service};
use tracing::debug;

/// The one path this layer answers.
pub const HEARTBEAT_PATH: &str = "/viam.robot.v1.RobotService/SendSessionHeartbeat";
/// A heartbeat is a session id: anything larger is not one.
const MAX_REQUEST: usize = 4096;

/// Answers heartbeats from the session table; passes every other call on.
#[derive(Clone)]
pub struct HeartbeatLayer(pub Arc<SessionTable>);

impl<S> Layer<S> for HeartbeatLayer {
    type Service = Heartbeats<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Heartbeats {
            inner,
            table: self.0.clone(),
        }
    }
}

/// The service [`HeartbeatLayer`] wraps.
#[derive(Clone)]
pub struct Heartbeats<S> {
    inner: S,
    table: Arc<SessionTable>,
}

impl<S> Service<Request<Body>> for Heartbeats<S>
where
    S: Service<Request<Body>, Response = Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response<Body>, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if req.uri().path() != HEARTBEAT_PATH || !is_grpc(req.headers()) {
            return Either::Left(self.inner.call(req));
        }
        let table = self.table.clone();
        Either::Right(Box::pin(async move { Ok(heartbeat(&table, req).await) }))
    }
}

fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
}

async fn heartbeat(table: &SessionTable, req: Request<Body>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let renewed = match session_id(body).await {
        Ok(id) => renew(table, &id, &parts.extensions),
        Err(status) => Err(status),
    };
    match renewed {
        Ok(()) => ok(),
        Err(status) => status.into_http(),
    }
}

/// Renews session `id` for the caller of a request with `extensions`: what
/// every heartbeat does, whichever way it came in.
pub fn renew(table: &SessionTable, id: &str, extensions: &http::Extensions) -> Result<(), Status> {
    table
        .renew(id, &Owner::of(extensions), &Via::of(extensions))
        .map(drop)
        .map_err(|e| {
            debug!(session = %id, "heartbeat refused: session expired or unknown");
            Status::from(e)
        })
}

/// The request's one message, decoded.
async fn session_id(body: Body) -> Result<String, Status> {
    let bad = |why: &str| Status::invalid_argument(format!("not a heartbeat request: {why}"));
    let bytes = Limited::new(body, MAX_REQUEST)
        .collect()
        .await
        .map_err(|e| bad(&e.to_string()))?
        .to_bytes();
    let GrpcFrame {
        compressed,
        message,
        rest: after,
    } = split_first(&bytes)
        .map_err(|e| bad(&e.to_string()))?
        .ok_or_else(|| bad("no whole message"))?;
    if compressed {
        return Err(Status::unimplemented(
            "compressed heartbeats are not accepted",
        ));
    }
    if !after.is_empty() {
        return Err(bad("more than one message"));
    }
    let request = SendSessionHeartbeatRequest::decode(message).map_err(|e| bad(&e.to_string()))?;
    Ok(request.id)
}

/// SendSessionHeartbeatResponse {}: an empty message, then status 0.
fn ok() -> Response<Body> {
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let frames = [
        Ok::<_, Infallible>(Frame::data(Bytes::from_static(&[0, 0, 0, 0, 0]))),
        Ok(Frame::trailers(trailers)),
    ];
    let body = Body::new(StreamBody::new(futures::stream::iter(frames)));
    let mut response = Response::new(body);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(message: &[u8], flag: u8) -> Body {
        let mut b = vec![flag];
        b.extend_from_slice(&(message.len() as u32).to_be_bytes());
        b.extend_from_slice(message);
        Body::new(http_body_util::Full::new(Bytes::from(b)))
    }

    #[tokio::test]
    async fn a_heartbeat_body_gives_its_session_id_and_anything_else_a_clear_refusal() {
        let request = SendSessionHeartbeatRequest { id: "abc".into() }.encode_to_vec();
        assert_eq!(session_id(framed(&request, 0)).await.unwrap(), "abc");
        let refused = |body| async { session_id(body).await.unwrap_err() };
        let short = refused(Body::new(http_body_util::Full::new(Bytes::from_static(
            b"\0",
        ))))
        .await;
        assert_eq!(short.code(), tonic::Code::InvalidArgument);
        assert_eq!(
            refused(framed(&request, 1)).await.code(),
            tonic::Code::Unimplemented
        );
        let garbage = refused(framed(&[0xff, 0xff, 0xff], 0)).await;
        assert_eq!(garbage.code(), tonic::Code::InvalidArgument);
        let huge = refused(framed(&vec![0; MAX_REQUEST], 0)).await;
        assert!(
            huge.message().starts_with("not a heartbeat request"),
            "{huge:?}"
        );
    }
}
