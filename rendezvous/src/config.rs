//! The rendezvous's JSON config (`axle signal --config FILE`):
//!
//! ```json
//! {
//!   "network": {"bind_address": "0.0.0.0:443", "tls_cert_file": "…", "tls_key_file": "…"},
//!   "auth": {"handlers": [{"type": "api-key", "config": {"<key id>": "<key>"}}]},
//!   "hosts": {"rover.axle": {"secret": "<robot secret>", "api_keys": ["<key id>"]}},
//!   "ice_servers": [{"urls": ["stun:turn.example:3478"]}],
//!   "turn": {"urls": ["turn:turn.example:3478?transport=udp"], "secret": "<coturn static-auth-secret>", "ttl": "1h"}
//! }
//! ```
//!
//! `auth` and the TLS files read as in a robot's config. Every host needs a
//! secret (its robots prove it) and at least one API key (its callers use
//! one): a rendezvous never lets anyone reach a robot unauthenticated.

use axle_wire::settings::keys::{self, Key, Shape};
use axle_wire::settings::{
    AUTH_KEYS, ApiKey, AuthConfig, ICE_SERVER_KEYS, IceServer, TlsFiles, is_host_name, parse_auth,
    parse_duration, parse_ice_servers, parse_tls,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use thiserror::Error;

/// Every key a rendezvous config may hold; any other is refused.
pub const KEYS: &[Key] = &[
    Key::of(
        "network",
        "where it listens",
        Shape::Object(&[
            Key::value("bind_address", "host:port (default \"0.0.0.0:8443\")"),
            Key::value("tls_cert_file", "PEM certificate chain"),
            Key::value("tls_key_file", "PEM private key"),
        ]),
    ),
    Key::of("auth", "callers' API keys", Shape::Object(AUTH_KEYS)),
    Key::of(
        "hosts",
        "the hosts robots answer for",
        Shape::Map(&[
            Key::value("secret", "what its robots prove themselves with"),
            Key::value("api_keys", "ids of the API keys whose holders may call it"),
        ]),
    ),
    Key::of(
        "ice_servers",
        "handed to both sides",
        Shape::List(ICE_SERVER_KEYS),
    ),
    Key::of(
        "turn",
        "mint time-limited TURN credentials",
        Shape::Object(&[
            Key::value("urls", "turn: URLs of the server"),
            Key::value("secret", "coturn's static-auth-secret"),
            Key::value("ttl", "how long credentials last (default \"1h\")"),
        ]),
    ),
];

/// A rendezvous config that cannot be used.
#[derive(Debug, Error)]
pub enum RendezvousConfigError {
    /// The file could not be read.
    #[error("cannot read rendezvous config {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not JSON, or a field is wrong.
    #[error("rendezvous config {path}: {field}: {message}")]
    Field {
        /// The file.
        path: String,
        /// The offending field.
        field: String,
        /// What was wrong.
        message: String,
    },
}

/// One host that robots answer for and callers dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    /// The robots' secret, as an [`ApiKey`] whose id is the host.
    pub secret: ApiKey,
    /// The ids of the API keys whose holders may call this host.
    pub callers: BTreeSet<String>,
}

/// `turn`: time-limited credentials minted for a coturn `use-auth-secret`.
#[derive(Clone, PartialEq, Eq)]
pub struct TurnConfig {
    /// `turn:` URLs of the server.
    pub urls: Vec<String>,
    /// coturn's `static-auth-secret`.
    pub secret: String,
    /// How long minted credentials last.
    pub ttl: Duration,
}

impl std::fmt::Debug for TurnConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnConfig")
            .field("urls", &self.urls)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// The whole rendezvous config.
#[derive(Debug, Clone)]
pub struct RendezvousConfig {
    /// `network.bind_address` (default `0.0.0.0:8443`).
    pub bind_address: String,
    /// `network.tls_cert_file` and `network.tls_key_file`.
    pub tls: Option<TlsFiles>,
    /// `auth`: callers' API keys.
    pub callers: AuthConfig,
    /// `hosts`, by name.
    pub hosts: BTreeMap<String, HostEntry>,
    /// `ice_servers`: handed to both sides as they are.
    pub ice_servers: Vec<IceServer>,
    /// `turn`: handed to both sides with fresh credentials.
    pub turn: Option<TurnConfig>,
}

type Refusal = (String, String);

impl RendezvousConfig {
    /// Where the rendezvous listens when the config does not say.
    pub const DEFAULT_BIND: &str = "0.0.0.0:8443";
    /// How long TURN credentials last when the config does not say.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);

    /// Reads and parses the file at `path`.
    pub fn load(path: &std::path::Path) -> Result<Self, RendezvousConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| RendezvousConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text).map_err(|(field, message)| RendezvousConfigError::Field {
            path: shown,
            field,
            message,
        })
    }

    /// Parses config text.
    pub fn parse(text: &str) -> Result<Self, Refusal> {
        let root: Value =
            serde_json::from_str(text).map_err(|e| ("(file)".into(), format!("not JSON: {e}")))?;
        if !root.is_object() {
            return Err(("(top level)".into(), "expected a JSON object".into()));
        }
        let problems = keys::check(&root, KEYS, &|_| None).problems;
        if !problems.is_empty() {
            let lines: Vec<_> = problems.iter().map(ToString::to_string).collect();
            return Err(("unknown keys".into(), format!("\n  {}", lines.join("\n  "))));
        }
        let owned = |(f, m): (&'static str, String)| (f.to_string(), m);
        let network = root.get("network");
        let bind_address = match network.and_then(|n| n.get("bind_address")) {
            None | Some(Value::Null) => Self::DEFAULT_BIND.to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err((
                    "network.bind_address".into(),
                    format!("expected \"host:port\", got {other}"),
                ));
            }
        };
        let callers = match root.get("auth") {
            Some(v) => parse_auth(v).map_err(owned)?,
            None => None,
        }
        .ok_or((
            "auth".to_string(),
            "callers need API keys: give auth.handlers".to_string(),
        ))?;
        let hosts = parse_hosts(root.get("hosts"), &callers)?;
        Ok(Self {
            bind_address,
            tls: parse_tls(network).map_err(owned)?,
            callers,
            hosts,
            ice_servers: parse_ice_servers(root.get("ice_servers"), "ice_servers")
                .map_err(owned)?,
            turn: parse_turn(root.get("turn"))?,
        })
    }

    /// The robots' secrets, as keys whose ids are their hosts.
    pub fn robot_keys(&self) -> AuthConfig {
        AuthConfig {
            keys: self.hosts.values().map(|h| h.secret.clone()).collect(),
            token_lifetime: self.callers.token_lifetime,
        }
    }
}

fn parse_hosts(
    v: Option<&Value>,
    callers: &AuthConfig,
) -> Result<BTreeMap<String, HostEntry>, Refusal> {
    let Some(Value::Object(hosts)) = v else {
        return Err((
            "hosts".into(),
            "expected {\"<host>\": {\"secret\": …, \"api_keys\": [\"<key id>\"]}}".into(),
        ));
    };
    let mut out = BTreeMap::new();
    for (name, entry) in hosts {
        let field = format!("hosts.{name}");
        if !is_host_name(name) {
            return Err((field, "expected a host name like \"rover.axle\"".into()));
        }
        let secret = match entry.get("secret") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err((field, "secret: expected a non-empty string".into())),
        };
        let ids = entry.get("api_keys").and_then(Value::as_array).ok_or((
            field.clone(),
            "api_keys: expected a list of API key ids".to_string(),
        ))?;
        let mut allowed = BTreeSet::new();
        for id in ids {
            let Some(id) = id
                .as_str()
                .filter(|id| callers.keys.iter().any(|k| k.id == *id))
            else {
                return Err((
                    field,
                    format!("api_keys: {id} is not a key id of auth.handlers"),
                ));
            };
            allowed.insert(id.to_string());
        }
        if allowed.is_empty() {
            return Err((field, "api_keys: give at least one key id".into()));
        }
        if callers.keys.iter().any(|k| k.id == *name) {
            return Err((
                field,
                "a host cannot share its name with an API key id".into(),
            ));
        }
        let secret = ApiKey {
            id: name.clone(),
            secret,
        };
        out.insert(
            name.clone(),
            HostEntry {
                secret,
                callers: allowed,
            },
        );
    }
    Ok(out)
}

fn parse_turn(v: Option<&Value>) -> Result<Option<TurnConfig>, Refusal> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let field = || "turn".to_string();
    let urls: Vec<String> = v
        .get("urls")
        .and_then(Value::as_array)
        .and_then(|u| u.iter().map(|u| u.as_str().map(str::to_owned)).collect())
        .ok_or((field(), "urls: expected a list of turn: URLs".to_string()))?;
    if urls.is_empty()
        || urls
            .iter()
            .any(|u| !u.starts_with("turn:") && !u.starts_with("turns:"))
    {
        return Err((field(), format!("urls: expected turn: URLs, got {urls:?}")));
    }
    let secret = match v.get("secret") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err((
                field(),
                "secret: expected coturn's static-auth-secret".into(),
            ));
        }
    };
    let ttl = match v.get("ttl") {
        None | Some(Value::Null) => RendezvousConfig::DEFAULT_TTL,
        Some(Value::String(s)) => parse_duration(s).map_err(|e| ("turn.ttl".to_string(), e))?,
        Some(other) => {
            return Err((
                "turn.ttl".into(),
                format!("expected a duration like \"1h\", got {other}"),
            ));
        }
    };
    Ok(Some(TurnConfig { urls, secret, ttl }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({
            "auth": {"handlers": [{"type": "api-key", "config": {"driver": "k3y"}}]},
            "hosts": {"rover.axle": {"secret": "s3cret", "api_keys": ["driver"]}},
            "turn": {"urls": ["turn:10.0.0.1:3478?transport=udp"], "secret": "t", "ttl": "10m"}
        })
    }

    #[test]
    fn a_good_config_reads_whole() {
        let c = RendezvousConfig::parse(&good().to_string()).unwrap();
        assert_eq!(c.bind_address, RendezvousConfig::DEFAULT_BIND);
        let host = &c.hosts["rover.axle"];
        assert_eq!(host.secret.id, "rover.axle");
        assert!(host.callers.contains("driver"));
        assert_eq!(c.turn.as_ref().unwrap().ttl, Duration::from_secs(600));
        assert_eq!(c.robot_keys().keys.len(), 1);
        assert!(!format!("{c:?}").contains("s3cret") && !format!("{c:?}").contains("k3y"));
    }

    #[test]
    fn mistakes_name_their_field() {
        let cases = [
            ("/auth", json!(null), "auth"),
            ("/hosts/rover.axle/api_keys", json!([]), "hosts.rover.axle"),
            (
                "/hosts/rover.axle/api_keys",
                json!(["stranger"]),
                "hosts.rover.axle",
            ),
            ("/hosts/rover.axle/secret", json!(""), "hosts.rover.axle"),
            ("/turn/urls", json!(["stun:x"]), "turn"),
            ("/turn/ttl", json!("soon"), "turn.ttl"),
        ];
        for (pointer, value, field) in cases {
            let mut c = good();
            *c.pointer_mut(pointer).unwrap() = value;
            let (got, message) = RendezvousConfig::parse(&c.to_string()).unwrap_err();
            assert_eq!(got, field, "{pointer}: {message}");
        }
    }

    #[test]
    fn typos_are_refused_with_the_nearest_key() {
        let mut c = good();
        c["hosts"]["rover.axle"]["api_key"] = json!(["driver"]);
        c["turn"]["tll"] = json!("1h");
        c["ice_server"] = json!([]);
        let (field, message) = RendezvousConfig::parse(&c.to_string()).unwrap_err();
        assert_eq!(field, "unknown keys");
        for needle in [
            "hosts.rover.axle: unknown key \"api_key\"; did you mean \"api_keys\"?",
            "turn: unknown key \"tll\"; did you mean \"ttl\"?",
            "(top level): unknown key \"ice_server\"; did you mean \"ice_servers\"?",
        ] {
            assert!(message.contains(needle), "{message}");
        }
    }
}
