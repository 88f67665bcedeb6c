//! The module router: a tower layer that sends each call for a modular
//! resource to that resource's proxy actor, and every other call on to
//! axle's own services.

use super::ProxyHandle;
use crate::grpc::named::{read_unary, resource_name, resource_subtype};
use crate::robot::Robot;
use futures::future::{BoxFuture, Either};
use http::{Request, Response};
use http_body_util::Full;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::body::Body;
use tower::{Layer, Service};

/// Routes calls for modular resources to their modules.
#[derive(Clone)]
pub struct RouteLayer {
    robot: Arc<Robot>,
}

impl RouteLayer {
    /// Routes calls for `robot`'s modular resources.
    pub fn new(robot: Arc<Robot>) -> Self {
        Self { robot }
    }
}

impl<S> Layer<S> for RouteLayer {
    type Service = RouteService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RouteService {
            inner,
            robot: self.robot.clone(),
        }
    }
}

/// The service [`RouteLayer`] wraps around axle's own services.
#[derive(Clone)]
pub struct RouteService<S> {
    inner: S,
    robot: Arc<Robot>,
}

impl<S> Service<Request<Body>> for RouteService<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response<Body>, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // Robots without modular resources pay one counter read, no more.
        let subtype = resource_subtype(req.uri().path());
        let Some(subtype) = subtype.filter(|_| self.robot.has_proxied()) else {
            return Either::Left(self.inner.call(req));
        };
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        let robot = self.robot.clone();
        Either::Right(Box::pin(route(ready, robot, subtype, req)))
    }
}

async fn route<S>(
    mut inner: S,
    robot: Arc<Robot>,
    subtype: &'static str,
    req: Request<Body>,
) -> Result<Response<Body>, S::Error>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    let (parts, body) = req.into_parts();
    let bytes = match read_unary(body).await {
        Ok(bytes) => bytes,
        Err(status) => return Ok(status.into_http()),
    };
    let target: Option<ProxyHandle> =
        resource_name(&bytes).and_then(|n| robot.proxied(subtype, &n));
    match target {
        Some(proxy) => {
            let req = Request::from_parts(parts, bytes);
            Ok(proxy.forward(req).await.unwrap_or_else(|s| s.into_http()))
        }
        None => {
            let req = Request::from_parts(parts, Body::new(Full::new(bytes)));
            inner.call(req).await
        }
    }
}
