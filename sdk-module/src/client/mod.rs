//! [`RobotClient`]: drives a robot over gRPC, with a session that keeps the
//! robot's safety promise.
//!
//! The client starts a session lazily, on its first safety-monitored call,
//! heartbeats it in the background every window/5 and tags monitored calls
//! with its id. If the client dies or freezes, the heartbeats stop and the
//! robot stops what this client drove. See [`Options::disable_sessions`] for
//! the opt-out.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use axle_sdk_module::client::{Options, RobotClient};
//! let robot = RobotClient::connect("127.0.0.1:8080", Options::default()).await?;
//! robot.motor("left").set_power(0.5).await?;
//! # Ok(()) }
//! ```

mod resources;
mod session;
mod transport;

pub use resources::{BaseClient, MotorClient};
pub use session::{Authorized, SID_HEADER, SessionChannel};
pub use transport::Transport;

use axle_proto::common::ResourceName;
use axle_proto::robot::robot_service_client::RobotServiceClient;
use axle_proto::robot::{ResourceNamesRequest, StopAllRequest};
use axle_proto::rpc::auth_service_client::AuthServiceClient;
use axle_proto::rpc::{AuthenticateRequest, Credentials};
use http::HeaderValue;
use hyper_util::rt::TokioIo;
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;
use tokio::net::UnixStream;
use tonic::Status;
use tonic::transport::{Channel, Endpoint, Uri};

/// How to connect.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long connecting may take before [`RobotClient::connect`] gives up.
    pub dial_timeout: Duration,
    /// Run without a session. Then nothing stops what this client drives
    /// when it dies: use it only for clients that must keep a robot moving
    /// after they leave, and know why.
    pub disable_sessions: bool,
    /// An API key to authenticate with: every call then carries the access
    /// token it is traded for.
    pub api_key: Option<ApiKey>,
    /// Call over a WebRTC peer connection, signaled at the dialed address;
    /// if that fails, fall back to the direct connection. Over TCP only,
    /// with the `webrtc` feature.
    pub webrtc: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            dial_timeout: Duration::from_secs(20),
            disable_sessions: false,
            api_key: None,
            webrtc: false,
        }
    }
}

/// An API key: its id (the entity) and its secret.
#[derive(Clone)]
pub struct ApiKey {
    /// The key's id.
    pub id: String,
    /// The secret.
    pub secret: String,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey {{ id: {:?}, secret: <hidden> }}", self.id)
    }
}

/// Why a connection could not be made.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The address is not `host:port`, `http://host:port`, `unix:PATH` or a path.
    #[error("bad robot address {address:?}: {reason}")]
    Address {
        /// The address given.
        address: String,
        /// What was wrong.
        reason: String,
    },
    /// Connecting failed.
    #[error("cannot connect to {address}: {reason}")]
    Connect {
        /// The address given.
        address: String,
        /// The transport's error, with its causes.
        reason: String,
    },
    /// The robot refused the API key.
    #[error("cannot connect to {address}: authentication failed: {reason}")]
    Auth {
        /// The address given.
        address: String,
        /// The robot's answer.
        reason: String,
    },
    /// Connecting took longer than [`Options::dial_timeout`].
    #[error("cannot connect to {address}: no connection within {timeout:?}")]
    Timeout {
        /// The address given.
        address: String,
        /// The dial timeout.
        timeout: Duration,
    },
}

/// A connection to a robot. Clones share the connection and the session.
#[derive(Clone)]
pub struct RobotClient {
    channel: SessionChannel,
}

impl RobotClient {
    /// Connects to `address`: `host:port` or `http://host:port` for TCP,
    /// `unix:PATH` or an absolute path for a Unix socket. Returns once the
    /// robot has answered (it lists its resources, as the Python client
    /// does), so a robot that is up but frozen fails here, within
    /// [`Options::dial_timeout`].
    pub async fn connect(address: &str, options: Options) -> Result<Self, ClientError> {
        let connecting = async {
            let channel = dial(address, options.dial_timeout).await?;
            let token =
                match &options.api_key {
                    Some(key) => Some(authenticate(&channel, key).await.map_err(|reason| {
                        ClientError::Auth {
                            address: address.into(),
                            reason,
                        }
                    })?),
                    None => None,
                };
            let direct = Authorized::new(Transport::Direct(channel), token);
            let (channel, webrtc_failed) = match options.webrtc && unix_path(address).is_none() {
                true => over_webrtc(direct, address, options.dial_timeout).await,
                false => (direct, None),
            };
            let client = Self {
                channel: SessionChannel::new(channel, options.disable_sessions),
            };
            match client.resource_names().await {
                Ok(_) => Ok(client),
                // A rendezvous signals for robots but serves none itself.
                Err(status)
                    if status.code() == tonic::Code::Unimplemented && webrtc_failed.is_some() =>
                {
                    Err(ClientError::Connect {
                        address: address.into(),
                        reason: format!(
                            "WebRTC failed ({}), and the address serves no robot directly (a rendezvous?)",
                            webrtc_failed.unwrap_or_default()
                        ),
                    })
                }
                Err(status) => Err(ClientError::Connect {
                    address: address.into(),
                    reason: format!("the robot did not answer: {status}"),
                }),
            }
        };
        tokio::time::timeout(options.dial_timeout, connecting)
            .await
            .map_err(|_| ClientError::Timeout {
                address: address.into(),
                timeout: options.dial_timeout,
            })?
    }

    /// The connection, for any generated service client: monitored calls
    /// made through it carry this client's session.
    pub fn channel(&self) -> SessionChannel {
        self.channel.clone()
    }

    /// The robot-wide service.
    pub fn robot(&self) -> RobotServiceClient<SessionChannel> {
        RobotServiceClient::new(self.channel())
    }

    /// The motor `name`.
    pub fn motor(&self, name: &str) -> MotorClient {
        MotorClient::new(self.channel(), name)
    }

    /// The base `name`.
    pub fn base(&self, name: &str) -> BaseClient {
        BaseClient::new(self.channel(), name)
    }

    /// The robot's resources.
    pub async fn resource_names(&self) -> Result<Vec<ResourceName>, Status> {
        let names = self.robot().resource_names(ResourceNamesRequest {}).await?;
        Ok(names.into_inner().resources)
    }

    /// Stops every actuator of the robot.
    pub async fn stop_all(&self) -> Result<(), Status> {
        self.robot()
            .stop_all(StopAllRequest::default())
            .await
            .map(drop)
    }

    /// Whether calls go over a WebRTC peer connection.
    pub fn is_webrtc(&self) -> bool {
        self.channel.transport().is_webrtc()
    }

    /// The id of this client's live session, if it has one.
    pub async fn session_id(&self) -> Option<String> {
        self.channel.session_id().await
    }
}

/// The same client over WebRTC, signaled on `direct`; `direct` itself if
/// the robot does not answer over WebRTC, and why.
#[cfg(feature = "webrtc")]
async fn over_webrtc(
    direct: Authorized,
    address: &str,
    timeout: Duration,
) -> (Authorized, Option<String>) {
    let host = address.split("://").last().unwrap_or(address);
    match crate::webrtc::dial(direct.clone(), host, timeout).await {
        Ok(channel) => {
            tracing::debug!(address, "calls go over WebRTC");
            (direct.over(Transport::WebRtc(channel)), None)
        }
        Err(e) => {
            tracing::warn!(address, error = %e, "WebRTC failed; calling directly");
            (direct, Some(e.to_string()))
        }
    }
}

#[cfg(not(feature = "webrtc"))]
async fn over_webrtc(
    direct: Authorized,
    address: &str,
    _: Duration,
) -> (Authorized, Option<String>) {
    tracing::warn!(
        address,
        "built without the webrtc feature; calling directly"
    );
    (direct, Some("built without the webrtc feature".into()))
}

/// Trades `key` for an access token; answers the `authorization` value.
async fn authenticate(channel: &Channel, key: &ApiKey) -> Result<HeaderValue, String> {
    let request = AuthenticateRequest {
        entity: key.id.clone(),
        credentials: Some(Credentials {
            r#type: "api-key".into(),
            payload: key.secret.clone(),
        }),
    };
    let token = AuthServiceClient::new(channel.clone())
        .authenticate(request)
        .await
        .map_err(|s| s.message().to_string())?
        .into_inner()
        .access_token;
    HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| "the robot answered a token that is not a header value".to_string())
}

async fn dial(address: &str, timeout: Duration) -> Result<Channel, ClientError> {
    let failed = |e: tonic::transport::Error| ClientError::Connect {
        address: address.into(),
        reason: error_chain(&e),
    };
    if let Some(path) = unix_path(address) {
        // The URI is required but unused: the connector decides where to go.
        let endpoint = Endpoint::from_static("http://localhost").connect_timeout(timeout);
        return endpoint
            .connect_with_connector(tower::service_fn(move |_: Uri| {
                let path = path.clone();
                async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(path).await?)) }
            }))
            .await
            .map_err(failed);
    }
    let uri = if address.contains("://") {
        address.to_string()
    } else {
        format!("http://{address}")
    };
    let endpoint = Endpoint::from_shared(uri).map_err(|e| ClientError::Address {
        address: address.into(),
        reason: e.to_string(),
    })?;
    endpoint
        .connect_timeout(timeout)
        .tcp_nodelay(true)
        .connect()
        .await
        .map_err(failed)
}

fn unix_path(address: &str) -> Option<PathBuf> {
    let path = address
        .strip_prefix("unix://")
        .or_else(|| address.strip_prefix("unix:"))
        .unwrap_or(address);
    path.starts_with('/').then(|| PathBuf::from(path))
}

/// An error and its causes on one line: transport errors hide the useful
/// part ("connection refused") in their source.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_pick_the_transport() {
        assert_eq!(unix_path("/tmp/a.sock"), Some("/tmp/a.sock".into()));
        assert_eq!(unix_path("unix:///tmp/a.sock"), Some("/tmp/a.sock".into()));
        assert_eq!(unix_path("unix:/tmp/a.sock"), Some("/tmp/a.sock".into()));
        assert_eq!(unix_path("127.0.0.1:8080"), None);
        assert_eq!(unix_path("http://robot:8080"), None);
    }

    #[tokio::test]
    async fn a_refused_connection_says_where_and_why() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let e = RobotClient::connect(&address, Options::default())
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains(&address) && e.to_lowercase().contains("refused"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_silent_address_times_out_at_the_dial_timeout() {
        // A listener that never accepts over a Unix socket: the kernel queues
        // the connection, and the HTTP/2 handshake never completes.
        let dir = std::env::temp_dir().join(format!("axle-dial-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("silent.sock");
        let _ = std::fs::remove_file(&path);
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let options = Options {
            dial_timeout: Duration::from_millis(200),
            ..Options::default()
        };
        let started = std::time::Instant::now();
        let outcome = RobotClient::connect(path.to_str().unwrap(), options).await;
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            matches!(outcome, Err(ClientError::Timeout { .. })),
            "expected a timeout"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
