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
//! Not yet: robots' secrets per host, callers' keys per host, TURN
//! credentials (issue 14).

use super::queue::{AnswererEnd, CallQueue, FromAnswerer, FromCaller, Offer, QueueError};
use crate::config::IceServer;
use crate::sessions::Owner;
use crate::webrtc::signaling::webrtc_config;
use axle_proto::webrtc::signaling_service_server::SignalingService;
use axle_proto::webrtc::{
    AnswerRequest, AnswerRequestDoneStage, AnswerRequestErrorStage, AnswerRequestHeartbeatStage,
    AnswerRequestInitStage, AnswerRequestUpdateStage, AnswerResponse, CallRequest, CallResponse,
    CallResponseInitStage, CallResponseUpdateStage, CallUpdateRequest, CallUpdateResponse,
    OptionalWebRtcConfigRequest, OptionalWebRtcConfigResponse, WebRtcConfig, answer_request,
    answer_response, call_response, call_update_request,
};
use futures::Stream;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use tracing::{debug, info};

/// How long a caller waits for a robot's answer (as upstream).
pub const OFFER_DEADLINE: Duration = Duration::from_secs(10);
/// How often a waiting answer worker hears from the rendezvous.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// The rendezvous's signaling service over call queue `Q`.
pub struct Rendezvous<Q> {
    queue: Arc<Q>,
    ice_servers: Vec<IceServer>,
}

impl<Q: CallQueue> Rendezvous<Q> {
    /// Pairs calls through `queue`; hands `ice_servers` to both sides.
    pub fn new(queue: Arc<Q>, ice_servers: Vec<IceServer>) -> Self {
        Self { queue, ice_servers }
    }

    fn config(&self) -> WebRtcConfig {
        webrtc_config(&self.ice_servers)
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
        let caller_entity = match Owner::of(req.extensions()) {
            Owner::Entity(e) => e.to_string(),
            Owner::Modules => String::new(),
        };
        let uuid = uuid::Uuid::new_v4().to_string();
        let offer = Offer {
            uuid: uuid.clone(),
            sdp: req.into_inner().sdp,
            caller_entity,
            deadline: Instant::now() + OFFER_DEADLINE,
        };
        let caller = self.queue.offer(host, offer).map_err(refused)?;
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
        let heartbeats = req
            .metadata()
            .get("heartbeats-allowed")
            .is_some_and(|v| v == "true");
        let registration = self.queue.register(hosts.clone());
        let inbound = req.into_inner();
        let (tx, rx) = mpsc::channel(16);
        let config = self.config();
        tokio::spawn(async move {
            let mut inbound = inbound;
            let end = tokio::select! {
                end = registration.next() => end,
                () = beat(&tx, heartbeats) => None,
                _ = inbound.message() => None,
            };
            drop(registration);
            if let Some(end) = end {
                info!(hosts = ?hosts, call = %end.offer.uuid, "offer handed to a robot");
                relay(end, inbound, tx, config).await;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn optional_web_rtc_config(
        &self,
        _: Request<OptionalWebRtcConfigRequest>,
    ) -> Result<Response<OptionalWebRtcConfigResponse>, Status> {
        Ok(Response::new(OptionalWebRtcConfigResponse {
            config: Some(self.config()),
        }))
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
    let mut updates_open = true;
    loop {
        tokio::select! {
            from_robot = inbound.message() => {
                let Ok(Some(r)) = from_robot else { return };
                let event = match r.stage {
                    _ if r.uuid != uuid => FromAnswerer::Error("the robot answered another call".into()),
                    Some(answer_response::Stage::Init(i)) => FromAnswerer::Init(i.sdp),
                    Some(answer_response::Stage::Update(u)) => match u.candidate {
                        Some(c) => FromAnswerer::Candidate(c),
                        None => continue,
                    },
                    Some(answer_response::Stage::Done(_)) => FromAnswerer::Done,
                    Some(answer_response::Stage::Error(e)) => {
                        FromAnswerer::Error(e.status.map(|s| s.message).unwrap_or_default())
                    }
                    None => continue,
                };
                let last = matches!(event, FromAnswerer::Done | FromAnswerer::Error(_));
                if end.answers.send(event).await.is_err() || last {
                    return;
                }
            }
            from_caller = end.updates.recv(), if updates_open => {
                let stage = match from_caller {
                    Some(FromCaller::Candidate(c)) => answer_request::Stage::Update(AnswerRequestUpdateStage { candidate: Some(c) }),
                    Some(FromCaller::Done) => answer_request::Stage::Done(AnswerRequestDoneStage {}),
                    Some(FromCaller::Error(e)) => answer_request::Stage::Error(AnswerRequestErrorStage {
                        status: Some(axle_proto::google::rpc::Status { code: tonic::Code::Unknown as i32, message: e, details: Vec::new() }),
                    }),
                    // The caller has said all it will; the robot may still answer.
                    None => {
                        updates_open = false;
                        continue;
                    }
                };
                if tx.send(request(stage)).await.is_err() {
                    return;
                }
            }
            // The caller left: the robot's own deadline ends its side.
            () = end.answers.closed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rendezvous::MemoryQueue;
    use axle_proto::webrtc::signaling_service_client::SignalingServiceClient;
    use axle_proto::webrtc::signaling_service_server::SignalingServiceServer;
    use axle_proto::webrtc::{
        AnswerResponseDoneStage, AnswerResponseInitStage, AnswerResponseUpdateStage, IceCandidate,
    };
    use tonic::transport::Channel;

    async fn rendezvous() -> Channel {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let service = Rendezvous::new(Arc::new(MemoryQueue::default()), Vec::new());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(SignalingServiceServer::new(service))
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        tonic::transport::Endpoint::from_shared(format!("http://{address}"))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    fn to<T>(host: &str, message: T) -> Request<T> {
        let mut req = Request::new(message);
        req.metadata_mut().insert("rpc-host", host.parse().unwrap());
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
        let mut client = SignalingServiceClient::new(rendezvous().await);
        let offer = |sdp: &str| CallRequest {
            sdp: sdp.into(),
            disable_trickle: false,
        };
        // No robot for the host: NOT_FOUND at once.
        let offline = client.call(to("rover", offer("o"))).await.unwrap_err();
        assert_eq!(offline.code(), tonic::Code::NotFound);
        assert!(
            offline.message().contains("appears to be offline"),
            "{offline}"
        );

        // The robot opens an Answer stream for its host.
        let (robot_tx, robot_rx) = mpsc::channel(8);
        let mut robot = client
            .clone()
            .answer(to("rover", ReceiverStream::new(robot_rx)))
            .await
            .unwrap()
            .into_inner();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut caller = client
            .call(to("rover", offer("the offer")))
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
            client.call_update(to("rover", req)).await.unwrap();
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
        client.call_update(to("rover", late)).await.unwrap();
    }
}
