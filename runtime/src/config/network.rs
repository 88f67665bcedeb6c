//! `network.fqdn`, `network.mdns` and `network.webrtc`: how clients find
//! this part and reach it peer to peer.

use axle_wire::settings::{FieldError, IceServer, is_host_name, parse_ice_servers};
use serde_json::Value;

/// How clients find and reach this part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReachConfig {
    /// `network.fqdn`: the part's name; `rpc-host` may name it, and mDNS
    /// advertises it (and the same with dots turned to dashes).
    pub fqdn: Option<String>,
    /// `network.mdns` (default true): advertise `_rpc._tcp.local`.
    pub mdns: bool,
    /// `network.webrtc.enabled` (default true): answer WebRTC offers.
    pub webrtc: bool,
    /// `network.webrtc.ice_servers`.
    pub ice_servers: Vec<IceServer>,
    /// `network.signaling`: the rendezvous this part answers calls from.
    pub signaling: Option<UplinkConfig>,
    /// `network.cors_origins`: browser origins allowed to call, beside the
    /// page's own (`https://dash.example.com`, `http://localhost:3000`).
    pub cors_origins: Vec<String>,
    /// `network.shutdown_without_auth` (default false): RobotService/Shutdown
    /// is served to anyone even when the robot has no API keys.
    pub shutdown_without_auth: bool,
}

/// `network.signaling`: a rendezvous that this part keeps outbound `Answer`
/// streams open to, so that clients anywhere can call it by host.
#[derive(Clone, PartialEq, Eq)]
pub struct UplinkConfig {
    /// `address`: the rendezvous, `host:port`.
    pub address: String,
    /// `host`: the name clients dial; the rendezvous routes it here.
    pub host: String,
    /// `secret`: proves to the rendezvous that this part may answer `host`.
    pub secret: String,
    /// `insecure`: h2c instead of TLS to the rendezvous.
    pub insecure: bool,
}

impl std::fmt::Debug for UplinkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never let a secret reach a log line.
        f.debug_struct("UplinkConfig")
            .field("address", &self.address)
            .field("host", &self.host)
            .field("insecure", &self.insecure)
            .finish_non_exhaustive()
    }
}

impl Default for ReachConfig {
    fn default() -> Self {
        Self {
            fqdn: None,
            mdns: true,
            webrtc: true,
            ice_servers: Vec::new(),
            signaling: None,
            cors_origins: Vec::new(),
            shutdown_without_auth: false,
        }
    }
}

/// Reads the reach settings from `network` (absent = defaults).
pub fn parse_reach(network: Option<&Value>) -> Result<ReachConfig, FieldError> {
    let mut reach = ReachConfig::default();
    let Some(network) = network.filter(|v| !v.is_null()) else {
        return Ok(reach);
    };
    match network.get("fqdn") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if is_host_name(s) => reach.fqdn = Some(s.clone()),
        Some(other) => {
            return Err((
                "network.fqdn",
                format!("expected a host name like \"rover.axle\", got {other}"),
            ));
        }
    }
    reach.mdns = flag(network.get("mdns"), "network.mdns", true)?;
    reach.shutdown_without_auth = flag(
        network.get("shutdown_without_auth"),
        "network.shutdown_without_auth",
        false,
    )?;
    reach.signaling = parse_uplink(network.get("signaling"))?;
    reach.cors_origins = parse_origins(network.get("cors_origins"))?;
    let Some(webrtc) = network.get("webrtc").filter(|v| !v.is_null()) else {
        return Ok(reach);
    };
    if !webrtc.is_object() {
        return Err((
            "network.webrtc",
            format!("expected an object, got {webrtc}"),
        ));
    }
    reach.webrtc = flag(webrtc.get("enabled"), "network.webrtc.enabled", true)?;
    reach.ice_servers = parse_ice_servers(webrtc.get("ice_servers"), "network.webrtc.ice_servers")?;
    Ok(reach)
}

/// `network.cors_origins`: a list of `scheme://host[:port]`.
fn parse_origins(v: Option<&Value>) -> Result<Vec<String>, FieldError> {
    const FIELD: &str = "network.cors_origins";
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let bad = |got: &Value| {
        (
            FIELD,
            format!("expected a list of origins like \"https://dash.example.com\", got {got}"),
        )
    };
    let items = v.as_array().ok_or_else(|| bad(v))?;
    items
        .iter()
        .map(|item| match item.as_str() {
            Some(o) if is_origin(o) => Ok(o.trim_end_matches('/').to_ascii_lowercase()),
            _ => Err(bad(item)),
        })
        .collect()
}

/// `http://host[:port]` or `https://…`, nothing after: what browsers send.
fn is_origin(o: &str) -> bool {
    let Some(rest) = o
        .strip_prefix("http://")
        .or_else(|| o.strip_prefix("https://"))
    else {
        return false;
    };
    let rest = rest.trim_end_matches('/');
    !rest.is_empty() && !rest.contains(['/', '?', '#', ' ', '*'])
}

/// `network.signaling`: `{address, host, secret, insecure}`.
fn parse_uplink(v: Option<&Value>) -> Result<Option<UplinkConfig>, FieldError> {
    const FIELD: &str = "network.signaling";
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let text = |key: &str| match v.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        other => Err((
            FIELD,
            format!(
                "{key}: expected a non-empty string, got {}",
                other.unwrap_or(&Value::Null)
            ),
        )),
    };
    if !v.is_object() {
        return Err((
            FIELD,
            format!("expected {{address, host, secret, insecure}}, got {v}"),
        ));
    }
    let address = text("address")?;
    if !address
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
    {
        return Err((
            FIELD,
            format!("address: expected host:port, got {address:?}"),
        ));
    }
    let host = text("host")?;
    if !is_host_name(&host) {
        return Err((
            FIELD,
            format!("host: expected a host name like \"rover.axle\", got {host:?}"),
        ));
    }
    Ok(Some(UplinkConfig {
        address,
        host,
        secret: text("secret")?,
        insecure: flag(v.get("insecure"), "network.signaling.insecure", false)?,
    }))
}

fn flag(v: Option<&Value>, field: &'static str, default: bool) -> Result<bool, FieldError> {
    match v {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err((field, format!("expected true or false, got {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_fields() {
        assert_eq!(parse_reach(None).unwrap(), ReachConfig::default());
        let r = parse_reach(Some(&json!({
            "fqdn": "rover.axle",
            "mdns": false,
            "webrtc": {"ice_servers": [{"urls": ["turn:10.0.0.1:3478"], "username": "u", "credential": "c"}]}
        })))
        .unwrap();
        assert_eq!(r.fqdn.as_deref(), Some("rover.axle"));
        assert!(!r.mdns && r.webrtc);
        assert_eq!(r.ice_servers[0].urls, ["turn:10.0.0.1:3478"]);
        let r = parse_reach(Some(&json!({
            "signaling": {"address": "203.0.113.10:443", "host": "rover.axle", "secret": "s3cret", "insecure": true}
        })))
        .unwrap();
        let uplink = r.signaling.unwrap();
        assert_eq!(
            (uplink.address.as_str(), uplink.host.as_str()),
            ("203.0.113.10:443", "rover.axle")
        );
        assert!(uplink.insecure);
        assert!(!format!("{uplink:?}").contains("s3cret"));
    }

    #[test]
    fn bad_fields_are_named() {
        for (bad, field) in [
            (json!({"fqdn": "no spaces"}), "network.fqdn"),
            (json!({"mdns": "yes"}), "network.mdns"),
            (json!({"webrtc": []}), "network.webrtc"),
            (
                json!({"signaling": {"host": "rover.axle", "secret": "s"}}),
                "network.signaling",
            ),
            (
                json!({"signaling": {"address": "r:1", "host": "a b", "secret": "s"}}),
                "network.signaling",
            ),
            (
                json!({"signaling": {"address": "r:1", "host": "rover", "secret": "s", "insecure": 1}}),
                "network.signaling.insecure",
            ),
            (
                json!({"webrtc": {"ice_servers": [{"urls": "http://x"}]}}),
                "network.webrtc.ice_servers",
            ),
        ] {
            assert_eq!(parse_reach(Some(&bad)).unwrap_err().0, field, "{bad}");
        }
    }
}
