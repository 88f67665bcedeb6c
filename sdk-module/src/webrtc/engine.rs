//! The webrtc-rs settings every axle peer connection uses, answerer or
//! dialer, and the two negotiated data channels Viam clients expect.

use std::sync::Arc;
use std::time::Duration;
use webrtc::api::setting_engine::SettingEngine;
use webrtc::api::{API, APIBuilder};
use webrtc::data_channel::RTCDataChannel;
use webrtc::data_channel::data_channel_init::RTCDataChannelInit;
use webrtc::ice::mdns::MulticastDnsMode;
use webrtc::peer_connection::RTCPeerConnection;

/// ICE calls a peer disconnected after this long without traffic. The far
/// side's keepalives come every 2 s, so shorter would flap.
pub const ICE_DISCONNECTED: Duration = Duration::from_secs(3);
/// ... and failed this long after that.
pub const ICE_FAILED: Duration = Duration::from_secs(2);
/// How often ICE checks a quiet pair.
pub const ICE_KEEPALIVE: Duration = Duration::from_secs(1);

/// A webrtc-rs API for axle's peers:
/// - loopback candidates, so a client on the robot's own computer connects;
/// - no multicast DNS: the far side's `<uuid>.local` candidates are dropped
///   and learnt as peer-reflexive instead, and no peer opens a socket on
///   5353 (our own candidates as mDNS names would hang clients that cannot
///   resolve them);
/// - ICE timeouts that notice a dead peer in about 5 s instead of 30.
pub fn api() -> API {
    let mut settings = SettingEngine::default();
    settings.set_include_loopback_candidate(true);

    settings.set_ice_multicast_dns_mode(MulticastDnsMode::Disabled);
    settings.set_ice_timeouts(
        Some(ICE_DISCONNECTED),
        Some(ICE_FAILED),
        Some(ICE_KEEPALIVE),
    );
    APIBuilder::new().with_setting_engine(settings).build()
}

/// Creates the two pre-negotiated, ordered channels: id 0 "data" (gRPC)
/// and id 1 "negotiation". Answers the data channel.
pub async fn data_channels(pc: &RTCPeerConnection) -> Result<Arc<RTCDataChannel>, webrtc::Error> {
    let init = |id| RTCDataChannelInit {
        ordered: Some(true),
        negotiated: Some(id),
        ..Default::default()
    };
    let data = pc
        .create_data_channel("data", Some(init(super::DATA_CHANNEL_ID)))
        .await?;
    pc.create_data_channel("negotiation", Some(init(super::NEGOTIATION_CHANNEL_ID)))
        .await?;
    Ok(data)
}
