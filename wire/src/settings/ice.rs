//! ICE servers (STUN and TURN) and host names, as a robot's config and a
//! rendezvous's read them.

use super::FieldError;
use serde_json::Value;

/// A STUN or TURN server handed to WebRTC clients (`OptionalWebRTCConfig`)
/// and used by axle's own peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceServer {
    /// `stun:host:port`, `turn:host:port?transport=udp`, ...
    pub urls: Vec<String>,
    /// TURN user name; empty for STUN.
    pub username: String,
    /// TURN password; empty for STUN.
    pub credential: String,
}

/// A list of `{urls, username, credential}` at `field` (absent = none).
pub fn parse_ice_servers(
    v: Option<&Value>,
    field: &'static str,
) -> Result<Vec<IceServer>, FieldError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(|i| parse_ice_server(i, field)).collect(),
        Some(other) => Err((
            field,
            format!("expected a list of {{urls, username, credential}}, got {other}"),
        )),
    }
}

/// The keys of one ICE server, for strict checks and the reference.
pub const ICE_SERVER_KEYS: &[super::keys::Key] = &[
    super::keys::Key::value("urls", "stun: or turn: URLs"),
    super::keys::Key::value("username", "for a TURN server"),
    super::keys::Key::value("credential", "for a TURN server"),
];

fn parse_ice_server(v: &Value, field: &'static str) -> Result<IceServer, FieldError> {
    let text = |key: &str| match v.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err((field, format!("{key}: expected a string, got {other}"))),
    };
    let urls = match v.get("urls") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|u| u.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or((field, format!("urls: expected strings, got {v}")))?,
        _ => return Err((field, format!("each server needs \"urls\", got {v}"))),
    };
    if let Some(bad) = urls.iter().find(|u| {
        !["stun:", "stuns:", "turn:", "turns:"]
            .iter()
            .any(|s| u.starts_with(s))
    }) {
        return Err((field, format!("{bad:?} is not a stun: or turn: URL")));
    }
    Ok(IceServer {
        urls,
        username: text("username")?,
        credential: text("credential")?,
    })
}

/// Letters, digits, `-` and `.`, as DNS names are; at most 253 characters.
pub fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}
