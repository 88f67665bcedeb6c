//! `RemoteActor`: one per remote part. It holds this part's client of the
//! sub-part, keeps a proxy for each of the sub-part's resources, and decides
//! what happens when the link is made, checked, lost and made again.
//!
//! - Connect: dial with the Rust `RobotClient` (sessions on: this part holds
//!   its own session on the sub-part), list its resources, start a proxy for
//!   each as `<remote>:<name>`.
//! - Check: every `connection_check_interval`, ResourceNames bounded by the
//!   same time. New resources appear; vanished ones answer UNAVAILABLE.
//! - Lost ([`RemoteActor::lost`]): the proxies answer UNAVAILABLE, and the
//!   actor reconnects with a backoff from 100 ms, doubling to 5 s. The
//!   sub-part, for its part, stops what this part drove there when this
//!   part's session expires.

use crate::backoff::Backoff;
use crate::config::RemoteConfig;
use crate::proxy::forwarder::Forwarder;
use crate::proxy::{Link, Proxied, ProxyActor, ProxyHandle, Route};
use crate::resources::stop_together;
use crate::robot::{ResourceEntry, ResourceState, Robot};
use actix::prelude::*;
use axle_proto::common::ResourceName;
use axle_sdk_module::Api;
use axle_sdk_module::client::{ApiKey as ClientKey, Options, RobotClient};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tracing::{info, warn};

/// Reconnects: 100 ms after the first failure, doubling to 5 s.
const RECONNECTS: Backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
/// How long dialing the sub-part may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(5);

/// The actor that links this part to one sub-part.
pub struct RemoteActor {
    config: RemoteConfig,
    via: Arc<str>,
    robot: Arc<Robot>,
    client: Option<PartLink>,
    /// Proxies by the sub-part's name for the resource.
    proxies: HashMap<String, ProxyHandle>,
    reconnects: Backoff,
    down_since: Option<Instant>,
    checking: bool,
    check: Option<SpawnHandle>,
    first_try: Option<Vec<oneshot::Sender<()>>>,
}

impl RemoteActor {
    /// The actor for `config`, serving the sub-part's resources in `robot`.
    pub fn new(config: RemoteConfig, robot: Arc<Robot>) -> Self {
        Self {
            via: format!("part {:?}", config.name).into(),
            config,
            robot,
            client: None,
            proxies: HashMap::new(),
            reconnects: RECONNECTS,
            down_since: Some(Instant::now()),
            checking: false,
            check: None,
            first_try: Some(Vec::new()),
        }
    }

    fn connect(&mut self, ctx: &mut Context<Self>) {
        let address = self.config.address.clone();
        let api_key = self.config.auth.as_ref().map(|k| ClientKey {
            id: k.id.clone(),
            secret: k.secret.clone(),
        });
        let webrtc = self.config.webrtc;
        let addr = ctx.address();
        let (robot, via) = (self.robot.clone(), self.via.to_string());
        actix::spawn(async move {
            let options = Options {
                dial_timeout: DIAL_TIMEOUT,
                disable_sessions: false,
                api_key,
                webrtc,
            };
            let outcome = async {
                let client = RobotClient::connect(&address, options)
                    .await
                    .map_err(|e| e.to_string())?;
                let names = client
                    .resource_names()
                    .await
                    .map_err(|s| format!("ResourceNames failed: {}", s.message()))?;
                // Which service each of its APIs is served by, so calls of
                // any API, even one axle has no .proto for, are forwarded.
                let subtypes = client
                    .robot()
                    .resource_rpc_subtypes(axle_proto::robot::ResourceRpcSubtypesRequest {})
                    .await
                    .map_err(|s| format!("ResourceRPCSubtypes failed: {}", s.message()))?
                    .into_inner()
                    .resource_rpc_subtypes;
                for rpc in subtypes {
                    if let Some(n) = rpc.subtype {
                        let api = Api {
                            namespace: n.namespace,
                            kind: n.r#type,
                            subtype: n.subtype,
                        };
                        robot.services.learn(&rpc.proto_service, &api, &via);
                    }
                }
                // Over WebRTC every call takes the peer connection.
                let forwarder = match client.is_webrtc() {
                    true => None,
                    false => Some(
                        Forwarder::connect(&address)
                            .await?
                            .authorized(client.channel().token().cloned()),
                    ),
                };
                Ok(((client, forwarder), names))
            }
            .await;
            addr.do_send(Connected(outcome));
        });
    }

    fn tried(&mut self) {
        for w in self.first_try.take().into_iter().flatten() {
            let _ = w.send(());
        }
    }

    /// Starts, relinks or retires a proxy for each of the sub-part's
    /// resources, so that this part serves exactly what the sub-part does.
    fn sync(&mut self, names: Vec<ResourceName>) {
        let Some((client, forwarder)) = &self.client else {
            return;
        };
        let mut seen = Vec::new();
        for rn in names {
            // Its own sub-parts' links and the like are not resources here.
            if rn.r#type != "component" && rn.r#type != "service" {
                continue;
            }
            let api = Api {
                namespace: rn.namespace,
                kind: rn.r#type,
                subtype: rn.subtype,
            };
            let local = self.config.local_name(&rn.name);
            let link = Link::Up(Route::Part {
                channel: client.channel(),
                forwarder: forwarder.clone(),
            });
            seen.push(rn.name.clone());
            if let Some(proxy) = self.proxies.get(&rn.name) {
                proxy.relink(link);
                self.robot.set_problem(&local, None);
                continue;
            }
            if self.robot.is_serving(&local) {
                warn!(remote = %self.config.name, resource = %local, "a local resource has this name; the remote's is not served");
                continue;
            }
            let who = Proxied {
                stop_service: self.robot.services.stop_service(&api),
                api: api.clone(),
                name: local.clone(),
                there: rn.name.clone(),
                via: self.via.clone(),
            };
            let proxy = ProxyHandle::start(ProxyActor::new(who, link, self.config.call_timeout));
            self.robot.insert(ResourceEntry::elsewhere(
                local,
                api,
                self.config.name.as_str().into(),
                ResourceState::Proxied(proxy.clone()),
            ));
            self.proxies.insert(rn.name, proxy);
        }
        for (there, proxy) in &self.proxies {
            if !seen.contains(there) {
                let why = "no longer has it";
                proxy.relink(Link::Down(why.into()));
                let local = self.config.local_name(there);
                self.robot
                    .set_problem(&local, Some(format!("{} {why}", self.via)));
            }
        }
    }

    /// What happens when the link to the sub-part is lost: its resources
    /// answer UNAVAILABLE, and the actor reconnects.
    fn lost(&mut self, error: String, ctx: &mut Context<Self>) {
        if let Some(check) = self.check.take() {
            ctx.cancel_future(check);
        }
        self.client = None;
        self.down_since = Some(Instant::now());
        let why = format!("is unreachable ({error}); reconnecting");
        for (there, proxy) in &self.proxies {
            proxy.relink(Link::Down(why.as_str().into()));
            let local = self.config.local_name(there);
            self.robot
                .set_problem(&local, Some(format!("{} {why}", self.via)));
        }
        warn!(remote = %self.config.name, address = %self.config.address, error = %error, "lost the link to the remote part; reconnecting");
        self.stop_what_used_it();
        self.reconnects.succeed();
        let delay = self.reconnects.fail();
        self.retry(delay, ctx);
    }

    /// What this part drives over the link now drives blind: stop it. (The
    /// sub-part stops what this part drove there when its session expires.)
    fn stop_what_used_it(&self) {
        let here: Vec<String> = self
            .proxies
            .keys()
            .map(|t| self.config.local_name(t))
            .collect();
        let actuators = self.robot.actuators_using(&here);
        if actuators.is_empty() {
            return;
        }
        let remote = self.config.name.clone();
        actix::spawn(async move {
            let report = stop_together(actuators, "link lost").await;
            let (stopped, took_ms) = (report.stopped_names(), report.took_ms());
            if report.all_stopped() {
                info!(remote = %remote, stopped = %stopped, took_ms, "stopped what used the lost part");
            } else {
                warn!(remote = %remote, stopped = %stopped, failed = %report.failures(), took_ms, "could not stop all that used the lost part");
            }
        });
    }

    fn retry(&mut self, delay: Duration, ctx: &mut Context<Self>) {
        ctx.run_later(delay, |act, ctx| act.connect(ctx));
    }
}

impl Actor for RemoteActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.connect(ctx);
    }
}

/// A connection attempt ended: a client and the sub-part's resources, or why not.
#[derive(Message)]
#[rtype(result = "()")]
struct Connected(Result<(PartLink, Vec<ResourceName>), String>);

/// A connected sub-part: the client, and the forwarding connection unless
/// calls go over WebRTC.
type PartLink = (RobotClient, Option<Forwarder>);

impl Handler<Connected> for RemoteActor {
    type Result = ();

    fn handle(&mut self, Connected(outcome): Connected, ctx: &mut Context<Self>) {
        match outcome {
            Ok((client, names)) => {
                self.client = Some(client);
                self.reconnects.succeed();
                let count = names.len();
                self.sync(names);
                let took_ms = self
                    .down_since
                    .take()
                    .map(|t| axle_sdk_module::host::millis(t.elapsed()));
                info!(remote = %self.config.name, address = %self.config.address, resources = count, took_ms, "remote part connected");
                let every = self.config.check_interval;
                self.check = Some(ctx.run_interval(every, |act, ctx| act.check_now(ctx)));
            }
            Err(e) => {
                let retry_in = self.reconnects.fail();
                let failures = self.reconnects.failures();
                if failures == 1 || failures.is_multiple_of(10) {
                    warn!(remote = %self.config.name, address = %self.config.address, failures, ?retry_in, "cannot reach the remote part: {e}");
                }
                self.retry(retry_in, ctx);
            }
        }
        self.tried();
    }
}

impl RemoteActor {
    fn check_now(&mut self, ctx: &mut Context<Self>) {
        let Some((client, _)) = self.client.clone() else {
            return;
        };
        if std::mem::replace(&mut self.checking, true) {
            return;
        }
        let bound = self.config.check_interval;
        let addr = ctx.address();
        actix::spawn(async move {
            let outcome = match tokio::time::timeout(bound, client.resource_names()).await {
                Ok(Ok(names)) => Ok(names),
                Ok(Err(s)) => Err(s.message().to_string()),
                Err(_) => Err(format!("no answer within {bound:?}")),
            };
            addr.do_send(Checked(outcome));
        });
    }
}

/// A link check ended.
#[derive(Message)]
#[rtype(result = "()")]
struct Checked(Result<Vec<ResourceName>, String>);

impl Handler<Checked> for RemoteActor {
    type Result = ();

    fn handle(&mut self, Checked(outcome): Checked, ctx: &mut Context<Self>) {
        self.checking = false;
        if self.client.is_none() {
            return;
        }
        match outcome {
            Ok(names) => self.sync(names),
            Err(e) => self.lost(e, ctx),
        }
    }
}

/// Closes the link for good: the config no longer has this remote, or has
/// changed it. The proxies answer UNAVAILABLE until they are removed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Close;

impl Handler<Close> for RemoteActor {
    type Result = ();

    fn handle(&mut self, _: Close, ctx: &mut Context<Self>) {
        for proxy in self.proxies.values() {
            proxy.relink(Link::Down("was removed from the config".into()));
        }
        self.client = None;
        self.tried();
        info!(remote = %self.config.name, "link to the remote part closed");
        ctx.stop();
    }
}

/// Waits until the first connection attempt has ended, whichever way.
#[derive(Message)]
#[rtype(result = "()")]
pub struct WaitFirstTry;

impl Handler<WaitFirstTry> for RemoteActor {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: WaitFirstTry, _: &mut Context<Self>) -> Self::Result {
        let Some(waiters) = self.first_try.as_mut() else {
            return Box::pin(async {});
        };
        let (tx, rx) = oneshot::channel();
        waiters.push(tx);
        Box::pin(async move {
            let _ = rx.await;
        })
    }
}
