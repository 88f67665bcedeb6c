//! `ModularResource`: the actor that stands for a resource a module serves.
//!
//! Sessions, StopAll and shutdown reach it the way they reach a built-in
//! resource: its address takes the same [`Stop`] message. The module actor
//! tells it how to reach the module ([`Relink`]) and it publishes that link.
//! Every other call of the resource's API is forwarded on the published link
//! by [`ModularHandle::forward`], as it came, bytes and headers (with
//! `viam-sid`) untouched: no mailbox hop and no decoding on the hot path, and
//! a call never waits behind a Stop, nor a Stop behind calls. While the
//! module is down the calls answer UNAVAILABLE, and a module that does not
//! answer in time gets DEADLINE_EXCEEDED.

use super::forwarder::Forwarder;
use crate::resources::Stoppable;
use crate::resources::actor::Stop;
use actix::prelude::*;
use axle_proto::base::base_service_client::BaseServiceClient;
use axle_proto::motor::motor_service_client::MotorServiceClient;
use axle_sdk_module::ResourceError;
use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Request, Response};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tonic::Status;
use tonic::body::Body;
use tonic::transport::Channel;
use tracing::warn;

/// Methods that last as long as the motion or stream they start: these get
/// no call timeout, since a GoFor may rightly take minutes.
const OPEN_ENDED: &[&str] = &["GoFor", "GoTo", "MoveStraight", "Spin", "StreamEvents"];

/// The proxy for one modular resource.
pub struct ModularResource {
    name: Arc<str>,
    short: String,
    subtype: String,
    module: Arc<str>,
    link: Link,
    /// The link, for forwarding without a trip through the mailbox.
    published: Arc<RwLock<Link>>,
    call_timeout: Duration,
}

/// How the proxy reaches its module, or why it cannot.
#[derive(Clone)]
pub enum Link {
    /// The module is serving the resource.
    Up(Route),
    /// It is not, for this reason.
    Down(Arc<str>),
}

/// The two ways to the module: a tonic channel for typed calls (Stop), and a
/// bare HTTP/2 connection that forwards calls as they came.
#[derive(Clone)]
pub struct Route {
    /// For typed calls.
    pub channel: Channel,
    /// For forwarding.
    pub forwarder: Forwarder,
}

/// Sets how the proxy reaches its module.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Relink(pub Link);

impl ModularResource {
    /// The proxy for `api/short` served by `module`.
    pub fn new(
        api: &axle_sdk_module::Api,
        short: &str,
        module: Arc<str>,
        link: Link,
        call_timeout: Duration,
    ) -> Self {
        Self {
            name: format!("{api}/{short}").into(),
            short: short.into(),
            subtype: api.subtype.clone(),
            module,
            published: Arc::new(RwLock::new(link.clone())),
            link,
            call_timeout,
        }
    }

    fn unavailable(&self, why: &str) -> Status {
        unavailable(&self.name, &self.module, why)
    }
}

fn unavailable(name: &str, module: &str, why: &str) -> Status {
    Status::unavailable(format!(
        "{name} is served by module {module:?}, which {why}"
    ))
}

impl Actor for ModularResource {
    type Context = Context<Self>;
}

impl Handler<Relink> for ModularResource {
    type Result = ();

    fn handle(&mut self, Relink(link): Relink, _: &mut Context<Self>) {
        *self.published.write().unwrap_or_else(|e| e.into_inner()) = link.clone();
        self.link = link;
    }
}

impl Handler<Stop> for ModularResource {
    type Result = ResponseFuture<Result<(), ResourceError>>;

    fn handle(&mut self, stop: Stop, _: &mut Context<Self>) -> Self::Result {
        let channel = match &self.link {
            Link::Up(route) => route.channel.clone(),
            Link::Down(why) => {
                let e = ResourceError::Unavailable(self.unavailable(why).message().into());
                return Box::pin(async move { Err(e) });
            }
        };
        let (name, short, subtype) = (self.name.clone(), self.short.clone(), self.subtype.clone());
        let timeout = self.call_timeout;
        Box::pin(async move {
            let call: BoxFuture<'_, Result<(), Status>> = match subtype.as_str() {
                "motor" => Box::pin(async {
                    let req = axle_proto::motor::StopRequest {
                        name: short,
                        extra: None,
                    };
                    MotorServiceClient::new(channel).stop(req).await.map(drop)
                }),
                "base" => Box::pin(async {
                    let req = axle_proto::base::StopRequest {
                        name: short,
                        extra: None,
                    };
                    BaseServiceClient::new(channel).stop(req).await.map(drop)
                }),
                _ => return Ok(()),
            };
            let outcome = tokio::time::timeout(timeout, call)
                .await
                .map_err(|_| {
                    Status::deadline_exceeded(format!(
                        "module did not confirm Stop within {timeout:?}"
                    ))
                })
                .and_then(|r| r);
            outcome.map_err(|status| {
                warn!(resource = %name, cause = stop.cause, error = %status.message(), "modular resource did not stop");
                ResourceError::from_status(&status)
            })
        })
    }
}

/// A modular resource as the robot holds it.
#[derive(Clone)]
pub struct ModularHandle {
    name: Arc<str>,
    subtype: Arc<str>,
    module: Arc<str>,
    link: Arc<RwLock<Link>>,
    call_timeout: Duration,
    addr: Addr<ModularResource>,
}

impl ModularHandle {
    /// Starts the proxy actor.
    pub fn start(proxy: ModularResource) -> Self {
        Self {
            name: proxy.name.clone(),
            subtype: proxy.subtype.as_str().into(),
            module: proxy.module.clone(),
            link: proxy.published.clone(),
            call_timeout: proxy.call_timeout,
            addr: proxy.start(),
        }
    }

    /// The module serving the resource.
    pub fn module(&self) -> &str {
        &self.module
    }

    /// Forwards one call of the resource's API to the module, as it is.
    pub fn forward(
        &self,
        req: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Body>, Status>> + Send + 'static {
        let link = self.link.read().unwrap_or_else(|e| e.into_inner()).clone();
        let method = req
            .uri()
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let timeout = (!OPEN_ENDED.contains(&method.as_str())).then_some(self.call_timeout);
        let (name, module) = (self.name.clone(), self.module.clone());
        async move {
            let forwarder = match link {
                Link::Up(route) => route.forwarder,
                Link::Down(why) => return Err(unavailable(&name, &module, &why)),
            };
            let call = forwarder.call(req);
            let outcome = match timeout {
                Some(t) => tokio::time::timeout(t, call).await.map_err(|_| {
                    Status::deadline_exceeded(format!(
                        "module {module:?} did not answer {method} on {name} within {t:?}; it may be hung"
                    ))
                })?,
                None => call.await,
            };
            outcome.map_err(|e| {
                Status::unavailable(format!("cannot reach module {module:?} for {name}: {e}"))
            })
        }
    }

    /// Sets how the proxy reaches its module.
    pub fn relink(&self, link: Link) {
        self.addr.do_send(Relink(link));
    }

    /// The resource as an actuator, if its API moves.
    pub fn stoppable(&self) -> Option<Stoppable> {
        matches!(&*self.subtype, "motor" | "base").then(|| Stoppable {
            name: self.name.clone(),
            stopper: self.addr.clone().recipient(),
        })
    }
}
