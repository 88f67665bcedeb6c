//! The control page, served from the binary on the robot's own port: no
//! Node.js on the robot, no request leaving the machine. Every gRPC call is
//! a POST, so a GET or HEAD is a request for the page.

use futures::future::{BoxFuture, FutureExt};
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::task::{Context, Poll};
use tonic::body::Body;
use tower::{Layer, Service};

/// The page's files: path, content type, bytes (built by `npm run build` in
/// `runtime/web`, committed, so building axle needs no Node.js).
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "/",
        "text/html; charset=utf-8",
        include_bytes!("../../web/dist/index.html"),
    ),
    (
        "/app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/dist/app.js"),
    ),
];

/// Serves the page's files to GET and HEAD requests.
#[derive(Clone, Copy, Debug, Default)]
pub struct PageLayer;

impl<S> Layer<S> for PageLayer {
    type Service = Page<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Page(inner)
    }
}

/// The service [`PageLayer`] wraps.
#[derive(Clone, Debug)]
pub struct Page<S>(S);

impl<S> Service<Request<Body>> for Page<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return self.0.call(req).boxed();
        }
        let path = match req.uri().path() {
            "/index.html" => "/",
            p => p,
        };
        let response = match FILES.iter().find(|(p, _, _)| *p == path) {
            Some((_, kind, bytes)) => file(kind, bytes, req.method() == Method::HEAD),
            None => not_found(path),
        };
        futures::future::ready(Ok(response)).boxed()
    }
}

fn file(kind: &'static str, bytes: &'static [u8], head: bool) -> Response<Body> {
    let body = if head {
        Body::empty()
    } else {
        Body::new(http_body_util::Full::new(bytes::Bytes::from_static(bytes)))
    };
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // The page talks to its own origin only.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'"),
    );
    r
}

fn not_found(path: &str) -> Response<Body> {
    let mut r = Response::new(Body::new(http_body_util::Full::new(bytes::Bytes::from(
        format!("no page at {path}; the control page is at /\n"),
    ))));
    *r.status_mut() = StatusCode::NOT_FOUND;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}
