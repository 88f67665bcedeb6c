//! How a client's calls travel: an HTTP/2 connection, or a WebRTC peer
//! connection's data channel.

use futures::future::BoxFuture;
use futures::{FutureExt, TryFutureExt};
use http::{Request, Response};
use std::task::{Context, Poll};
use tonic::body::Body;
use tonic::transport::Channel;
use tower::Service;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The connection a client's calls go over.
#[derive(Clone)]
pub enum Transport {
    /// gRPC over HTTP/2 (TCP or a Unix socket).
    Direct(Channel),
    /// gRPC over a WebRTC data channel.
    #[cfg(feature = "webrtc")]
    WebRtc(crate::webrtc::ClientChannel),
}

impl Transport {
    /// Whether calls go over WebRTC.
    pub fn is_webrtc(&self) -> bool {
        !matches!(self, Self::Direct(_))
    }
}

impl Service<Request<Body>> for Transport {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        match self {
            Self::Direct(c) => c.poll_ready(cx).map_err(Into::into),
            #[cfg(feature = "webrtc")]
            Self::WebRtc(c) => c.poll_ready(cx),
        }
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        match self {
            Self::Direct(c) => c.call(req).map_err(Into::into).boxed(),
            #[cfg(feature = "webrtc")]
            Self::WebRtc(c) => c.call(req),
        }
    }
}
