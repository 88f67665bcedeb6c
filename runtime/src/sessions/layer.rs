//! The session layer: sits in front of every gRPC service and, for
//! safety-monitored methods only, checks the caller's session before the call
//! reaches a resource.
//!
//! Which methods are monitored comes from the `safety_heartbeat_monitored`
//! option in our .proto files ([`axle_proto::is_safety_monitored`]). For
//! those, the layer reads the resource name from the request (field 1 of
//! every monitored request, checked at build time), validates and renews
//! `viam-sid` in the [`SessionTable`] and records the last user there (no
//! actor round trip), and names the resource in the `viam-smrn` response header.
//! Every other call passes straight through.

use super::SessionTable;
use axle_sdk_module::Api;
use axle_sdk_module::host::Stoppable;
use axle_sdk_module::host::caller::{self, Caller};
use axle_wire::Owner;
use axle_wire::named::{read_first, resource_name};
use futures::future::{BoxFuture, Either};
use http::{HeaderValue, Request, Response};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::task::futures::TaskLocalFuture;
use tonic::Status;
use tonic::body::Body;
use tower::{Layer, Service};

pub use axle_sdk_module::client::SID_HEADER;
/// Response header naming the safety-monitored resource a call drove.
pub const SMRN_HEADER: &str = "viam-smrn";

/// What the session layer asks of the robot: which API a gRPC service
/// serves, and the actuator a monitored call names.
pub trait Actuators: Send + Sync + 'static {
    /// The API that gRPC service `service` serves, whoever serves it.
    fn api_of_service(&self, service: &str) -> Option<Api>;
    /// The serving actuator `name` of `api`.
    fn actuator(&self, api: &Api, name: &str) -> Option<Stoppable>;
}

/// Adds session checks to a gRPC server.
#[derive(Clone)]
pub struct SessionLayer {
    robot: Arc<dyn Actuators>,
    sessions: Arc<SessionTable>,
}

impl SessionLayer {
    /// Checks monitored calls to `robot`'s resources against `sessions`.
    pub fn new(robot: Arc<dyn Actuators>, sessions: Arc<SessionTable>) -> Self {
        Self { robot, sessions }
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`SessionLayer`] wraps around the gRPC routes.
#[derive(Clone)]
pub struct SessionService<S> {
    inner: S,
    layer: SessionLayer,
}

impl<S> Service<Request<Body>> for SessionService<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Either<
        TaskLocalFuture<Option<Caller>, S::Future>,
        BoxFuture<'static, Result<Response<Body>, S::Error>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    /// Every call runs on behalf of its caller (session and connection),
    /// which drivers see: an input controller stamps its events with it.
    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let caller = caller_of(&req);
        let Some(api) = monitored_api(&*self.layer.robot, req.uri().path()) else {
            return Either::Left(caller::serve_as(caller, self.inner.call(req)));
        };
        // The clone is not ready; the instance that was polled ready serves this call.
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        let guarded = guard(ready, self.layer.clone(), api, req);
        Either::Right(Box::pin(caller::serve_as(caller, guarded)))
    }
}

/// Who makes a call: its session and its connection, if it has either.
fn caller_of(req: &Request<Body>) -> Option<Caller> {
    let session = req
        .headers()
        .get(SID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(Arc::from);
    let connection = axle_wire::connections::connection_of(req.extensions()).map(|c| c.get());
    (session.is_some() || connection.is_some()).then_some(Caller {
        session,
        connection,
    })
}

/// The API a monitored path belongs to (whoever serves it); `None` for
/// paths that are not monitored.
fn monitored_api(robot: &dyn Actuators, path: &str) -> Option<Api> {
    if !axle_proto::is_safety_monitored(path) {
        return None;
    }
    robot.api_of_service(crate::apis::service_of(path)?)
}

/// Checks the session of one monitored call, then runs it.
async fn guard<S>(
    mut inner: S,
    layer: SessionLayer,
    api: Api,
    req: Request<Body>,
) -> Result<Response<Body>, S::Error>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    let (parts, body) = req.into_parts();
    // The first message names the resource; a streamed monitored call
    // (an arm's streamed trajectory) keeps streaming after it.
    let opened = match read_first(body).await {
        Ok(opened) => opened,
        Err(status) => return Ok(status.into_http()),
    };
    let sid = parts
        .headers
        .get(SID_HEADER)
        // A sid that is not text names no session: it is expired.
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let resource = resource_name(&opened.first).and_then(|n| layer.robot.actuator(&api, &n));
    let smrn = resource
        .as_ref()
        .and_then(|r| HeaderValue::from_str(&r.name).ok());
    if sid.is_some() || resource.is_some() {
        let owner = Owner::of(&parts.extensions);
        let via = axle_wire::Via::of(&parts.extensions);
        let checked = layer
            .sessions
            .monitored(sid.as_deref(), &owner, &via, resource);
        if let Err(e) = checked {
            return Ok(with_smrn(Status::from(e).into_http(), smrn));
        }
    }
    let req = Request::from_parts(parts, opened.into_body());
    Ok(with_smrn(inner.call(req).await?, smrn))
}

fn with_smrn(mut response: Response<Body>, smrn: Option<HeaderValue>) -> Response<Body> {
    if let Some(v) = smrn {
        response.headers_mut().insert(SMRN_HEADER, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Axle's own APIs, and no resources.
    struct Apis(crate::apis::Services);

    impl Actuators for Apis {
        fn api_of_service(&self, service: &str) -> Option<Api> {
            self.0.api_of(service)
        }
        fn actuator(&self, _: &Api, _: &str) -> Option<Stoppable> {
            None
        }
    }

    #[test]
    fn only_monitored_paths_of_known_apis_are_guarded() {
        let robot = Apis(Default::default());
        let api = |path| monitored_api(&robot, path).map(|a| a.subtype);
        assert_eq!(
            api("/viam.component.motor.v1.MotorService/SetPower").as_deref(),
            Some("motor")
        );
        assert_eq!(
            api("/viam.component.base.v1.BaseService/Spin").as_deref(),
            Some("base")
        );
        assert_eq!(api("/viam.component.motor.v1.MotorService/Stop"), None);
        assert_eq!(api("/viam.robot.v1.RobotService/StopAll"), None);
    }
}
