//! The router: a tower layer that sends each call for a resource served
//! elsewhere (by a module or a sub-part) to that resource's proxy, and every
//! other call on to axle's own services.
//!
//! A call's service names its API (`crate::apis::Services`, which knows
//! the APIs modules and sub-parts serve, `.proto` or not); its first message
//! names the resource. Client streams keep streaming: only the first message
//! is read here. A name that belongs to a resource of another API, or to no
//! resource of an API only others serve, is NOT_FOUND here, with why.

use crate::apis::{is_own, service_of};
use crate::robot::{Robot, Target};
use axle_sdk_module::Api;
use axle_wire::named::{Opened, read_first, resource_name};
use futures::future::{BoxFuture, Either};
use http::{Request, Response};
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::Status;
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
        // Robots without proxied resources pay one counter read, no more.
        let api = service_of(req.uri().path())
            .filter(|_| self.robot.has_proxied())
            .and_then(|service| self.robot.services.api_of(service));
        let Some(api) = api else {
            return Either::Left(self.inner.call(req));
        };
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        let robot = self.robot.clone();
        Either::Right(Box::pin(route(ready, robot, api, req)))
    }
}

async fn route<S>(
    mut inner: S,
    robot: Arc<Robot>,
    api: Api,
    req: Request<Body>,
) -> Result<Response<Body>, S::Error>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    let (parts, body) = req.into_parts();
    let opened = match read_first(body).await {
        Ok(opened) => opened,
        Err(status) => return Ok(status.into_http()),
    };
    let name = resource_name(&opened.first).unwrap_or_default();
    match robot.target(&api, &name) {
        Target::Proxied(proxy) => {
            let req = Request::from_parts(parts, opened);
            Ok(proxy.forward(req).await.unwrap_or_else(|s| s.into_http()))
        }
        Target::OtherApi(other) => {
            Ok(Status::not_found(format!("{name:?} is a {other}, not a {api}")).into_http())
        }
        Target::Missing if !is_own(&api) => {
            Ok(Status::not_found(format!("no {api} named {name:?}")).into_http())
        }
        Target::Own | Target::Missing => {
            let req = Request::from_parts(parts, Opened::into_body(opened));
            inner.call(req).await
        }
    }
}
