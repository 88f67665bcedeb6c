//! The uplink: this part's outbound link to a rendezvous
//! (`network.signaling`), so that clients anywhere can call it by host
//! while it sits behind NAT.
//!
//! The [`Uplink`] actor keeps [`WORKERS`] answer workers connected. Each
//! worker authenticates with the host's secret, opens an `Answer` stream
//! (which registers it for the host), and waits for an offer. An offer is
//! answered by the same [`Signaling::answer_offer`] as a local `Call`, on a
//! task of its own, while the worker opens its next stream at once: a
//! connecting caller never keeps the robot from taking the next one.
//!
//! A worker whose stream fails tells the actor, which records the error,
//! logs the link's state when it changes, and restarts the worker after a
//! backoff ([`RETRIES`]: doubling from 250 ms to 5 s, with
//! jitter). HTTP/2 keepalives find a dead link within [`KEEPALIVE`] × 2.
//! Local signaling and mDNS do not depend on any of this.

use super::peer::{Close, RemoteCandidate};
use super::signaling::{Incoming, Signaling};
use crate::backoff::Backoff;
use crate::config::{IceServer, UplinkConfig};
use actix::prelude::*;
use axle_proto::google::rpc::Status as WireStatus;
use axle_proto::rpc::auth_service_client::AuthServiceClient;
use axle_proto::rpc::{AuthenticateRequest, Credentials};
use axle_proto::webrtc::signaling_service_client::SignalingServiceClient;
use axle_proto::webrtc::{
    AnswerRequest, AnswerResponse, AnswerResponseDoneStage, AnswerResponseErrorStage,
    AnswerResponseInitStage, AnswerResponseUpdateStage, answer_request, answer_response,
};
use axle_sdk_module::webrtc::sdp;
use axle_wire::Owner;
use axle_wire::signaling::{FromAnswerer, ROBOT_SECRET};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tonic::{Request, Status, Streaming};
use tracing::{debug, info, warn};

/// Answer workers kept connected (as upstream's answerer).
pub const WORKERS: usize = 2;
/// Retries: 250 ms after the first failure, doubling to 5 s, each up to
/// 25 % sooner so that many robots do not retry in step after an outage.
const RETRIES: Backoff =
    Backoff::new(Duration::from_millis(250), Duration::from_secs(5)).jittered(25);
/// How often an idle link is pinged, and how long a ping may take.
pub const KEEPALIVE: Duration = Duration::from_secs(5);
/// How long one call's signaling may last on its stream.
const SIGNALING_LIFETIME: Duration = Duration::from_secs(30);

/// Where the link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Not yet registered since start.
    Connecting,
    /// At least one worker is registered: calls can come in.
    Online,
    /// No worker is registered; they retry with backoff.
    Retrying,
}

/// The link as GetMachineStatus shows it.
#[derive(Debug, Clone)]
pub struct LinkReport {
    /// The host clients dial.
    pub host: String,
    /// The rendezvous.
    pub address: String,
    /// Where the link stands.
    pub state: LinkState,
    /// Since when.
    pub since: SystemTime,
    /// The last failure, kept after the link recovers.
    pub last_error: Option<String>,
}

/// The link's report, shared with the robot service; empty without an
/// uplink.
#[derive(Clone, Default)]
pub struct LinkStatus(Arc<Mutex<Option<LinkReport>>>);

impl LinkStatus {
    /// The current report, if this part has an uplink.
    pub fn get(&self) -> Option<LinkReport> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn update(&self, f: impl FnOnce(&mut LinkReport)) {
        if let Some(r) = self.0.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            f(r);
        }
    }
}

/// The link to one rendezvous.
pub struct Uplink {
    config: UplinkConfig,
    signaling: Arc<Signaling>,
    channel: Channel,
    status: LinkStatus,
    /// Workers with a stream open now.
    up: HashSet<usize>,
    /// Failures since the link was last online: the backoff grows with them.
    retries: Backoff,
}

impl Uplink {
    /// Starts the link of `config`; its calls are answered by `signaling`
    /// and its state is reported in `status`.
    pub fn start(
        config: UplinkConfig,
        signaling: Arc<Signaling>,
        status: LinkStatus,
    ) -> Result<Addr<Self>, String> {
        let scheme = if config.insecure { "http" } else { "https" };
        let mut endpoint = Endpoint::from_shared(format!("{scheme}://{}", config.address))
            .map_err(|e| format!("network.signaling.address {:?}: {e}", config.address))?
            .connect_timeout(KEEPALIVE)
            .http2_keep_alive_interval(KEEPALIVE)
            .keep_alive_timeout(KEEPALIVE)
            .keep_alive_while_idle(true)
            .tcp_nodelay(true);
        if !config.insecure {
            endpoint = endpoint
                .tls_config(ClientTlsConfig::new().with_enabled_roots())
                .map_err(|e| format!("network.signaling: cannot set up TLS: {e}"))?;
        }
        *status.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(LinkReport {
            host: config.host.clone(),
            address: config.address.clone(),
            state: LinkState::Connecting,
            since: SystemTime::now(),
            last_error: None,
        });
        let channel = endpoint.connect_lazy();
        Ok(Self {
            config,
            signaling,
            channel,
            status,
            up: HashSet::new(),
            retries: RETRIES,
        }
        .start())
    }

    fn spawn_worker(&self, id: usize, ctx: &mut Context<Self>) {
        let worker = Worker {
            id,
            channel: self.channel.clone(),
            config: self.config.clone(),
            signaling: self.signaling.clone(),
            uplink: ctx.address(),
        };
        ctx.spawn(
            worker
                .run()
                .into_actor(self)
                .map(move |error, link, ctx| link.lost(id, error, ctx)),
        );
    }

    fn set_state(&self, state: LinkState) {
        self.status.update(|r| {
            if r.state != state {
                r.state = state;
                r.since = SystemTime::now();
            }
        });
    }

    /// Worker `id` failed with `error`: record it, and retry after a backoff.
    fn lost(&mut self, id: usize, error: String, ctx: &mut Context<Self>) {
        let was_online = !self.up.is_empty();
        self.up.remove(&id);
        let delay = self.retries.fail();
        let repeated = self.status.get().and_then(|r| r.last_error) == Some(error.clone());
        self.status.update(|r| r.last_error = Some(error.clone()));
        if self.up.is_empty() {
            self.set_state(LinkState::Retrying);
        }
        let host = &self.config.host;
        let address = &self.config.address;
        if was_online && self.up.is_empty() {
            warn!(host, rendezvous = address, %error, "link to the rendezvous lost; clients can reach this part only locally until it is back");
        } else if !repeated {
            warn!(host, rendezvous = address, worker = id, %error, "rendezvous link failed; retrying");
        } else {
            debug!(host, rendezvous = address, worker = id, %error, "rendezvous link failed again");
        }
        ctx.run_later(delay, move |link, ctx| link.spawn_worker(id, ctx));
    }
}

impl Actor for Uplink {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        info!(host = %self.config.host, rendezvous = %self.config.address, workers = WORKERS, "connecting to the rendezvous");
        for id in 0..WORKERS {
            self.spawn_worker(id, ctx);
        }
    }
}

/// Closes the link: its workers stop, and the rendezvous sees this part
/// offline at once.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Disconnect;

impl Handler<Disconnect> for Uplink {
    type Result = ();

    fn handle(&mut self, _: Disconnect, ctx: &mut Context<Self>) {
        info!(host = %self.config.host, "disconnecting from the rendezvous");
        ctx.stop();
    }
}

/// A worker registered: its stream is open.
#[derive(Message)]
#[rtype(result = "()")]
struct Up(usize);

impl Handler<Up> for Uplink {
    type Result = ();

    fn handle(&mut self, Up(id): Up, _: &mut Context<Self>) {
        if self.up.is_empty() {
            info!(host = %self.config.host, rendezvous = %self.config.address, "registered with the rendezvous: clients can call this part by host");
        }
        self.up.insert(id);
        self.retries.succeed();
        self.set_state(LinkState::Online);
    }
}

/// One answer worker: registers, takes an offer, hands it off, repeats.
struct Worker {
    id: usize,
    channel: Channel,
    config: UplinkConfig,
    signaling: Arc<Signaling>,
    uplink: Addr<Uplink>,
}

impl Worker {
    /// Runs until the link fails; answers why.
    async fn run(self) -> String {
        loop {
            let (stream, out) = match self.register().await {
                Ok(s) => s,
                Err(e) => return e,
            };
            self.uplink.do_send(Up(self.id));
            let offer = match next_offer(stream).await {
                Ok(o) => o,
                Err(e) => return e,
            };
            let signaling = self.signaling.clone();
            let address = self.config.address.clone();
            tokio::spawn(answer(signaling, offer, out, address));
        }
    }

    /// Authenticates and opens an Answer stream for the host.
    async fn register(
        &self,
    ) -> Result<(Streaming<AnswerRequest>, mpsc::Sender<AnswerResponse>), String> {
        let token = self.token().await?;
        let (out, rx) = mpsc::channel(32);
        let mut req = Request::new(ReceiverStream::new(rx));
        let meta = req.metadata_mut();
        let header = |v: &str| {
            v.parse()
                .map_err(|_| format!("{v:?} is not a header value"))
        };
        meta.insert("rpc-host", header(&self.config.host)?);
        meta.insert("heartbeats-allowed", header("true")?);
        meta.insert("authorization", header(&format!("Bearer {token}"))?);
        let stream = SignalingServiceClient::new(self.channel.clone())
            .answer(req)
            .await
            .map_err(|s| describe("Answer", &s))?
            .into_inner();
        Ok((stream, out))
    }

    async fn token(&self) -> Result<String, String> {
        let req = AuthenticateRequest {
            entity: self.config.host.clone(),
            credentials: Some(Credentials {
                r#type: ROBOT_SECRET.into(),
                payload: self.config.secret.clone(),
            }),
        };
        let reply = AuthServiceClient::new(self.channel.clone())
            .authenticate(req)
            .await
            .map_err(|s| describe("Authenticate", &s))?;
        Ok(reply.into_inner().access_token)
    }
}

/// What a failed call to the rendezvous tells a user.
fn describe(call: &str, s: &Status) -> String {
    match s.code() {
        tonic::Code::Unauthenticated => {
            format!(
                "the rendezvous refused this part's secret ({call}): {}",
                s.message()
            )
        }
        _ => format!("{call}: {}: {}", s.code(), s.message()),
    }
}

/// An offer, and the stream it came on.
struct Offer {
    request: AnswerRequest,
    stream: Streaming<AnswerRequest>,
}

/// Waits on `stream` for an offer, skipping heartbeats.
async fn next_offer(mut stream: Streaming<AnswerRequest>) -> Result<Offer, String> {
    loop {
        let request = match stream.message().await {
            Ok(Some(r)) => r,
            Ok(None) => return Err("the rendezvous closed the Answer stream".into()),
            Err(s) => return Err(describe("Answer", &s)),
        };
        if !matches!(request.stage, Some(answer_request::Stage::Heartbeat(_))) {
            return Ok(Offer { request, stream });
        }
    }
}

/// Answers one relayed offer: our answer and candidates go out on `out`,
/// the caller's candidates come in on the offer's stream, until both sides
/// are done (or [`SIGNALING_LIFETIME`] passes).
async fn answer(
    signaling: Arc<Signaling>,
    offer: Offer,
    out: mpsc::Sender<AnswerResponse>,
    rendezvous: String,
) {
    let uuid = offer.request.uuid.clone();
    let respond = |stage| AnswerResponse {
        uuid: uuid.clone(),
        stage: Some(stage),
    };
    let Some(answer_request::Stage::Init(init)) = offer.request.stage else {
        let status = Status::invalid_argument("expected an offer first");
        let _ = out.send(respond(error_stage(&status))).await;
        return;
    };
    if signaling.is_full() {
        warn!(call = %uuid, "relayed call refused: too many peers");
        let status = Status::resource_exhausted("this robot serves no more WebRTC peers");
        let _ = out.send(respond(error_stage(&status))).await;
        return;
    }
    let ice_servers = init.optional_config.map_or_else(Vec::new, |c| {
        c.additional_ice_servers
            .into_iter()
            .map(|s| IceServer {
                urls: s.urls,
                username: s.username,
                credential: s.credential,
            })
            .collect()
    });
    let caller = init.caller_auth_entity;
    info!(call = %uuid, caller = %caller, %rendezvous, "answering a call relayed by the rendezvous");
    let call = Incoming {
        uuid: uuid.clone(),
        offer: init.sdp,
        caller: Owner::Entity(caller.into()),
        peer: format!("via {rendezvous}"),
        ice_servers,
        vouched: true,
    };
    let (tx, rx) = mpsc::channel(16);
    if let Err(status) = signaling.answer_offer(call, tx).await {
        warn!(call = %uuid, error = %status.message(), "relayed call refused");
        let _ = out.send(respond(error_stage(&status))).await;
        return;
    }
    let exchange = exchange(&signaling, &uuid, rx, offer.stream, &out);
    if tokio::time::timeout(SIGNALING_LIFETIME, exchange)
        .await
        .is_err()
    {
        debug!(call = %uuid, "signaling ended by its time limit");
    }
}

/// Carries our events out and the caller's candidates in, until both
/// sides are done.
async fn exchange(
    signaling: &Signaling,
    uuid: &str,
    mut ours: mpsc::Receiver<FromAnswerer>,
    mut theirs: Streaming<AnswerRequest>,
    out: &mpsc::Sender<AnswerResponse>,
) {
    let (mut we_are_done, mut they_are_done) = (false, false);
    while !(we_are_done && they_are_done) {
        tokio::select! {
            event = ours.recv(), if !we_are_done => {
                let event = event.unwrap_or(FromAnswerer::Done);
                we_are_done = matches!(event, FromAnswerer::Done | FromAnswerer::Error(_));
                let response = AnswerResponse { uuid: uuid.to_owned(), stage: Some(stage_of(event)) };
                if out.send(response).await.is_err() {
                    return;
                }
            }
            request = theirs.message(), if !they_are_done => {
                let stage = match request {
                    Ok(Some(r)) => r.stage,
                    // The rendezvous ended the call.
                    _ => return,
                };
                let peer = signaling.peers().get(uuid);
                match (stage, peer) {
                    (Some(answer_request::Stage::Update(u)), Some(peer)) => {
                        if let Some(c) = u.candidate {
                            peer.do_send(RemoteCandidate(sdp::candidate_from_wire(c)));
                        }
                    }
                    (Some(answer_request::Stage::Error(e)), peer) => {
                        let reason = e.status.map(|s| s.message).unwrap_or_default();
                        info!(call = %uuid, error = %reason, "the caller gave up on the call");
                        if let Some(peer) = peer {
                            peer.do_send(Close("the caller gave up"));
                        }
                        return;
                    }
                    (Some(answer_request::Stage::Done(_)), _) => they_are_done = true,
                    _ => {}
                }
            }
        }
    }
}

fn stage_of(event: FromAnswerer) -> answer_response::Stage {
    match event {
        FromAnswerer::Init(sdp) => answer_response::Stage::Init(AnswerResponseInitStage { sdp }),
        FromAnswerer::Candidate(c) => {
            answer_response::Stage::Update(AnswerResponseUpdateStage { candidate: Some(c) })
        }
        FromAnswerer::Done => answer_response::Stage::Done(AnswerResponseDoneStage {}),
        FromAnswerer::Error(e) => error_stage(&Status::unknown(e)),
    }
}

fn error_stage(status: &Status) -> answer_response::Stage {
    answer_response::Stage::Error(AnswerResponseErrorStage {
        status: Some(WireStatus {
            code: status.code() as i32,
            message: status.message().to_owned(),
            details: Vec::new(),
        }),
    })
}
