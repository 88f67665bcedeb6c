//! Session descriptions on the signaling wire: standard base64 of the JSON
//! `{"type": "offer" | "answer", "sdp": "v=0..."}`; and ICE candidates and
//! servers between their wire and webrtc-rs forms.

use axle_proto::webrtc::{IceCandidate, IceServer};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use thiserror::Error;
use webrtc::ice_transport::ice_candidate::RTCIceCandidateInit;
use webrtc::ice_transport::ice_server::RTCIceServer;
use webrtc::peer_connection::sdp::sdp_type::RTCSdpType;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;

/// A session description that could not be read.
#[derive(Debug, Error)]
pub enum SdpError {
    /// Not base64.
    #[error("the SDP is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// Not the JSON `{"type", "sdp"}`.
    #[error("the SDP is not JSON {{\"type\", \"sdp\"}}: {0}")]
    Json(#[from] serde_json::Error),
    /// Of another type than expected.
    #[error("expected an SDP of type {expected}, got {got}")]
    Type {
        /// What was expected.
        expected: RTCSdpType,
        /// What came.
        got: RTCSdpType,
    },
}

/// Encodes `desc` for the signaling wire.
pub fn encode(desc: &RTCSessionDescription) -> Result<String, SdpError> {
    Ok(STANDARD.encode(serde_json::to_vec(desc)?))
}

/// Decodes a description of type `expected` from the signaling wire.
pub fn decode(text: &str, expected: RTCSdpType) -> Result<RTCSessionDescription, SdpError> {
    let desc: RTCSessionDescription = serde_json::from_slice(&STANDARD.decode(text.trim())?)?;
    if desc.sdp_type != expected {
        return Err(SdpError::Type {
            expected,
            got: desc.sdp_type,
        });
    }
    Ok(desc)
}

/// A candidate as signaling carries it.
pub fn candidate_to_wire(c: RTCIceCandidateInit) -> IceCandidate {
    IceCandidate {
        candidate: c.candidate,
        sdp_mid: c.sdp_mid,
        sdpm_line_index: c.sdp_mline_index.map(u32::from),
        username_fragment: c.username_fragment,
    }
}

/// A candidate from signaling, for webrtc-rs.
pub fn candidate_from_wire(c: IceCandidate) -> RTCIceCandidateInit {
    RTCIceCandidateInit {
        candidate: c.candidate,
        sdp_mid: c.sdp_mid,
        sdp_mline_index: c.sdpm_line_index.and_then(|i| u16::try_from(i).ok()),
        username_fragment: c.username_fragment,
    }
}

/// An ICE server from signaling, for webrtc-rs.
pub fn ice_server_from_wire(s: IceServer) -> RTCIceServer {
    RTCIceServer {
        urls: s.urls,
        username: s.username,
        credential: s.credential,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let offer: RTCSessionDescription =
            serde_json::from_str(r#"{"type": "offer", "sdp": "v=0\r\n"}"#).unwrap();
        let text = encode(&offer).unwrap();
        assert_eq!(decode(&text, RTCSdpType::Offer).unwrap().sdp, "v=0\r\n");
        assert!(matches!(
            decode(&text, RTCSdpType::Answer),
            Err(SdpError::Type { .. })
        ));
        assert!(matches!(
            decode("%%%", RTCSdpType::Offer),
            Err(SdpError::Base64(_))
        ));
        let not_json = STANDARD.encode("v=0");
        assert!(matches!(
            decode(&not_json, RTCSdpType::Offer),
            Err(SdpError::Json(_))
        ));
    }
}
