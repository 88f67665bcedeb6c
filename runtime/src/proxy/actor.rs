//! `ProxyActor`: the actor that stands for a resource served elsewhere, by a
//! module or by a remote part.
//!
//! Sessions, StopAll and shutdown reach it the way they reach a built-in
//! resource: its address takes the same [`Stop`] message, which it sends on
//! as a typed Stop. The module's or the remote's actor tells it how to reach
//! the resource ([`Relink`]) and it publishes that link. Every other call of
//! the resource's API is forwarded on the published link by
//! [`ProxyHandle::forward`]: no mailbox hop on the hot path, and a call never
//! waits behind a Stop, nor a Stop behind calls. While the link is down the
//! calls answer UNAVAILABLE, and an answer that does not come in time gets
//! DEADLINE_EXCEEDED.

use super::forwarder::Forwarder;
use crate::resources::Stoppable;
use crate::resources::actor::Stop;
use actix::prelude::*;
use axle_sdk_module::ResourceError;
use axle_sdk_module::client::SID_HEADER;
use axle_sdk_module::client::{SessionChannel, error_chain};
use axle_wire::named::{Opened, with_name};
use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Request, Response};
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tonic::Status;
use tonic::body::Body;
use tonic::transport::Channel;
use tower::{Service, ServiceExt};
use tracing::warn;

/// Methods that last as long as the motion or stream they start: these get
/// no call timeout, since a GoFor may rightly take minutes.
const OPEN_ENDED: &[&str] = &["GoFor", "GoTo", "MoveStraight", "Spin", "StreamEvents"];

/// How the proxy reaches its resource, or why it cannot.
#[derive(Clone)]
pub enum Link {
    /// The resource is being served.
    Up(Route),
    /// It is not, for this reason.
    Down(Arc<str>),
}

/// Where a proxied resource is served.
#[derive(Clone)]
pub enum Route {
    /// By a module: typed calls on a tonic channel; client calls forwarded
    /// as they came, headers and `viam-sid` too, on a bare HTTP/2 connection.
    Module {
        /// For typed calls.
        channel: Channel,
        /// For forwarding.
        forwarder: Forwarder,
    },
    /// By a remote part, through this part's client of it: calls carry this
    /// part's session on the remote, never the caller's. Calls that need no
    /// session go on a bare HTTP/2 connection, if there is one (over
    /// WebRTC, every call goes on the client's peer connection).
    Part {
        /// For typed calls and monitored calls.
        channel: SessionChannel,
        /// For the other calls.
        forwarder: Option<Forwarder>,
    },
}

/// Sets how the proxy reaches its resource.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Relink(pub Link);

/// Who a proxied resource is, here and where it is served.
pub struct Proxied {
    /// Its API.
    pub api: axle_sdk_module::Api,
    /// Its name here (`left`, or `sub:left` for a remote's).
    pub name: String,
    /// Its name where it is served (`left`).
    pub there: String,
    /// Who serves it, for messages: `module "diff-drive"`, `part "sub"`.
    pub via: Arc<str>,
    /// The gRPC service of its API, if it is an actuator: where its Stop
    /// goes.
    pub stop_service: Option<String>,
}

/// The proxy for one resource served elsewhere.
pub struct ProxyActor {
    name: Arc<str>,
    there: Arc<str>,
    stop_service: Option<Arc<str>>,
    via: Arc<str>,
    /// How to reach the resource; handles read it to forward without a
    /// trip through the mailbox.
    link: Arc<RwLock<Link>>,
    call_timeout: Duration,
}

impl ProxyActor {
    /// The proxy for `who`, reached by `link`.
    pub fn new(who: Proxied, link: Link, call_timeout: Duration) -> Self {
        Self {
            name: format!("{}/{}", who.api, who.name).into(),
            there: who.there.into(),
            stop_service: who.stop_service.map(Into::into),
            via: who.via,
            link: Arc::new(RwLock::new(link)),
            call_timeout,
        }
    }
}

fn unavailable(name: &str, via: &str, why: &str) -> Status {
    Status::unavailable(format!("{name} is served by {via}, which {why}"))
}

impl Actor for ProxyActor {
    type Context = Context<Self>;
}

impl Handler<Relink> for ProxyActor {
    type Result = ();

    fn handle(&mut self, Relink(link): Relink, _: &mut Context<Self>) {
        *self.link.write().unwrap_or_else(|e| e.into_inner()) = link;
    }
}

impl Handler<Stop> for ProxyActor {
    type Result = ResponseFuture<Result<(), ResourceError>>;

    fn handle(&mut self, stop: Stop, _: &mut Context<Self>) -> Self::Result {
        // Only actuators' proxies are handed Stop; anything else has none.
        let Some(service) = self.stop_service.clone() else {
            return Box::pin(async { Ok(()) });
        };
        let stop_request = AnyStop {
            name: self.there.to_string(),
        };
        let path = format!("/{service}/Stop");
        let call = typed_call(
            &self.link,
            &self.name,
            &self.via,
            self.call_timeout,
            path,
            stop_request,
        );
        let name = self.name.clone();
        Box::pin(async move {
            call.await.map_err(|status| {
                warn!(resource = %name, cause = stop.cause, error = %status.message(), "proxied resource did not stop");
                ResourceError::from_status(&status)
            })
        })
    }
}

/// A Stop request of any actuator API: every one is `{name = 1, extra =
/// 99}`.
#[derive(Clone, PartialEq, prost::Message)]
struct AnyStop {
    #[prost(string, tag = "1")]
    name: String,
}

/// One unary call of `path` with `message` on the route `link` leads to,
/// bounded by `timeout`, without the API's generated client: Stop of any
/// actuator, and the commands of a service that drives a proxied resource.
fn typed_call<M: prost::Message + Send + 'static>(
    link: &RwLock<Link>,
    name: &str,
    via: &Arc<str>,
    timeout: Duration,
    path: String,
    message: M,
) -> BoxFuture<'static, Result<(), Status>> {
    let call = match link.read().unwrap_or_else(|e| e.into_inner()).clone() {
        Link::Down(why) => {
            let status = unavailable(name, via, &why);
            return Box::pin(async move { Err(status) });
        }
        Link::Up(Route::Module { channel, .. }) => raw_unary(channel, path.clone(), message),
        Link::Up(Route::Part { channel, .. }) => raw_unary(channel, path.clone(), message),
    };
    let via = via.clone();
    Box::pin(async move {
        tokio::time::timeout(timeout, call).await.map_err(|_| {
            Status::deadline_exceeded(format!("{via} did not answer {path} within {timeout:?}"))
        })?
    })
}

/// One unary call of `path` with `message`, on any channel; the answer's
/// content is not read.
fn raw_unary<T, M>(channel: T, path: String, message: M) -> BoxFuture<'static, Result<(), Status>>
where
    T: tonic::client::GrpcService<Body> + Send + 'static,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: http_body::Body<Data = Bytes> + Send + 'static,
    <T::ResponseBody as http_body::Body>::Error: Into<tonic::codegen::StdError> + Send,
    T::Future: Send,
    M: prost::Message + Send + 'static,
{
    Box::pin(async move {
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(format!("cannot send {path}: {}", e.into())))?;
        let path = http::uri::PathAndQuery::try_from(path)
            .map_err(|e| Status::internal(format!("bad path: {e}")))?;
        let codec = tonic_prost::ProstCodec::<M, ()>::default();
        grpc.unary(tonic::Request::new(message), path, codec)
            .await
            .map(drop)
    })
}

/// A proxied resource as the robot holds it.
#[derive(Clone)]
pub struct ProxyHandle {
    name: Arc<str>,
    there: Arc<str>,
    stoppable: bool,
    via: Arc<str>,
    link: Arc<RwLock<Link>>,
    call_timeout: Duration,
    addr: Addr<ProxyActor>,
}

impl ProxyHandle {
    /// Starts the proxy actor.
    pub fn start(proxy: ProxyActor) -> Self {
        Self {
            name: proxy.name.clone(),
            there: proxy.there.clone(),
            stoppable: proxy.stop_service.is_some(),
            via: proxy.via.clone(),
            link: proxy.link.clone(),
            call_timeout: proxy.call_timeout,
            addr: proxy.start(),
        }
    }

    /// Who serves the resource: `module "diff-drive"`, `part "sub"`.
    pub fn via(&self) -> &str {
        &self.via
    }

    /// Forwards one call of the resource's API, whose first message has
    /// been read, to where the resource is served.
    pub fn forward(
        &self,
        req: Request<Opened>,
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
        let (name, there, via) = (self.name.clone(), self.there.clone(), self.via.clone());
        async move {
            let route = match link {
                Link::Up(route) => route,
                Link::Down(why) => return Err(unavailable(&name, &via, &why)),
            };
            let call = send(route, req, &there);
            let outcome = match timeout {
                Some(t) => tokio::time::timeout(t, call).await.map_err(|_| {
                    Status::deadline_exceeded(format!(
                        "{via} did not answer {method} on {name} within {t:?}; it may be hung"
                    ))
                })?,
                None => call.await,
            };
            outcome.map_err(|e| {
                Status::unavailable(format!(
                    "cannot reach {via} for {name}: {}",
                    error_chain(&*e)
                ))
            })
        }
    }

    /// Sets how the proxy reaches its resource.
    pub fn relink(&self, link: Link) {
        self.addr.do_send(Relink(link));
    }

    /// Its name where it is served.
    pub fn there(&self) -> &str {
        &self.there
    }

    /// Sends one unary call of `path` with `message` to where the resource
    /// is served, as a typed call (a sub-part's under this part's session),
    /// bounded by the call timeout. The message names the resource as it
    /// is named there ([`Self::there`]).
    pub fn unary<M: prost::Message + Send + 'static>(
        &self,
        path: String,
        message: M,
    ) -> BoxFuture<'static, Result<(), Status>> {
        typed_call(
            &self.link,
            &self.name,
            &self.via,
            self.call_timeout,
            path,
            message,
        )
    }

    /// Opens StreamEvents on the proxied input controller for `controls`
    /// (every event type): for a remote control whose controller is served
    /// elsewhere. The stream ends when the module or the link goes.
    pub fn stream_events(
        &self,
        controls: &[&str],
    ) -> impl Future<
        Output = Result<
            tonic::Streaming<axle_proto::inputcontroller::StreamEventsResponse>,
            Status,
        >,
    > + Send
    + 'static {
        use axle_proto::inputcontroller::input_controller_service_client::InputControllerServiceClient as Client;
        use axle_proto::inputcontroller::{StreamEventsRequest, stream_events_request::Events};
        let link = self.link.read().unwrap_or_else(|e| e.into_inner()).clone();
        let request = StreamEventsRequest {
            controller: self.there.to_string(),
            events: controls
                .iter()
                .map(|c| Events {
                    control: (*c).into(),
                    events: vec![axle_sdk_module::input::ALL_EVENTS.into()],
                    cancelled_events: Vec::new(),
                })
                .collect(),
            extra: None,
        };
        let (name, via) = (self.name.clone(), self.via.clone());
        async move {
            let opened = match link {
                Link::Down(why) => return Err(unavailable(&name, &via, &why)),
                Link::Up(Route::Module { channel, .. }) => {
                    Client::new(channel).stream_events(request).await
                }
                Link::Up(Route::Part { channel, .. }) => {
                    Client::new(channel).stream_events(request).await
                }
            };
            opened.map(tonic::Response::into_inner)
        }
    }

    /// The resource as an actuator, if its API moves.
    pub fn stoppable(&self) -> Option<Stoppable> {
        self.stoppable.then(|| Stoppable {
            name: self.name.clone(),
            stopper: self.addr.clone().recipient(),
        })
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Sends a call on `route`. A module gets it as it came; a remote part gets
/// it under its own name for the resource and without the caller's
/// `viam-sid` and token, which mean nothing there: this part's client adds
/// its own token, and its own session on a monitored call.
async fn send(route: Route, req: Request<Opened>, there: &str) -> Result<Response<Body>, BoxError> {
    let (mut channel, forwarder) = match route {
        Route::Module { forwarder, .. } => return forwarder.call(req).await,
        Route::Part { channel, forwarder } => (channel, forwarder),
    };
    let (mut parts, Opened { first, rest }) = req.into_parts();
    let first = with_name(&first, there).ok_or("the request is not a plain gRPC message")?;
    parts.headers.remove(SID_HEADER);
    parts.headers.remove(http::header::AUTHORIZATION);
    // The body grew: a length a previous hop added no longer holds.
    parts.headers.remove(http::header::CONTENT_LENGTH);
    let body = Opened { first, rest };
    if let Some(forwarder) =
        forwarder.filter(|_| !axle_proto::is_safety_monitored(parts.uri.path()))
    {
        return forwarder.call(Request::from_parts(parts, body)).await;
    }
    let req = Request::from_parts(parts, body.into_body());
    channel.ready().await?.call(req).await
}
