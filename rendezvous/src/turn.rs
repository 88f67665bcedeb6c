//! Time-limited TURN credentials for a coturn server run with
//! `use-auth-secret` (the TURN REST scheme, draft-uberti-behave-turn-rest):
//! the user name is `<unix expiry>:<who>`, the password
//! `base64(HMAC-SHA1(static-auth-secret, user name))`. coturn checks both
//! without ever hearing from the rendezvous; a leaked pair dies at expiry.

use crate::config::TurnConfig;
use axle_wire::settings::IceServer;
use base64::Engine;
use ring::hmac;
use std::time::{SystemTime, UNIX_EPOCH};

/// Credentials for `who`, valid for the config's TTL from `now`.
pub fn mint(turn: &TurnConfig, who: &str, now: SystemTime) -> IceServer {
    let expiry = (now + turn.ttl)
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    // coturn splits the user name at the first ':'; keep `who` free of it.
    let username = format!("{expiry}:{}", who.replace(':', "_"));
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, turn.secret.as_bytes());
    let tag = hmac::sign(&key, username.as_bytes());
    IceServer {
        urls: turn.urls.clone(),
        username,
        credential: base64::engine::general_purpose::STANDARD.encode(tag.as_ref()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn credentials_follow_the_rest_scheme() {
        let turn = TurnConfig {
            urls: vec!["turn:10.0.0.1:3478?transport=udp".into()],
            secret: "north".into(),
            ttl: Duration::from_secs(3600),
        };
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let s = mint(&turn, "driver", at);
        assert_eq!(s.username, "1700003600:driver");
        // printf %s 1700003600:driver | openssl dgst -sha1 -hmac north -binary | base64
        assert_eq!(s.credential, "gCPSPR4dcYqwYgNymDrepa75SME=");
    }
}
