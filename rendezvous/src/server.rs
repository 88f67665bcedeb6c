//! The rendezvous's `SignalingService`: callers `Call` a host, robots
//! registered for that host `Answer`, and the [`CallQueue`] pairs them.
//!
//! - `Call`: an unknown host fails at once with NOT_FOUND ("appears to be
//!   offline"), so the client falls back; otherwise the robot's answer and
//!   candidates stream back, the answer first, within [`OFFER_DEADLINE`].
//! - `CallUpdate`: the caller's candidates go to the robot; always OK.
//! - `Answer`: one stream serves one offer, as upstream. The robot names its
//!   hosts in `rpc-host` (1 to 5); with `heartbeats-allowed: true` it gets
//!   a heartbeat every [`HEARTBEAT`] while it waits.
//!
//! Every call has passed the [`AuthLayer`](axle_wire::auth::AuthLayer) with a
//! token; [`Admission`] says which hosts that token may call or answer.
//! Both sides get the configured ICE servers, and TURN credentials minted
//! for them alone.

use crate::admission::Admission;
use crate::config::TurnConfig;
use crate::queue::{AnswererEnd, CallQueue, FromAnswerer, FromCaller, Offer, QueueError};
use axle_proto::webrtc::signaling_service_server::SignalingService;
use axle_proto::webrtc::{
    AnswerRequest, AnswerRequestDoneStage, AnswerRequestErrorStage, AnswerRequestHeartbeatStage,
    AnswerRequestInitStage, AnswerRequestUpdateStage, AnswerResponse, CallRequest, CallResponse,
    CallResponseInitStage, CallResponseUpdateStage, CallUpdateRequest, CallUpdateResponse,
    OptionalWebRtcConfigRequest, OptionalWebRtcConfigResponse, WebRtcConfig, answer_request,
    answer_response, call_response, call_update_request,
};
use axle_wire::Owner;
use axle_wire::settings::IceServer;
use axle_wire::signaling::webrtc_config;
use futures::Stream;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use tracing::{debug, info, warn};

/// How long a caller waits for a robot's answer (as upstream).
pub const OFFER_DEADLINE: Duration = Duration::from_secs(10);
/// How often a waiting answer worker hears from the rendezvous.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// The rendezvous's signaling service over call queue `Q`.
pub struct Rendezvous<Q> {
    queue: Arc<Q>,
    admission: Arc<Admission>,
    ice_servers: Vec<IceServer>,
    turn: Option<TurnConfig>,
}

impl<Q: CallQueue> Rendezvous<Q> {
    /// Pairs calls through `queue`, for whom `admission` allows; hands
    /// `ice_servers` and fresh `turn` credentials to both sides.
    pub fn new(
        queue: Arc<Q>,
        admission: Arc<Admission>,
        ice_servers: Vec<IceServer>,
        turn: Option<TurnConfig>,
    ) -> Self {
        Self {
            queue,
            admission,
            ice_servers,
            turn,
        }
    }

    /// The ICE servers for `who`, with TURN credentials of its own.
    fn config(&self, who: &str) -> WebRtcConfig {
        let minted = self
            .turn
            .as_ref()
            .map(|t| crate::turn::mint(t, who, SystemTime::now()));
        let servers: Vec<_> = self.ice_servers.iter().cloned().chain(minted).collect();
        webrtc_config(&servers)
    }
}

fn hosts_of<T>(req: &Request<T>) -> Vec<String> {
    req.metadata()
        .get_all("rpc-host")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

fn refused(e: QueueError) -> Status {
    match e {
        QueueError::Offline(_) => Status::not_found(e.to_string()),
        QueueError::Busy(_) => Status::unavailable(e.to_string()),
        QueueError::UnknownCall(_) => Status::not_found(e.to_string()),
    }
}

type CallStream = Pin<Box<dyn Stream<Item = Result<CallResponse, Status>> + Send>>;
type AnswerStream = Pin<Box<dyn Stream<Item = Result<AnswerRequest, Status>> + Send>>;

/// The caller's stream: the answer first (within the deadline), then the
/// robot's candidates; it ends when the robot is done.
fn caller_stream(uuid: String, mut answers: mpsc::Receiver<FromAnswerer>) -> CallStream {
    let deadline = tokio::time::Instant::now() + OFFER_DEADLINE;
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let first = tokio::time::timeout_at(deadline, answers.recv()).await;
        let stage = match first {
            Err(_) => Err(Status::deadline_exceeded("no robot answered in time")),
            Ok(Some(FromAnswerer::Init(sdp))) => {
                Ok(call_response::Stage::Init(CallResponseInitStage { sdp }))
            }
            Ok(Some(FromAnswerer::Error(e))) => {
                Err(Status::unknown(format!("error from answerer: {e}")))
            }
            Ok(_) => Err(Status::unavailable(
                "expected to have initial SDP from the robot",
            )),
        };
        let mut next = Some(stage);
        while let Some(stage) = next.take() {
            let item = stage.map(|stage| CallResponse {
                uuid: uuid.clone(),
                stage: Some(stage),
            });
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                return;
            }
            next = match answers.recv().await {
                Some(FromAnswerer::Candidate(c)) => {
                    Some(Ok(call_response::Stage::Update(CallResponseUpdateStage {
                        candidate: Some(c),
                    })))
                }
                Some(FromAnswerer::Error(e)) => {
                    Some(Err(Status::unknown(format!("error from answerer: {e}"))))
                }
                Some(FromAnswerer::Init(_)) => {
                    Some(Err(Status::internal("the robot answered twice")))
                }
                Some(FromAnswerer::Done) | None => None,
            };
        }
    });
    Box::pin(ReceiverStream::new(rx))
}

#[tonic::async_trait]
impl<Q: CallQueue> SignalingService for Rendezvous<Q> {
    type CallStream = CallStream;
    type AnswerStream = AnswerStream;

    async fn call(&self, req: Request<CallRequest>) -> Result<Response<CallStream>, Status> {
        let [host] = &hosts_of(&req)[..] else {
            return Err(Status::invalid_argument(
                "expected exactly one rpc-host naming the robot",
            ));
        };
        if req.get_ref().disable_trickle {
            return Err(Status::invalid_argument("disable_trickle is not supported"));
        }
        let owner = Owner::of(req.extensions());
        let host = self.admission.caller(&owner, host)?;
        let uuid = uuid::Uuid::new_v4().to_string();
        let offer = Offer {
            uuid: uuid.clone(),
            sdp: req.into_inner().sdp,
            caller_entity: owner.entity().to_owned(),
            deadline: Instant::now() + OFFER_DEADLINE,
        };
        let caller = self.queue.offer(host, offer).map_err(|e| {
            debug!(host, error = %e, "call refused");
            refused(e)
        })?;
        debug!(host, call = %uuid, "call queued for a robot");
        Ok(Response::new(caller_stream(uuid, caller.answers)))
    }

    async fn call_update(
        &self,
        req: Request<CallUpdateRequest>,
    ) -> Result<Response<CallUpdateResponse>, Status> {
        let r = req.into_inner();
        let update = match r.update {
            Some(call_update_request::Update::Candidate(c)) => FromCaller::Candidate(c),
            Some(call_update_request::Update::Done(_)) => FromCaller::Done,
            Some(call_update_request::Update::Error(e)) => FromCaller::Error(e.message),
            None => return Ok(Response::new(CallUpdateResponse {})),
        };
        // Clients treat a failed update as a failed dial; a call that ended
        // has nothing to update.
        let _ = self.queue.update(&r.uuid, update);
        Ok(Response::new(CallUpdateResponse {}))
    }

    async fn answer(
        &self,
        req: Request<Streaming<AnswerResponse>>,
    ) -> Result<Response<AnswerStream>, Status> {
        let hosts = hosts_of(&req);
        if hosts.is_empty() || hosts.len() > 5 {
            return Err(Status::invalid_argument("expected 1 to 5 rpc-host values"));
        }
        let robot = Owner::of(req.extensions());
        if let Err(refusal) = self.admission.robot(&robot, &hosts) {
            warn!(hosts = ?hosts, entity = robot.entity(), "Answer refused: {}", refusal.message());
            return Err(refusal);
        }
        let heartbeats = req
            .metadata()
            .get("heartbeats-allowed")
            .is_some_and(|v| v == "true");
        let registration = self.queue.register(hosts.clone());
        let inbound = req.into_inner();
        let (tx, rx) = mpsc::channel(16);
        let config = self.config(robot.entity());
        tokio::spawn(async move {
            let mut inbound = inbound;
            let end = tokio::select! {
                end = registration.next() => end,
                () = beat(&tx, heartbeats) => None,
                () = until_closed(&mut inbound) => None,
            };
            if let Some(end) = end {
                info!(hosts = ?hosts, call = %end.offer.uuid, "offer handed to a robot");
                relay(end, inbound, tx, config).await;
            }
            // The robot counts as online while any of its streams is open,
            // relaying or not: its offers then wait for its next worker.
            drop(registration);
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn optional_web_rtc_config(
        &self,
        req: Request<OptionalWebRtcConfigRequest>,
    ) -> Result<Response<OptionalWebRtcConfigResponse>, Status> {
        let owner = Owner::of(req.extensions());
        Ok(Response::new(OptionalWebRtcConfigResponse {
            config: Some(self.config(owner.entity())),
        }))
    }
}

/// Waits until a waiting worker's stream ends; anything it sends before
/// its offer has no call to belong to, and is dropped.
async fn until_closed(inbound: &mut Streaming<AnswerResponse>) {
    while let Ok(Some(r)) = inbound.message().await {
        debug!(call = %r.uuid, "a robot spoke before it had an offer; ignored");
    }
}

/// Heartbeats a waiting worker (if it allows them) until it goes away.
async fn beat(tx: &mpsc::Sender<Result<AnswerRequest, Status>>, allowed: bool) {
    if !allowed {
        return tx.closed().await;
    }
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    loop {
        ticks.tick().await;
        let heartbeat = AnswerRequest {
            uuid: String::new(),
            stage: Some(answer_request::Stage::Heartbeat(
                AnswerRequestHeartbeatStage {},
            )),
        };
        if tx.send(Ok(heartbeat)).await.is_err() {
            return;
        }
    }
}

/// Carries one call between the robot's Answer stream and the caller.
async fn relay(
    mut end: AnswererEnd,
    mut inbound: Streaming<AnswerResponse>,
    tx: mpsc::Sender<Result<AnswerRequest, Status>>,
    config: WebRtcConfig,
) {
    let uuid = end.offer.uuid.clone();
    let request = |stage| {
        Ok(AnswerRequest {
            uuid: uuid.clone(),
            stage: Some(stage),
        })
    };
    let deadline = SystemTime::now() + end.offer.deadline.saturating_duration_since(Instant::now());
    let init = AnswerRequestInitStage {
        sdp: end.offer.sdp.clone(),
        optional_config: Some(config),
        deadline: Some(deadline.into()),
        caller_auth_entity: end.offer.caller_entity.clone(),
        caller_auth_metadata: Default::default(),
    };
    if tx
        .send(request(answer_request::Stage::Init(init)))
        .await
        .is_err()
    {
        return;
    }
    // The robot's done ends the caller's stream, yet the caller may still
    // trickle candidates (its server-reflexive ones come late): carry on
    // until both sides are done, or the call outlives its time.
    let (mut robot_done, mut caller_done) = (false, false);
    let lifetime = tokio::time::sleep(OFFER_DEADLINE + RELAY_GRACE);
    tokio::pin!(lifetime);
    while !(robot_done && caller_done) {
        tokio::select! {
            from_robot = inbound.message(), if !robot_done => {
                let Ok(Some(r)) = from_robot else { return };
                let Some(event) = from_answerer(&uuid, r) else { continue };
                robot_done = matches!(event, FromAnswerer::Done | FromAnswerer::Error(_));
                // A caller that left has nothing more to hear.
                let _ = end.answers.send(event).await;
            }
            from_caller = end.updates.recv(), if !caller_done => {
                let Some(update) = from_caller else {
                    caller_done = true;
                    continue;
                };
                caller_done = matches!(update, FromCaller::Done | FromCaller::Error(_));
                if tx.send(request(to_answerer(update))).await.is_err() {
                    return;
                }
            }
            () = &mut lifetime => return,
        }
    }
}

/// How long a relay may outlive the offer's deadline: the caller's last
/// candidates arrive within seconds of the answer.
const RELAY_GRACE: Duration = Duration::from_secs(20);

fn from_answerer(uuid: &str, r: AnswerResponse) -> Option<FromAnswerer> {
    Some(match r.stage? {
        _ if r.uuid != uuid => FromAnswerer::Error("the robot answered another call".into()),
        answer_response::Stage::Init(i) => FromAnswerer::Init(i.sdp),
        answer_response::Stage::Update(u) => FromAnswerer::Candidate(u.candidate?),
        answer_response::Stage::Done(_) => FromAnswerer::Done,
        answer_response::Stage::Error(e) => {
            FromAnswerer::Error(e.status.map(|s| s.message).unwrap_or_default())
        }
    })
}

fn to_answerer(update: FromCaller) -> answer_request::Stage {
    match update {
        FromCaller::Candidate(c) => {
            answer_request::Stage::Update(AnswerRequestUpdateStage { candidate: Some(c) })
        }
        FromCaller::Done => answer_request::Stage::Done(AnswerRequestDoneStage {}),
        FromCaller::Error(message) => answer_request::Stage::Error(AnswerRequestErrorStage {
            status: Some(axle_proto::google::rpc::Status {
                code: tonic::Code::Unknown as i32,
                message,
                details: Vec::new(),
            }),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axle_proto::webrtc::signaling_service_client::SignalingServiceClient;
    use axle_proto::webrtc::{
        AnswerResponseDoneStage, AnswerResponseInitStage, AnswerResponseUpdateStage, IceCandidate,
    };
    use tonic::transport::Channel;

    const CONFIG: &str = r#"{
        "network": {"bind_address": "127.0.0.1:0"},
        "auth": {"handlers": [{"type": "api-key", "config": {"driver": "k3y"}}]},
        "hosts": {
            "rover": {"secret": "s3cret", "api_keys": ["driver"]},
            "arm": {"secret": "4rm", "api_keys": ["driver"]}
        },
        "turn": {"urls": ["turn:127.0.0.1:3478?transport=udp"], "secret": "t", "ttl": "1m"}
    }"#;

    /// A rendezvous on a free port, and a token for the caller and the robot.
    async fn rendezvous() -> (Channel, String, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let config = crate::RendezvousConfig::parse(CONFIG).unwrap();
        tokio::spawn(async move { crate::serve(&config, listener, std::future::pending()).await });
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let caller = token(&channel, "driver", "api-key", "k3y").await.unwrap();
        let robot = token(&channel, "rover", crate::ROBOT_SECRET, "s3cret")
            .await
            .unwrap();
        (channel, caller, robot)
    }

    async fn token(
        channel: &Channel,
        entity: &str,
        kind: &str,
        secret: &str,
    ) -> Result<String, Status> {
        let mut auth =
            axle_proto::rpc::auth_service_client::AuthServiceClient::new(channel.clone());
        let req = axle_proto::rpc::AuthenticateRequest {
            entity: entity.into(),
            credentials: Some(axle_proto::rpc::Credentials {
                r#type: kind.into(),
                payload: secret.into(),
            }),
        };
        Ok(auth.authenticate(req).await?.into_inner().access_token)
    }

    fn to<T>(host: &str, token: &str, message: T) -> Request<T> {
        let mut req = Request::new(message);
        req.metadata_mut().insert("rpc-host", host.parse().unwrap());
        req.metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        req
    }

    fn candidate(text: &str) -> IceCandidate {
        IceCandidate {
            candidate: text.into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_call_reaches_the_robot_registered_for_its_host_and_back() {
        let (channel, caller_token, robot_token) = rendezvous().await;
        let mut client = SignalingServiceClient::new(channel);
        let (c, r) = (caller_token.as_str(), robot_token.as_str());
        let offer = |sdp: &str| CallRequest {
            sdp: sdp.into(),
            disable_trickle: false,
        };
        // No robot for the host: NOT_FOUND at once.
        let offline = client
            .call(to("rover:443", c, offer("o")))
            .await
            .unwrap_err();
        assert_eq!(offline.code(), tonic::Code::NotFound);
        assert!(
            offline.message().contains("appears to be offline"),
            "{offline}"
        );

        // The robot opens an Answer stream for its host.
        let (robot_tx, robot_rx) = mpsc::channel(8);
        let mut robot = client
            .clone()
            .answer(to("rover", r, ReceiverStream::new(robot_rx)))
            .await
            .unwrap()
            .into_inner();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut caller = client
            .call(to("rover:443", c, offer("the offer")))
            .await
            .unwrap()
            .into_inner();
        let init = robot.message().await.unwrap().unwrap();
        let Some(answer_request::Stage::Init(stage)) = init.stage else {
            panic!("expected the offer first, got {init:?}");
        };
        assert_eq!(stage.sdp, "the offer");
        let uuid = init.uuid;
        let respond = |stage| AnswerResponse {
            uuid: uuid.clone(),
            stage: Some(stage),
        };
        robot_tx
            .send(respond(answer_response::Stage::Init(
                AnswerResponseInitStage {
                    sdp: "the answer".into(),
                },
            )))
            .await
            .unwrap();
        robot_tx
            .send(respond(answer_response::Stage::Update(
                AnswerResponseUpdateStage {
                    candidate: Some(candidate("robot")),
                },
            )))
            .await
            .unwrap();
        let first = caller.message().await.unwrap().unwrap();
        assert_eq!(first.uuid, uuid);
        assert!(
            matches!(first.stage, Some(call_response::Stage::Init(ref i)) if i.sdp == "the answer")
        );
        let second = caller.message().await.unwrap().unwrap();
        assert!(matches!(
            second.stage,
            Some(call_response::Stage::Update(_))
        ));

        // The caller's candidates and done reach the robot.
        for update in [
            call_update_request::Update::Candidate(candidate("caller")),
            call_update_request::Update::Done(true),
        ] {
            let req = CallUpdateRequest {
                uuid: uuid.clone(),
                update: Some(update),
            };
            client.call_update(to("rover", c, req)).await.unwrap();
        }
        let got = robot.message().await.unwrap().unwrap();
        assert!(
            matches!(got.stage, Some(answer_request::Stage::Update(ref u)) if u.candidate.as_ref().unwrap().candidate == "caller")
        );
        let got = robot.message().await.unwrap().unwrap();
        assert!(matches!(got.stage, Some(answer_request::Stage::Done(_))));

        // The robot is done: the caller's stream ends OK.
        robot_tx
            .send(respond(answer_response::Stage::Done(
                AnswerResponseDoneStage {},
            )))
            .await
            .unwrap();
        assert!(caller.message().await.unwrap().is_none());

        // An update for a call that ended is still OK.
        let late = CallUpdateRequest {
            uuid,
            update: Some(call_update_request::Update::Done(true)),
        };
        client.call_update(to("rover", c, late)).await.unwrap();
    }

    #[tokio::test]
    async fn strangers_are_refused_and_a_flood_for_one_host_spares_the_others() {
        let (channel, c, r) = rendezvous().await;
        let refused = token(&channel, "rover", crate::ROBOT_SECRET, "guess").await;
        assert_eq!(refused.unwrap_err().code(), tonic::Code::Unauthenticated);
        let refused = token(&channel, "driver", "api-key", "guess").await;
        assert_eq!(refused.unwrap_err().code(), tonic::Code::Unauthenticated);
        let mut client = SignalingServiceClient::new(channel.clone());
        let offer = || CallRequest {
            sdp: "o".into(),
            disable_trickle: false,
        };
        let status = client
            .call(to("rover", "forged", offer()))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        let status = client.call(to("ghost", &c, offer())).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::NotFound);
        // A robot's token calls nothing, and answers for its own host only.
        let status = client.call(to("rover", &r, offer())).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::PermissionDenied);
        let (_keep, idle) = mpsc::channel::<AnswerResponse>(1);
        let status = client
            .answer(to("arm", &r, ReceiverStream::new(idle)))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::PermissionDenied);

        // Each side gets TURN credentials of its own.
        let config = client
            .optional_web_rtc_config(to("rover", &c, OptionalWebRtcConfigRequest {}))
            .await
            .unwrap()
            .into_inner()
            .config
            .unwrap();
        assert!(
            config.additional_ice_servers[0]
                .username
                .ends_with(":driver")
        );

        // Both robots online; "rover" never answers and is flooded.
        let arm = token(&channel, "arm", crate::ROBOT_SECRET, "4rm")
            .await
            .unwrap();
        let mut streams = Vec::new();
        for (host, t) in [("rover", &r), ("arm", &arm)] {
            let (tx, rx) = mpsc::channel::<AnswerResponse>(8);
            let stream = client
                .answer(to(host, t, ReceiverStream::new(rx)))
                .await
                .unwrap();
            streams.push((tx, stream.into_inner()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut flood = Vec::new();
        let mut busy = 0;
        for _ in 0..(crate::queue::MAX_WAITING + 8) {
            match client.call(to("rover", &c, offer())).await {
                Ok(stream) => flood.push(stream),
                Err(s) if s.code() == tonic::Code::Unavailable => busy += 1,
                Err(s) => panic!("unexpected {s}"),
            }
        }
        assert!(busy >= 7, "the flood was bounded: {busy} refused");
        let started = Instant::now();
        let _arm_call = client.call(to("arm", &c, offer())).await.unwrap();
        let (_, arm_stream) = &mut streams[1];
        let init = arm_stream.message().await.unwrap().unwrap();
        assert!(matches!(init.stage, Some(answer_request::Stage::Init(_))));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}
