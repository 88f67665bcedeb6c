//! Malformed requests are the caller's fault: tonic answers a message it
//! cannot decode with INTERNAL, which reads as a server bug. This layer
//! turns those answers into INVALID_ARGUMENT, keeping tonic's message.

use futures::TryFutureExt;
use futures::future::MapOk;
use http::{HeaderValue, Request, Response};
use std::task::{Context, Poll};
use tonic::body::Body;
use tower::{Layer, Service};

/// What tonic's decode errors start with, as sent (spaces percent-encoded).
const DECODE_FAILED: [&[u8]; 2] = [
    b"failed%20to%20decode%20Protobuf%20message",
    b"failed to decode Protobuf message",
];

/// Answers undecodable requests INVALID_ARGUMENT.
#[derive(Clone, Copy, Default)]
pub struct MalformedLayer;

impl<S> Layer<S> for MalformedLayer {
    type Service = Malformed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Malformed(inner)
    }
}

/// The service [`MalformedLayer`] wraps.
#[derive(Clone)]
pub struct Malformed<S>(S);

impl<S> Service<Request<Body>> for Malformed<S>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = MapOk<S::Future, fn(Response<Body>) -> Response<Body>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        self.0.call(req).map_ok(invalid_argument as fn(_) -> _)
    }
}

fn invalid_argument(mut response: Response<Body>) -> Response<Body> {
    let h = response.headers();
    let undecodable = h.get("grpc-status").is_some_and(|v| v == "13")
        && h.get("grpc-message")
            .is_some_and(|m| DECODE_FAILED.iter().any(|p| m.as_bytes().starts_with(p)));
    if undecodable {
        response
            .headers_mut()
            .insert("grpc-status", HeaderValue::from_static("3"));
    }
    response
}
