//! `auth` and `network.tls_*`: who may drive the robot, and how the link to
//! it is encrypted. Any mistake here refuses the whole config: a robot must
//! never come up open because its auth section was misspelt.

use super::duration::{parse_duration, show_duration};
use serde_json::{Map, Value};
use std::fmt;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;
use tonic::transport::{Identity, Server, ServerTlsConfig};

/// One API key: its id (the entity a client names) and its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The key's id; sessions started with it are owned by this entity.
    pub id: String,
    /// The secret the client proves it holds.
    pub secret: String,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never let a secret reach a log line.
        write!(
            f,
            "ApiKey {{ id: {:?}, secret: <{} bytes> }}",
            self.id,
            self.secret.len()
        )
    }
}

/// `auth`: the API keys, and how long an access token lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// Every key of every `api-key` handler.
    pub keys: Vec<ApiKey>,
    /// `token_lifetime`: how long an access token is accepted.
    pub token_lifetime: Duration,
}

impl AuthConfig {
    /// The token lifetime when the config sets none.
    pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
    /// The lifetimes a config may set.
    pub const LIFETIME_RANGE: RangeInclusive<Duration> =
        Duration::from_secs(1)..=Duration::from_secs(24 * 3600);
}

/// `network.tls_cert_file` and `network.tls_key_file`: PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

use super::FieldError as Refusal;
use super::keys::{Key, Shape};

/// The keys of `auth`, for strict checks and the reference.
pub const AUTH_KEYS: &[Key] = &[
    Key::of(
        "handlers",
        "who may call: a list of handlers",
        Shape::List(&[
            Key::value("type", "\"api-key\""),
            Key::of(
                "config",
                "{\"<key id>\": \"<secret>\"}: the keys this handler accepts",
                Shape::Free,
            ),
        ]),
    ),
    Key::value(
        "token_lifetime",
        "how long an access token lasts (default \"1h\")",
    ),
];

/// Reads `auth`; `None` when the config has none (or no handlers).
pub fn parse_auth(v: &Value) -> Result<Option<AuthConfig>, Refusal> {
    let obj = v
        .as_object()
        .ok_or(("auth", format!("expected an object, got {v}")))?;
    let handlers = match obj.get("handlers") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(h)) => h,
        Some(other) => return Err(("auth.handlers", format!("expected a list, got {other}"))),
    };
    let mut keys: Vec<ApiKey> = Vec::new();
    for h in handlers {
        for key in parse_handler(h)? {
            if keys.iter().any(|k| k.id == key.id) {
                return Err((
                    "auth.handlers",
                    format!("key id {:?} appears twice", key.id),
                ));
            }
            keys.push(key);
        }
    }
    if keys.is_empty() {
        return Ok(None);
    }
    let token_lifetime = match obj.get("token_lifetime") {
        None | Some(Value::Null) => AuthConfig::DEFAULT_LIFETIME,
        Some(Value::String(s)) => {
            let d = parse_duration(s).map_err(|e| ("auth.token_lifetime", e))?;
            let range = AuthConfig::LIFETIME_RANGE;
            if !range.contains(&d) {
                return Err((
                    "auth.token_lifetime",
                    format!(
                        "{s:?} is outside the allowed range {} to {}",
                        show_duration(*range.start()),
                        show_duration(*range.end())
                    ),
                ));
            }
            d
        }
        Some(other) => {
            return Err((
                "auth.token_lifetime",
                format!("expected a duration string like \"1h\", got {other}"),
            ));
        }
    };
    Ok(Some(AuthConfig {
        keys,
        token_lifetime,
    }))
}

/// One handler: `{"type": "api-key", "config": {"<key id>": "<secret>", ...}}`.
fn parse_handler(h: &Value) -> Result<Vec<ApiKey>, Refusal> {
    const FIELD: &str = "auth.handlers";
    let obj = h
        .as_object()
        .ok_or((FIELD, format!("expected an object, got {h}")))?;
    match obj.get("type") {
        Some(Value::String(t)) if t == "api-key" => {}
        Some(other) => {
            return Err((
                FIELD,
                format!("handler type {other} is not supported; axle knows \"api-key\""),
            ));
        }
        None => return Err((FIELD, "a handler needs \"type\": \"api-key\"".into())),
    }
    let config: &Map<String, Value> = match obj.get("config") {
        Some(Value::Object(c)) => c,
        _ => {
            return Err((
                FIELD,
                "an api-key handler needs \"config\": {\"<key id>\": \"<secret>\"}".into(),
            ));
        }
    };
    let mut keys = Vec::new();
    for (id, secret) in config {
        if id == "key" || id == "keys" {
            return Err((
                FIELD,
                format!(
                    "legacy {id:?} lists are not supported; give {{\"<key id>\": \"<secret>\"}}"
                ),
            ));
        }
        match secret {
            Value::String(s) if !s.is_empty() && !id.is_empty() => keys.push(ApiKey {
                id: id.clone(),
                secret: s.clone(),
            }),
            _ => {
                return Err((
                    FIELD,
                    format!("key {id:?}: expected a non-empty secret string"),
                ));
            }
        }
    }
    Ok(keys)
}

/// Reads `network.tls_cert_file` and `network.tls_key_file`: both or neither.
pub fn parse_tls(network: Option<&Value>) -> Result<Option<TlsFiles>, Refusal> {
    let file = |field: &'static str| -> Result<Option<PathBuf>, Refusal> {
        match network.and_then(|n| n.get(field)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(PathBuf::from(s))),
            Some(other) => Err((
                if field == "tls_cert_file" {
                    "network.tls_cert_file"
                } else {
                    "network.tls_key_file"
                },
                format!("expected a file path, got {other}"),
            )),
        }
    };
    match (file("tls_cert_file")?, file("tls_key_file")?) {
        (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
        (None, None) => Ok(None),
        (Some(_), None) => Err((
            "network.tls_key_file",
            "missing; TLS needs both files".into(),
        )),
        (None, Some(_)) => Err((
            "network.tls_cert_file",
            "missing; TLS needs both files".into(),
        )),
    }
}

/// The TLS set-up for `files`, checked now: a certificate that cannot be
/// used fails here, at start, and not on the first connection.
pub fn load_tls(files: &TlsFiles) -> Result<ServerTlsConfig, String> {
    let read = |p: &std::path::Path| {
        std::fs::read(p).map_err(|e| format!("cannot read TLS file {}: {e}", p.display()))
    };
    let identity = Identity::from_pem(read(&files.cert)?, read(&files.key)?);
    let tls = ServerTlsConfig::new().identity(identity);
    Server::builder().tls_config(tls.clone()).map_err(|e| {
        format!(
            "cannot use TLS certificate {} with key {}: {e}",
            files.cert.display(),
            files.key.display()
        )
    })?;
    Ok(tls)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn api_keys_parse_and_secrets_stay_out_of_debug() {
        let auth =
            parse_auth(&json!({"handlers": [{"type": "api-key", "config": {"k1": "s3cret"}}]}))
                .unwrap()
                .unwrap();
        assert_eq!(auth.keys[0].id, "k1");
        assert_eq!(auth.token_lifetime, AuthConfig::DEFAULT_LIFETIME);
        assert!(!format!("{auth:?}").contains("s3cret"));
    }

    #[test]
    fn bad_auth_is_refused_naming_the_problem() {
        for (bad, says) in [
            (json!({"handlers": [{"type": "oauth"}]}), "not supported"),
            (
                json!({"handlers": [{"type": "api-key", "config": {"keys": ["a"]}}]}),
                "legacy",
            ),
            (
                json!({"handlers": [{"type": "api-key", "config": {"k": ""}}]}),
                "non-empty",
            ),
            (
                json!({"handlers": [{"type": "api-key"}]}),
                "needs \"config\"",
            ),
            (
                json!({"handlers": [{"type": "api-key", "config": {"k": "s"}}], "token_lifetime": "2d"}),
                "is not a duration",
            ),
            (
                json!({"handlers": [{"type": "api-key", "config": {"k": "s"}}, {"type": "api-key", "config": {"k": "t"}}]}),
                "appears twice",
            ),
        ] {
            let (_, message) = parse_auth(&bad).unwrap_err();
            assert!(message.contains(says), "{bad}: {message}");
        }
    }

    #[test]
    fn tls_needs_both_files() {
        assert!(parse_tls(None).unwrap().is_none());
        let both = json!({"tls_cert_file": "c.pem", "tls_key_file": "k.pem"});
        assert!(parse_tls(Some(&both)).unwrap().is_some());
        let half = json!({"tls_cert_file": "c.pem"});
        assert_eq!(
            parse_tls(Some(&half)).unwrap_err().0,
            "network.tls_key_file"
        );
    }
}
