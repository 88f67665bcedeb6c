//! `remotes`: the sub-parts whose resources this part serves as its own.

use super::{ApiKey, open_entry, text_field};
use axle_wire::settings::parse_duration;
use serde_json::Value;
use std::time::Duration;
use thiserror::Error;

/// One well-formed remote entry.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteConfig {
    /// Unique among remotes; its resources are served as `<name>:<resource>`.
    pub name: String,
    /// Where the sub-part serves: `host:port`, or a Unix socket path.
    pub address: String,
    /// Replaces `<name>:` in front of the sub-part's resource names.
    pub prefix: Option<String>,
    /// How often the link is checked (ResourceNames, bounded by the same
    /// time): a lost link is seen within twice this.
    pub check_interval: Duration,
    /// How long a forwarded call that is not a motion may wait for the
    /// sub-part before it fails DEADLINE_EXCEEDED.
    pub call_timeout: Duration,
    /// `auth`: the API key this part authenticates to the sub-part with.
    pub auth: Option<ApiKey>,
    /// `webrtc`: reach the sub-part over a WebRTC peer connection (signaled
    /// at `address`), falling back to direct gRPC if it does not answer.
    pub webrtc: bool,
}

impl RemoteConfig {
    /// The check interval when the config sets none.
    pub const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(1);
    /// The call timeout when the config sets none.
    pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);

    /// The name this part serves the remote's resource `name` under.
    pub fn local_name(&self, name: &str) -> String {
        match &self.prefix {
            Some(prefix) => format!("{prefix}{name}"),
            None => format!("{}:{name}", self.name),
        }
    }
}

/// A remote entry that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("remote {name:?}: {field}: {message}")]
pub struct RemoteError {
    /// The remote's name, or `remotes[i]` if it has none.
    pub name: String,
    /// The field at fault.
    pub field: String,
    /// What was wrong.
    pub message: String,
}

/// A remote entry as read: usable, or refused with its error.
pub type RemoteEntry = Result<RemoteConfig, RemoteError>;

/// Reads `remotes[index]`.
pub fn parse_remote(index: usize, value: &Value) -> RemoteEntry {
    let err = |name: &str, field: &str, message: String| RemoteError {
        name: name.into(),
        field: field.into(),
        message,
    };
    let (obj, name) = open_entry("remotes", index, value)
        .map_err(|(name, field, message)| err(&name, field, message))?;
    let text = |field: &str| text_field(obj, field).map_err(|m| err(&name, field, m));
    let address = text("address")?
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            err(
                &name,
                "address",
                "missing; set \"host:port\" or a socket path".into(),
            )
        })?
        .to_string();
    let duration = |field: &str, default: Duration| -> Result<Duration, RemoteError> {
        let Some(s) = text(field)? else {
            return Ok(default);
        };
        match parse_duration(s).map_err(|e| err(&name, field, e))? {
            d if d.is_zero() => Err(err(&name, field, "must be longer than 0s".into())),
            d => Ok(d),
        }
    };
    Ok(RemoteConfig {
        address,
        prefix: text("prefix")?.map(str::to_string),
        check_interval: duration(
            "connection_check_interval",
            RemoteConfig::DEFAULT_CHECK_INTERVAL,
        )?,
        call_timeout: duration("call_timeout", RemoteConfig::DEFAULT_CALL_TIMEOUT)?,
        auth: remote_auth(obj.get("auth")).map_err(|m| err(&name, "auth", m))?,
        webrtc: match obj.get("webrtc") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(err(
                    &name,
                    "webrtc",
                    format!("expected true or false, got {other}"),
                ));
            }
        },
        name,
    })
}

/// `auth: {entity: <key id>, credentials: {type: "api-key", payload: <secret>}}`.
fn remote_auth(v: Option<&Value>) -> Result<Option<ApiKey>, String> {
    let v = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    fn text(v: Option<&Value>) -> Option<&str> {
        v.and_then(Value::as_str).filter(|s| !s.is_empty())
    }
    let creds = v.get("credentials");
    match text(creds.and_then(|c| c.get("type"))) {
        Some("api-key") => {}
        Some(other) => {
            return Err(format!(
                "credentials type {other:?} is not supported; use \"api-key\""
            ));
        }
        None => return Err("expected {\"entity\": <key id>, \"credentials\": {\"type\": \"api-key\", \"payload\": <secret>}}".into()),
    }
    let id = text(v.get("entity")).ok_or("entity: expected the API key id")?;
    let secret = text(creds.and_then(|c| c.get("payload")))
        .ok_or("credentials.payload: expected the API key")?;
    Ok(Some(ApiKey {
        id: id.into(),
        secret: secret.into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_remote_and_names_its_resources() {
        let r = parse_remote(0, &json!({"name": "sub", "address": "127.0.0.1:9090"})).unwrap();
        assert_eq!(r.local_name("left"), "sub:left");
        assert_eq!(r.check_interval, RemoteConfig::DEFAULT_CHECK_INTERVAL);
        let r = parse_remote(
            0,
            &json!({"name": "arm", "address": "/tmp/a.sock", "prefix": "arm_", "connection_check_interval": "250ms"}),
        )
        .unwrap();
        assert_eq!(r.local_name("left"), "arm_left");
        assert_eq!(r.check_interval, Duration::from_millis(250));
        let r = parse_remote(
            0,
            &json!({"name": "sub", "address": "x", "auth": {"entity": "k", "credentials": {"type": "api-key", "payload": "p"}}}),
        )
        .unwrap();
        let key = r.auth.unwrap();
        assert_eq!((key.id.as_str(), key.secret.as_str()), ("k", "p"));
    }

    #[test]
    fn bad_entries_name_the_field() {
        for (v, field) in [
            (json!({"address": "x"}), "name"),
            (json!({"name": "sub"}), "address"),
            (json!({"name": "sub", "address": 5}), "address"),
            (
                json!({"name": "sub", "address": "x", "connection_check_interval": "0s"}),
                "connection_check_interval",
            ),
            (
                json!({"name": "sub", "address": "x", "auth": {"entity": "k", "credentials": {"type": "robot-secret", "payload": "p"}}}),
                "auth",
            ),
            (
                json!({"name": "sub", "address": "x", "auth": {"credentials": {"type": "api-key", "payload": "p"}}}),
                "auth",
            ),
        ] {
            assert_eq!(parse_remote(0, &v).unwrap_err().field, field, "{v}");
        }
    }
}
