//! `proto.rpc.webrtc.v1.SignalingService`, served on every public listener:
//! each `Call` is answered here, in process, by a new [`PeerActor`].
//!
//! The call's stream carries our answer first, then each of our ICE
//! candidates as it is gathered, and ends when gathering does. The caller
//! trickles its own candidates with `CallUpdate`. Anything that keeps us
//! from answering fails the call at once, so the client falls back to
//! direct gRPC instead of waiting out its dial timeout.

use super::channel::{CallService, ChannelServer};
use super::hosts::Hosts;
use super::peer::{Event, PeerActor, Peers, RemoteCandidate, Serve};
use crate::config::IceServer;
use actix::{Actor, Addr, ArbiterHandle};
use axle_proto::webrtc::signaling_service_server::SignalingService;
use axle_proto::webrtc::{
    AnswerRequest, AnswerResponse, CallRequest, CallResponse, CallResponseInitStage,
    CallResponseUpdateStage, CallUpdateRequest, CallUpdateResponse, OptionalWebRtcConfigRequest,
    OptionalWebRtcConfigResponse, call_response, call_update_request,
};
use axle_sdk_module::webrtc::{engine, sdp};
use axle_wire::WebRtcPeer;
use axle_wire::auth::Authenticator;
use axle_wire::signaling::FromAnswerer;
use axle_wire::signaling::webrtc_config;
use axle_wire::{Owner, peer_of};
use futures::Stream;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use tracing::{debug, info, warn};
use webrtc::api::API;
use webrtc::ice_transport::ice_candidate::RTCIceCandidate;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::sdp::sdp_type::RTCSdpType;

/// Peers one part answers at once; more calls get `RESOURCE_EXHAUSTED`.
pub const MAX_PEERS: usize = 64;

/// One offer to answer, from a local `Call` or a rendezvous.
pub struct Incoming {
    /// The call's id.
    pub uuid: String,
    /// The caller's offer, as signaled (base64 of JSON).
    pub offer: String,
    /// Who the caller is: its sessions are owned by it.
    pub caller: Owner,
    /// Where the caller is, for logs.
    pub peer: String,
    /// ICE servers beside this part's own (a rendezvous's TURN).
    pub ice_servers: Vec<IceServer>,
    /// The caller was authenticated by a rendezvous, not by this part's keys.
    pub vouched: bool,
}

/// Answers WebRTC calls.
pub struct Signaling {
    api: API,
    auth: Option<Arc<Authenticator>>,
    peers: Arc<Peers>,
    service: CallService,
    arbiter: ArbiterHandle,
    hosts: Hosts,
    ice_servers: Vec<IceServer>,
}

impl Signaling {
    /// Answers calls for `hosts`, serving each peer's calls on `service`
    /// (as `auth` still allows); peer actors run on `arbiter`.
    pub fn new(
        service: CallService,
        auth: Option<Arc<Authenticator>>,
        arbiter: ArbiterHandle,
        hosts: Hosts,
        ice_servers: Vec<IceServer>,
        peers: Arc<Peers>,
    ) -> Self {
        Self {
            api: engine::api(),
            auth,
            peers,
            service,
            arbiter,
            hosts,
            ice_servers,
        }
    }

    fn check_host<T>(&self, req: &Request<T>) -> Result<(), Status> {
        let hosts: Vec<_> = req.metadata().get_all("rpc-host").iter().collect();
        let [host] = hosts[..] else {
            return Err(Status::invalid_argument(
                "expected exactly one rpc-host metadata value naming this robot",
            ));
        };
        let host = host.to_str().unwrap_or_default();
        if !self.hosts.names_us(host) {
            return Err(Status::invalid_argument(format!(
                "host not preconfigured: {host:?} does not name this robot"
            )));
        }
        Ok(())
    }

    /// Builds the peer for `call`, sends the answer on `tx`, and starts
    /// gathering; each candidate follows on `tx`, then `Done`. The same for
    /// a local `Call` and an offer relayed by a rendezvous.
    pub async fn answer_offer(
        &self,
        call: Incoming,
        tx: mpsc::Sender<FromAnswerer>,
    ) -> Result<(), Status> {
        let offer = sdp::decode(&call.offer, RTCSdpType::Offer)
            .map_err(|e| Status::invalid_argument(format!("malformed offer: {e}")))?;
        let servers: Vec<_> = self
            .ice_servers
            .iter()
            .chain(&call.ice_servers)
            .cloned()
            .collect();
        let config = RTCConfiguration {
            ice_servers: webrtc_config(&servers)
                .additional_ice_servers
                .into_iter()
                .map(sdp::ice_server_from_wire)
                .collect(),
            ..Default::default()
        };
        let pc = Arc::new(
            self.api
                .new_peer_connection(config)
                .await
                .map_err(unavailable)?,
        );
        let uuid = call.uuid;
        let connection = axle_wire::connections::Connection::open();
        let connection_id = connection.id();
        let actor = PeerActor::new(
            uuid.clone(),
            call.peer.clone(),
            pc.clone(),
            self.peers.clone(),
            connection,
        );
        let addr = PeerActor::start_in_arbiter(&self.arbiter, |_| actor);
        self.peers.insert(uuid.clone(), addr.clone());
        let peer = WebRtcPeer {
            peer: format!("webrtc:{}", call.peer).into(),
            call: uuid.into(),
            connection: connection_id,
        };
        // A rendezvous vouches for its callers with keys of its own.
        let auth = if call.vouched {
            None
        } else {
            self.auth.clone()
        };
        let result = self
            .negotiate(&pc, &addr, offer, (call.caller, auth), peer, tx)
            .await;
        if result.is_err() {
            addr.do_send(super::peer::Close("negotiation failed"));
        }
        result
    }

    /// The peers this part answers, by call uuid.
    pub fn peers(&self) -> &Peers {
        &self.peers
    }

    /// Whether this part takes no more peers.
    pub fn is_full(&self) -> bool {
        self.peers.len() >= MAX_PEERS
    }

    async fn negotiate(
        &self,
        pc: &Arc<RTCPeerConnection>,
        addr: &Addr<PeerActor>,
        offer: webrtc::peer_connection::sdp::session_description::RTCSessionDescription,
        (owner, auth): (Owner, Option<Arc<Authenticator>>),
        peer: WebRtcPeer,
        tx: mpsc::Sender<FromAnswerer>,
    ) -> Result<(), Status> {
        let dc = engine::data_channels(pc).await.map_err(unavailable)?;
        let server = ChannelServer::new(dc.clone(), self.service.clone(), owner, auth, peer).await;
        addr.do_send(Serve(server.clone()));
        watch(pc, &dc, addr, &server);
        pc.set_remote_description(offer)
            .await
            .map_err(|e| Status::invalid_argument(format!("malformed offer: {e}")))?;
        let answer = pc.create_answer(None).await.map_err(unavailable)?;
        let init = sdp::encode(&answer).map_err(|e| Status::internal(e.to_string()))?;
        // The answer must precede every candidate, and candidates are only
        // gathered once the local description is set.
        tx.send(FromAnswerer::Init(init))
            .await
            .map_err(|_| Status::cancelled("the caller left"))?;
        trickle(pc, tx);
        pc.set_local_description(answer)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

fn unavailable(e: webrtc::Error) -> Status {
    Status::unavailable(format!("cannot answer over WebRTC: {e}"))
}

/// Routes the connection's events to its actor, and data-channel messages
/// to its gRPC server. Callbacks hold weak references only.
fn watch(
    pc: &RTCPeerConnection,
    dc: &webrtc::data_channel::RTCDataChannel,
    addr: &Addr<PeerActor>,
    server: &Arc<ChannelServer>,
) {
    let weak = addr.downgrade();
    let send = move |e: Event| {
        if let Some(a) = weak.upgrade() {
            a.do_send(e);
        }
    };
    let on_state = send.clone();
    pc.on_peer_connection_state_change(Box::new(move |s| {
        on_state(Event::State(s));
        Box::pin(async {})
    }));
    let on_open = send.clone();
    dc.on_open(Box::new(move || {
        on_open(Event::Opened);
        Box::pin(async {})
    }));
    let on_close = send.clone();
    dc.on_close(Box::new(move || {
        on_close(Event::ChannelClosed);
        Box::pin(async {})
    }));
    let server = Arc::downgrade(server);
    dc.on_message(Box::new(move |m| {
        if let Some(server) = server.upgrade()
            && let Err(e) = server.handle(&m.data)
        {
            send(Event::Garbage(e.to_string()));
        }
        Box::pin(async {})
    }));
}

/// Sends each local candidate on `tx` as it is gathered; the end of
/// gathering ends the call's stream.
fn trickle(pc: &RTCPeerConnection, tx: mpsc::Sender<FromAnswerer>) {
    let tx = Arc::new(Mutex::new(Some(tx)));
    pc.on_ice_candidate(Box::new(move |c: Option<RTCIceCandidate>| {
        let mut guard = tx.lock().unwrap_or_else(|e| e.into_inner());
        let Some(sender) = (match c {
            Some(_) => guard.clone(),
            None => guard.take(),
        }) else {
            return Box::pin(async {});
        };
        Box::pin(async move {
            let event = match c.map(|c| c.to_json()) {
                None => FromAnswerer::Done,
                Some(Ok(init)) => FromAnswerer::Candidate(sdp::candidate_to_wire(init)),
                Some(Err(e)) => return debug!(error = %e, "local candidate not sent"),
            };
            let _ = sender.send(event).await;
        })
    }));
}

/// One stage of the local `Call` stream.
fn call_response(uuid: &str, event: FromAnswerer) -> Result<CallResponse, Status> {
    let stage = match event {
        FromAnswerer::Init(sdp) => call_response::Stage::Init(CallResponseInitStage { sdp }),
        FromAnswerer::Candidate(c) => {
            call_response::Stage::Update(CallResponseUpdateStage { candidate: Some(c) })
        }
        FromAnswerer::Done => return Err(Status::internal("the call already ended")),
        FromAnswerer::Error(e) => return Err(Status::unknown(format!("error from answerer: {e}"))),
    };
    Ok(CallResponse {
        uuid: uuid.to_owned(),
        stage: Some(stage),
    })
}

type CallStream = Pin<Box<dyn Stream<Item = Result<CallResponse, Status>> + Send>>;
type AnswerStream = Pin<Box<dyn Stream<Item = Result<AnswerRequest, Status>> + Send>>;

#[tonic::async_trait]
impl SignalingService for Signaling {
    type CallStream = CallStream;
    type AnswerStream = AnswerStream;

    async fn call(&self, req: Request<CallRequest>) -> Result<Response<CallStream>, Status> {
        self.check_host(&req)?;
        if req.get_ref().disable_trickle {
            return Err(Status::invalid_argument(
                "disable_trickle is not supported: axle trickles its candidates",
            ));
        }
        if self.is_full() {
            warn!(peers = MAX_PEERS, "WebRTC call refused: too many peers");
            return Err(Status::resource_exhausted(format!(
                "this robot serves at most {MAX_PEERS} WebRTC peers; connect directly"
            )));
        }
        let peer = peer_of(req.extensions());
        let uuid = uuid::Uuid::new_v4().to_string();
        let call = Incoming {
            uuid: uuid.clone(),
            caller: Owner::of(req.extensions()),
            peer: peer.clone(),
            offer: req.into_inner().sdp,
            ice_servers: Vec::new(),
            vouched: false,
        };
        let (tx, rx) = mpsc::channel(16);
        let answered = self.answer_offer(call, tx);
        if let Err(status) = answered.await {
            warn!(peer, error = %status.message(), "WebRTC call refused");
            return Err(status);
        }
        debug!(peer, "WebRTC call answered");
        let stream = ReceiverStream::new(rx)
            .take_while(|e| *e != FromAnswerer::Done)
            .map(move |e| call_response(&uuid, e));
        Ok(Response::new(Box::pin(stream)))
    }

    async fn call_update(
        &self,
        req: Request<CallUpdateRequest>,
    ) -> Result<Response<CallUpdateResponse>, Status> {
        // Always OK: clients treat a failed update as a failed dial, and a
        // call that already ended has nothing to update.
        let r = req.into_inner();
        let Some(peer) = self.peers.get(&r.uuid) else {
            return Ok(Response::new(CallUpdateResponse {}));
        };
        match r.update {
            Some(call_update_request::Update::Candidate(c)) => {
                peer.do_send(RemoteCandidate(sdp::candidate_from_wire(c)))
            }
            Some(call_update_request::Update::Error(e)) => {
                info!(call = %r.uuid, error = %e.message, "the caller gave up on the call");
                peer.do_send(super::peer::Close("the caller gave up"));
            }
            Some(call_update_request::Update::Done(_)) | None => {}
        }
        Ok(Response::new(CallUpdateResponse {}))
    }

    async fn answer(
        &self,
        _: Request<Streaming<AnswerResponse>>,
    ) -> Result<Response<AnswerStream>, Status> {
        Err(Status::unimplemented(
            "this robot answers its own calls; it is not a signaling server for other answerers",
        ))
    }

    async fn optional_web_rtc_config(
        &self,
        req: Request<OptionalWebRtcConfigRequest>,
    ) -> Result<Response<OptionalWebRtcConfigResponse>, Status> {
        self.check_host(&req)?;
        Ok(Response::new(OptionalWebRtcConfigResponse {
            config: Some(webrtc_config(&self.ice_servers)),
        }))
    }
}
