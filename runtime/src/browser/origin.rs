//! Which web pages may call the robot. A browser names the page a request
//! comes from in `Origin`; any web page the operator visits could otherwise
//! drive a robot on the LAN (upstream accepts grpc-web from any origin).
//! A request from an origin not allowed is refused here, before it reaches
//! a service: CORS headers alone would not stop it, they only hide the
//! answer from the page after the motor has moved.
//!
//! Allowed: the page's own origin (the one axle serves, as the `Host` the
//! browser used), its loopback spellings (`localhost`, `127.0.0.1`,
//! `[::1]` on the same port), and `network.cors_origins`. A request
//! without `Origin` is not a browser's, and passes.

use futures::future::{BoxFuture, FutureExt};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::body::Body;
use tower::{Layer, Service};
use tracing::warn;

/// The origins allowed beside the page's own.
#[derive(Clone, Debug, Default)]
pub struct Origins {
    extra: Arc<[String]>,
}

impl Origins {
    /// The page's own origin, plus `extra` (`network.cors_origins`).
    pub fn new(extra: &[String]) -> Self {
        Self {
            extra: extra.iter().map(|o| o.to_ascii_lowercase()).collect(),
        }
    }

    /// Whether a request for `host` (its `Host` or `:authority`) may come
    /// from `origin`.
    pub fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.to_ascii_lowercase();
        if self.extra.contains(&origin) {
            return true;
        }
        let Some(authority) = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
        else {
            return false;
        };
        let Some(host) = host.map(str::to_ascii_lowercase) else {
            return false;
        };
        if authority == host {
            return true;
        }
        // The same port on a loopback name: the page opened as localhost,
        // axle reached as 127.0.0.1, or the other way round.
        let (origin_host, origin_port) = split_port(authority);
        let (host_name, host_port) = split_port(&host);
        is_loopback(origin_host) && is_loopback(host_name) && origin_port == host_port
    }
}

fn split_port(authority: &str) -> (&str, &str) {
    match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h, p),
        _ => (authority, ""),
    }
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "localhost" | "[::1]") || host.starts_with("127.")
}

/// Refuses requests from origins not allowed, answers CORS preflights,
/// and marks allowed answers for the browser.
#[derive(Clone, Debug)]
pub struct OriginLayer(pub Origins);

impl<S> Layer<S> for OriginLayer {
    type Service = OriginCheck<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OriginCheck {
            origins: self.0.clone(),
            inner,
        }
    }
}

/// The service [`OriginLayer`] wraps.
#[derive(Clone, Debug)]
pub struct OriginCheck<S> {
    origins: Origins,
    inner: S,
}

impl<S> Service<Request<Body>> for OriginCheck<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let Some(origin) = req.headers().get(header::ORIGIN).cloned() else {
            return self.inner.call(req).boxed();
        };
        let host = req
            .uri()
            .authority()
            .map(|a| a.as_str().to_string())
            .or_else(|| header_text(req.headers(), header::HOST));
        let origin_text = origin.to_str().unwrap_or("");
        if !self.origins.allows(origin_text, host.as_deref()) {
            warn!(
                origin = origin_text,
                path = req.uri().path(),
                "refused a call from a web page of another origin"
            );
            return futures::future::ready(Ok(refused(origin_text))).boxed();
        }
        if req.method() == Method::OPTIONS {
            return futures::future::ready(Ok(preflight(&origin, req.headers()))).boxed();
        }
        let call = self.inner.call(req);
        async move {
            let mut response = call.await?;
            allow(response.headers_mut(), &origin);
            Ok(response)
        }
        .boxed()
    }
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The headers an allowed answer carries.
fn allow(headers: &mut HeaderMap, origin: &HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("grpc-status, grpc-message, grpc-status-details-bin"),
    );
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}

fn preflight(origin: &HeaderValue, request: &HeaderMap) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let h = response.headers_mut();
    allow(h, origin);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, GET, OPTIONS"),
    );
    let asked = request
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_static(
                "content-type, x-grpc-web, x-user-agent, authorization, viam-sid",
            )
        });
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked);
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    response
}

/// 403, with the gRPC status in the headers too, so gRPC and grpc-web
/// clients read the reason.
fn refused(origin: &str) -> Response<Body> {
    let message = format!(
        "a page from origin {origin} may not call this robot; allow it in network.cors_origins"
    );
    let mut response = Response::new(Body::new(http_body_util::Full::new(bytes::Bytes::from(
        message.clone(),
    ))));
    *response.status_mut() = StatusCode::FORBIDDEN;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert("grpc-status", HeaderValue::from_static("7"));
    if let Ok(v) = HeaderValue::from_str(&percent_encode(&message)) {
        h.insert("grpc-message", v);
    }
    response
}

/// gRPC's percent-encoding of a message.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b' '..=b'~' if b != b'%' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_loopback_and_listed_origins_pass_others_do_not() {
        let o = Origins::new(&["https://dash.example.com".into()]);
        assert!(o.allows("http://localhost:8080", Some("localhost:8080")));
        assert!(o.allows("http://localhost:8080", Some("127.0.0.1:8080")));
        assert!(o.allows("http://robot.lan:8080", Some("robot.lan:8080")));
        assert!(o.allows("https://dash.example.com", Some("robot.lan:8080")));
        assert!(
            !o.allows("http://localhost:9000", Some("localhost:8080")),
            "another port is another page"
        );
        assert!(!o.allows("http://evil.example", Some("localhost:8080")));
        assert!(!o.allows("null", Some("localhost:8080")));
        assert!(!o.allows("http://localhost:8080", None));
    }
}
