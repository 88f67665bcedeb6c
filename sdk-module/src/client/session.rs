//! The client half of sessions: a channel that starts a session on the first
//! safety-monitored call, heartbeats it, and tags monitored calls with it.
//!
//! - Which calls are monitored comes from the protos
//!   ([`axle_proto::is_safety_monitored`]), as on the server.
//! - A heartbeat the robot refuses drops the session; the next monitored
//!   call starts a new one before it runs. Nothing else does: the robot
//!   alone judges a deadline. A slow answer may still renew (the robot
//!   counts a heartbeat that arrived in time however late it reads it), and
//!   after a lost connection the next heartbeat goes over a new one, so a
//!   blip shorter than the window keeps the session and what it drives.
//! - A monitored call answered `SESSION_EXPIRED` drops the session and is
//!   sent once more under a new one. Monitored calls are unary, so the
//!   request is buffered for that.
//! - A server that answers StartSession UNIMPLEMENTED has no sessions: the
//!   client runs without them from then on.

use axle_proto::robot::robot_service_client::RobotServiceClient;
use axle_proto::robot::{SendSessionHeartbeatRequest, StartSessionRequest};
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tonic::body::Body;
use tonic::{Code, Status};
use tower::{Service, ServiceExt};
use tracing::{debug, info, warn};

/// The request header carrying the session id.
pub const SID_HEADER: &str = "viam-sid";

use super::transport::{BoxError, Transport};

/// A gRPC channel that adds this client's session to monitored calls, and
/// its access token (if it authenticated) to every call. Use it with any
/// generated service client.
#[derive(Clone)]
pub struct SessionChannel {
    inner: Authorized,
    sessions: Arc<Sessions>,
}

/// A channel that sends `authorization: Bearer <token>` on every call.
#[derive(Clone)]
pub struct Authorized {
    inner: Transport,
    token: Option<HeaderValue>,
}

impl Authorized {
    /// `channel`, sending `token` (the whole header value) if there is one.
    pub fn new(channel: Transport, token: Option<HeaderValue>) -> Self {
        Self {
            inner: channel,
            token,
        }
    }

    /// The header value it sends, if any.
    pub fn token(&self) -> Option<&HeaderValue> {
        self.token.as_ref()
    }

    /// The same token, over another transport.
    pub fn over(&self, transport: Transport) -> Self {
        Self::new(transport, self.token.clone())
    }

    /// The transport calls go over.
    pub fn transport(&self) -> &Transport {
        &self.inner
    }
}

impl Service<Request<Body>> for Authorized {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        if let Some(token) = &self.token {
            req.headers_mut()
                .insert(http::header::AUTHORIZATION, token.clone());
        }
        self.inner.call(req)
    }
}

struct Sessions {
    disabled: bool,
    /// StartSession and heartbeats bypass the session logic.
    raw: Authorized,
    /// Held across StartSession, so concurrent first calls share one session.
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The server answered StartSession UNIMPLEMENTED.
    unsupported: bool,
    current: Option<Current>,
}

struct Current {
    id: String,
    heartbeats: JoinHandle<()>,
}

impl Drop for Current {
    fn drop(&mut self) {
        self.heartbeats.abort();
    }
}

impl SessionChannel {
    pub(crate) fn new(channel: Authorized, disable_sessions: bool) -> Self {
        Self {
            inner: channel.clone(),
            sessions: Arc::new(Sessions {
                disabled: disable_sessions,
                raw: channel,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// The `authorization` value this channel sends, if it authenticated.
    pub fn token(&self) -> Option<&HeaderValue> {
        self.inner.token()
    }

    /// The transport calls go over.
    pub fn transport(&self) -> &Transport {
        self.inner.transport()
    }

    pub(crate) async fn session_id(&self) -> Option<String> {
        let state = self.sessions.state.lock().await;
        state.current.as_ref().map(|c| c.id.clone())
    }
}

impl Sessions {
    /// The session id a monitored call carries, starting a session if none
    /// is live. `None` when sessions are off or unsupported.
    async fn current(self: &Arc<Self>) -> Result<Option<String>, Status> {
        if self.disabled {
            return Ok(None);
        }
        let mut state = self.state.lock().await;
        if let Some(c) = &state.current {
            return Ok(Some(c.id.clone()));
        }
        if state.unsupported {
            return Ok(None);
        }
        let mut robot = RobotServiceClient::new(self.raw.clone());
        let started = match robot.start_session(StartSessionRequest::default()).await {
            Ok(r) => r.into_inner(),
            Err(s) if s.code() == Code::Unimplemented => {
                info!("the robot has no sessions; running without");
                state.unsupported = true;
                return Ok(None);
            }
            Err(s) => return Err(s),
        };
        let window = started
            .heartbeat_window
            .and_then(|d| Duration::try_from(d).ok())
            .filter(|w| !w.is_zero())
            .ok_or_else(|| Status::internal("StartSession answered without a heartbeat window"))?;
        debug!(session = %started.id, ?window, "session started");
        let heartbeats = tokio::spawn(heartbeat(
            Arc::downgrade(self),
            self.raw.clone(),
            started.id.clone(),
            window,
        ));
        state.current = Some(Current {
            id: started.id.clone(),
            heartbeats,
        });
        Ok(Some(started.id))
    }

    /// Drops session `id` if it is still the current one.
    async fn reset(&self, id: &str) {
        let mut state = self.state.lock().await;
        if state.current.as_ref().is_some_and(|c| c.id == id) {
            state.current = None;
        }
    }
}

/// After this many windows without an answer a heartbeat is given up.
const UNANSWERED: u32 = 20;

/// Heartbeats session `id` every window/5 until a heartbeat fails, the
/// session is dropped, or the client is. Heartbeats go on schedule, not
/// one after the other's answer: a slow answer must not delay the next
/// heartbeat, or a busy robot would see gaps of a round trip and more.
///
/// An answer that is late is not a failure. A robot that ran behind (or
/// this process, descheduled) reads the heartbeats queued meanwhile, and
/// they renew the session; giving it up here would end a live session. A
/// heartbeat is abandoned only after [`UNANSWERED`] windows, which bounds
/// those in flight.
async fn heartbeat(sessions: Weak<Sessions>, raw: Authorized, id: String, window: Duration) {
    let robot = RobotServiceClient::new(raw);
    let mut tick = tokio::time::interval(window / 5);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    let mut in_flight = FuturesUnordered::new();
    let failure = loop {
        tokio::select! {
            _ = tick.tick() => {
                let mut robot = robot.clone();
                let request = SendSessionHeartbeatRequest { id: id.clone() };
                in_flight.push(async move {
                    tokio::time::timeout(window * UNANSWERED, robot.send_session_heartbeat(request)).await
                });
            }
            Some(answer) = in_flight.next(), if !in_flight.is_empty() => match answer {
                Ok(Ok(_)) => {}
                Ok(Err(status)) if refused(&status) => break status.to_string(),
                Ok(Err(status)) => debug!(session = %id, error = %status, "a heartbeat did not reach the robot; the next one goes on"),
                Err(_) => debug!(session = %id, "a heartbeat went unanswered for {UNANSWERED} windows"),
            },
        }
    };
    warn!(session = %id, error = %failure, "heartbeat failed; the next monitored call starts a new session");
    if let Some(s) = sessions.upgrade() {
        // This aborts the task at its next await; there is none.
        s.reset(&id).await;
    }
}

/// Whether the robot answered a heartbeat with a refusal (the session is
/// gone, or this client may not keep it), rather than the heartbeat failing
/// on its way: a lost connection, a robot restarting.
fn refused(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::InvalidArgument
            | Code::NotFound
            | Code::PermissionDenied
            | Code::Unauthenticated
            | Code::Unimplemented
            | Code::FailedPrecondition
    )
}

/// Whether a call failed writing to a connection the server had closed, so
/// the server never saw it.
fn never_sent(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        cause = c.source();
    }
    false
}

/// A trailers-only answer `INVALID_ARGUMENT: SESSION_EXPIRED`.
fn session_expired(response: &Response<Body>) -> bool {
    let h = response.headers();
    h.get("grpc-status").is_some_and(|v| v == "3")
        && h.get("grpc-message")
            .is_some_and(|v| v == "SESSION_EXPIRED")
}

impl Service<Request<Body>> for SessionChannel {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if self.sessions.disabled || !axle_proto::is_safety_monitored(req.uri().path()) {
            return self.inner.call(req);
        }
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        Box::pin(monitored(ready, self.sessions.clone(), req))
    }
}

/// Sends a monitored call under the current session, and once more under a
/// new one if the server says the session expired.
async fn monitored(
    mut inner: Authorized,
    sessions: Arc<Sessions>,
    req: Request<Body>,
) -> Result<Response<Body>, BoxError> {
    let (parts, body) = req.into_parts();
    let bytes = body.collect().await?.to_bytes();
    let mut retried = false;
    // Calls queued on the closed connection each fail once before the
    // channel reconnects.
    const RESENDS: u32 = 3;
    let mut resent = 0;
    loop {
        let sid = match sessions.current().await {
            Err(e) if resent < RESENDS && never_sent(&e) => {
                debug!(error = %e, "connection was closed; starting the session again");
                resent += 1;
                continue;
            }
            sid => sid?,
        };
        let mut attempt = Request::new(Body::new(Full::new(bytes.clone())));
        *attempt.method_mut() = parts.method.clone();
        *attempt.uri_mut() = parts.uri.clone();
        *attempt.version_mut() = parts.version;
        *attempt.headers_mut() = parts.headers.clone();
        *attempt.extensions_mut() = parts.extensions.clone();
        if let Some(id) = &sid {
            attempt
                .headers_mut()
                .insert(SID_HEADER, HeaderValue::from_str(id)?);
        }
        let response = match inner.ready().await?.call(attempt).await {
            // The server closed an idle connection (this client was frozen
            // past its keepalive): the call never left; the channel has
            // reconnected for the next one.
            Err(e) if resent < RESENDS && never_sent(&*e) => {
                debug!(path = %parts.uri.path(), error = %e, "connection was closed; sending again");
                resent += 1;
                continue;
            }
            result => result?,
        };
        match sid {
            Some(id) if session_expired(&response) => {
                sessions.reset(&id).await;
                if retried {
                    return Ok(response);
                }
                debug!(session = %id, path = %parts.uri.path(), "session expired; retrying under a new one");
                retried = true;
            }
            _ => return Ok(response),
        }
    }
}
