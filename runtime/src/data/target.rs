//! Where synced files go: an S3 bucket or a local directory (a USB disk, a
//! NAS mount), through one `object_store` trait and one code path. And how
//! a failure is judged: *offline* (retry by itself later) or *misconfigured*
//! (say so, and wait for a fix), from the answer the store gave, without
//! probing anyone else.

use super::config::TargetConfig;
use object_store::aws::AmazonS3Builder;
use object_store::client::{HttpError, HttpErrorKind};
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
};
use std::error::Error as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Why a file did not reach the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// No route, refused, timed out, 5xx, throttled, a disk not mounted:
    /// sync pauses and tries again by itself.
    #[error("offline: {0}")]
    Offline(String),
    /// Bad credentials, no bucket, no permission: sync pauses until the
    /// config or the store is fixed. Nothing is moved aside.
    #[error("misconfigured: {0}")]
    Misconfigured(String),
}

impl Failure {
    /// What the store said, without the kind.
    pub fn reason(&self) -> &str {
        match self {
            Self::Offline(why) | Self::Misconfigured(why) => why,
        }
    }
}

/// An open store, and the prefix its keys go under.
pub struct Target {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    /// `s3://bucket/prefix` or `file:///dir`, for logs and status.
    pub url: String,
}

impl Target {
    /// Opens the store `config` names. A local directory that does not
    /// exist (yet) is offline: the disk may be plugged in later.
    pub fn open(config: &TargetConfig) -> Result<Self, Failure> {
        if let Some(dir) = config.url.strip_prefix("file://") {
            return Self::local(dir, &config.url);
        }
        let rest = config.url.trim_start_matches("s3://");
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Failure::Misconfigured(format!(
                "{}: no bucket named",
                config.url
            )));
        }
        // Fail fast and let the sync loop own the pause: object_store's
        // own defaults retry a black-holed server for three minutes.
        let retry = RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 2,
            retry_timeout: Duration::from_secs(10),
        };
        let options = ClientOptions::new()
            .with_allow_http(config.allow_http)
            .with_connect_timeout(Duration::from_secs(3))
            .with_timeout(Duration::from_secs(30));
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&config.region)
            .with_virtual_hosted_style_request(false)
            .with_retry(retry)
            .with_client_options(options);
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        match (&config.access_key_id, &config.secret_access_key) {
            (Some(id), Some(secret)) => {
                builder = builder
                    .with_access_key_id(id)
                    .with_secret_access_key(secret);
            }
            // Never fall back to instance metadata (169.254.169.254):
            // anonymous requests, which a public bucket takes.
            _ => builder = builder.with_skip_signature(true),
        }
        let store = builder
            .build()
            .map_err(|e| Failure::Misconfigured(format!("{}: {e}", config.url)))?;
        Ok(Self {
            store: Arc::new(store),
            prefix: prefix.trim_matches('/').to_string(),
            url: config.url.clone(),
        })
    }

    fn local(dir: &str, url: &str) -> Result<Self, Failure> {
        let root = Path::new(dir);
        if !root.is_dir() {
            return Err(Failure::Offline(format!(
                "{dir} is not there (a disk not mounted?)"
            )));
        }
        sweep_staging(root);
        let store = LocalFileSystem::new_with_prefix(root)
            .map_err(|e| Failure::Misconfigured(format!("{url}: {e}")))?
            .with_fsync(true);
        Ok(Self {
            store: Arc::new(store),
            prefix: String::new(),
            url: url.into(),
        })
    }

    /// The key for `relative` (a path under a sync directory).
    pub fn key(&self, relative: &str) -> String {
        match self.prefix.as_str() {
            "" => relative.to_string(),
            p => format!("{p}/{relative}"),
        }
    }

    /// Writes `bytes` under `key`. Writing the same bytes again under the
    /// same key leaves one object: that is what makes a retry safe.
    pub async fn put(&self, key: &str, bytes: bytes::Bytes) -> Result<(), Failure> {
        let key =
            Key::parse(key).map_err(|e| Failure::Misconfigured(format!("bad key {key:?}: {e}")))?;
        self.store
            .put(&key, PutPayload::from_bytes(bytes))
            .await
            .map(drop)
            .map_err(|e| judge(&e))
    }
}

/// A local store's `name#N` staging files are what a crash mid-put leaves;
/// nothing else deletes them.
fn sweep_staging(root: &Path) {
    for found in super::disk::walk(root, &[]) {
        let name = found
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        let staged = name
            .rsplit_once('#')
            .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if staged {
            let _ = std::fs::remove_file(&found.path);
        }
    }
}

/// Offline or misconfigured, from what the store answered.
pub fn judge(e: &object_store::Error) -> Failure {
    use object_store::Error as E;
    let text = short(&chain(e));
    match e {
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => Failure::Misconfigured(text),
        // On a put, NotFound is the bucket (or a local root) missing.
        E::NotFound { .. } => Failure::Misconfigured(text),
        _ if transport(e).is_some() => Failure::Offline(text),
        _ if io_kind(e).is_some_and(|k| k == std::io::ErrorKind::PermissionDenied) => {
            Failure::Misconfigured(text)
        }
        _ if [
            "400 Bad Request",
            "401 Unauthorized",
            "403 Forbidden",
            "404 Not Found",
        ]
        .iter()
        .any(|s| text.contains(s)) =>
        {
            Failure::Misconfigured(text)
        }
        // 5xx, 429, a full disk, and what we cannot tell: try again later.
        _ => Failure::Offline(text),
    }
}

/// The transport failure under an error, if that is what it is.
fn transport(e: &object_store::Error) -> Option<HttpErrorKind> {
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(h) = s.downcast_ref::<HttpError>() {
            return Some(h.kind());
        }
        source = s.source();
    }
    None
}

fn io_kind(e: &object_store::Error) -> Option<std::io::ErrorKind> {
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = s.source();
    }
    None
}

/// The error and its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// S3 errors carry the whole XML body and the URL: keep a line a person
/// can read, the store's own code and message first.
fn short(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let between = |open: &str, close: &str| {
        let start = one_line.find(open)? + open.len();
        let len = one_line[start..].find(close)?;
        Some(one_line[start..start + len].to_string())
    };
    let head = match (
        between("<Code>", "</Code>"),
        between("<Message>", "</Message>"),
    ) {
        (Some(code), Some(message)) => format!("{code}: {message}; "),
        (Some(code), None) => format!("{code}; "),
        _ => String::new(),
    };
    let full = format!("{head}{one_line}");
    match full.char_indices().nth(400) {
        Some((i, _)) => format!("{}…", &full[..i]),
        None => full,
    }
}
