//! Dialing a robot over WebRTC, with the robot itself as the signaling
//! server (as the Python SDK does for any address outside Viam's cloud).
//!
//! 1. `OptionalWebRTCConfig` gives extra ICE servers.
//! 2. We offer (two negotiated data channels) with `Call`; the robot
//!    answers on the call's stream, then trickles its candidates there.
//! 3. Our candidates go up with `CallUpdate` once the call's uuid is known,
//!    then `done`.
//! 4. The data channel opens: the connection is ready.

use super::client::ClientChannel;
use super::{engine, sdp};
use axle_proto::webrtc::signaling_service_client::SignalingServiceClient;
use axle_proto::webrtc::{
    CallRequest, CallUpdateRequest, OptionalWebRtcConfigRequest, call_response, call_update_request,
};
use http::{Request, Response};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::sync::{mpsc, oneshot, watch};
use tonic::body::Body;
use tonic::{Code, Status};
use tower::Service;
use tracing::debug;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::sdp::sdp_type::RTCSdpType;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a WebRTC dial failed.
#[derive(Debug, Error)]
pub enum DialError {
    /// The robot refused or failed signaling.
    #[error("signaling failed: {0}")]
    Signaling(String),
    /// The peer connection could not be built or negotiated.
    #[error("the peer connection failed: {0}")]
    Peer(String),
    /// The data channel did not open in time.
    #[error("the data channel did not open within {0:?}")]
    Timeout(Duration),
}

impl From<Status> for DialError {
    fn from(s: Status) -> Self {
        Self::Signaling(format!("{}: {}", code_name(s.code()), s.message()))
    }
}

impl From<webrtc::Error> for DialError {
    fn from(e: webrtc::Error) -> Self {
        Self::Peer(e.to_string())
    }
}

fn code_name(c: Code) -> String {
    format!("{c:?}").to_uppercase()
}

/// Dials over WebRTC, signaling on `signaling` (a channel to the robot,
/// with its token if it needs one) for `host` (the authority dialed, sent as
/// `rpc-host`). Gives up after `timeout`.
pub async fn dial<S>(
    signaling: S,
    host: &str,
    timeout: Duration,
) -> Result<ClientChannel, DialError>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
{
    let client = SignalingServiceClient::new(signaling);
    let pc = Arc::new(
        engine::api()
            .new_peer_connection(RTCConfiguration::default())
            .await?,
    );
    let dialed = tokio::time::timeout(timeout, negotiate(client, &pc, host)).await;
    match dialed {
        Ok(Ok(channel)) => Ok(channel),
        Ok(Err(e)) => {
            let _ = pc.close().await;
            Err(e)
        }
        Err(_) => {
            let _ = pc.close().await;
            Err(DialError::Timeout(timeout))
        }
    }
}

fn with_host<T>(message: T, host: &str) -> Result<tonic::Request<T>, DialError> {
    let mut req = tonic::Request::new(message);
    let value = host
        .parse()
        .map_err(|_| DialError::Signaling(format!("{host:?} is not a valid rpc-host")))?;
    req.metadata_mut().insert("rpc-host", value);
    Ok(req)
}

async fn negotiate<S>(
    mut client: SignalingServiceClient<S>,
    pc: &Arc<RTCPeerConnection>,
    host: &str,
) -> Result<ClientChannel, DialError>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
{
    let servers = match client
        .optional_web_rtc_config(with_host(OptionalWebRtcConfigRequest {}, host)?)
        .await
    {
        Ok(r) => {
            r.into_inner()
                .config
                .unwrap_or_default()
                .additional_ice_servers
        }
        Err(s) if s.code() == Code::Unimplemented => Vec::new(),
        Err(s) => return Err(s.into()),
    };
    if !servers.is_empty() {
        let ice_servers = servers.into_iter().map(sdp::ice_server_from_wire).collect();
        pc.set_configuration(RTCConfiguration {
            ice_servers,
            ..Default::default()
        })
        .await?;
    }
    let dc = engine::data_channels(pc).await?;
    let (opened_tx, mut opened) = oneshot::channel();
    let opened_tx = std::sync::Mutex::new(Some(opened_tx));
    dc.on_open(Box::new(move || {
        if let Some(tx) = opened_tx.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(());
        }
        Box::pin(async {})
    }));
    let (uuid_tx, uuid_rx) = watch::channel(None::<String>);
    trickle(pc, client.clone(), host.to_owned(), uuid_rx);
    let offer = pc.create_offer(None).await?;
    pc.set_local_description(offer.clone()).await?;
    let call = CallRequest {
        sdp: sdp::encode(&offer).map_err(|e| DialError::Peer(e.to_string()))?,
        disable_trickle: false,
    };
    let mut answers = client.call(with_host(call, host)?).await?.into_inner();
    // The call's stream: our answer, then the robot's candidates.
    loop {
        tokio::select! {
            _ = &mut opened => break,
            message = answers.message() => match message? {
                Some(r) => match r.stage {
                    Some(call_response::Stage::Init(init)) => {
                        let answer = sdp::decode(&init.sdp, RTCSdpType::Answer)
                            .map_err(|e| DialError::Peer(e.to_string()))?;
                        pc.set_remote_description(answer).await?;
                        let _ = uuid_tx.send(Some(r.uuid));
                    }
                    Some(call_response::Stage::Update(u)) => {
                        if let Some(c) = u.candidate {
                            pc.add_ice_candidate(sdp::candidate_from_wire(c)).await?;
                        }
                    }
                    None => {}
                },
                // The robot gathered everything; wait for the channel.
                None => {
                    let _ = (&mut opened).await;
                    break;
                }
            }
        }
    }
    debug!(host, "connected over WebRTC");
    Ok(ClientChannel::new(pc.clone(), dc))
}

/// Sends our candidates with `CallUpdate` as they are gathered, once the
/// call's uuid is known; `done` when gathering ends.
fn trickle<S>(
    pc: &RTCPeerConnection,
    client: SignalingServiceClient<S>,
    host: String,
    mut uuid: watch::Receiver<Option<String>>,
) where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
{
    let (tx, mut rx) = mpsc::unbounded_channel();
    pc.on_ice_candidate(Box::new(move |c| {
        let _ = tx.send(c.and_then(|c| c.to_json().ok()));
        Box::pin(async {})
    }));
    tokio::spawn(async move {
        let Ok(id) = uuid
            .wait_for(Option::is_some)
            .await
            .map(|u| u.clone().unwrap_or_default())
        else {
            return;
        };
        let mut client = client;
        while let Some(candidate) = rx.recv().await {
            let update = match candidate {
                Some(c) => call_update_request::Update::Candidate(sdp::candidate_to_wire(c)),
                None => call_update_request::Update::Done(true),
            };
            let done = matches!(update, call_update_request::Update::Done(_));
            let request = CallUpdateRequest {
                uuid: id.clone(),
                update: Some(update),
            };
            let Ok(request) = with_host(request, &host) else {
                return;
            };
            if client.call_update(request).await.is_err() || done {
                return;
            }
        }
    });
}
