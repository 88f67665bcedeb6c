//! The `SessionSupervisor` actor: the session table, each session's deadline,
//! and the stops an expiry sends.
//!
//! Each session's deadline sits in [`Deadlines`], which wakes the actor when
//! the earliest passes, to the tens of microseconds. There is no polling
//! tick. Every lookup also checks the deadline itself, so a heartbeat that
//! arrives after the deadline but before the timer is handled expires the
//! session instead of reviving it. An expired session is removed at once:
//! its id is simply unknown from then on.
//!
//! Stops run in a task of their own, concurrently, each bounded by
//! [`STOP_TIMEOUT`]: a hung driver delays no other stop, and the actor goes
//! straight back to answering heartbeats.

use super::Owner;
use super::deadlines::Deadlines;
use crate::config::SessionsConfig;
use crate::resources::Stoppable;
use crate::robot::STOP_TIMEOUT;
use actix::prelude::*;
use futures::future::join_all;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{self, Poll};
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};
use uuid::Uuid;

/// How long a new session lives before its first heartbeat, at least.
/// The TypeScript SDK reads server reflection between StartSession and its
/// first heartbeat, which can outlast a short window. The grace cannot
/// delay a stop: a session drives nothing until its first monitored call,
/// and that call renews it with the plain window.
pub const FIRST_HEARTBEAT_GRACE: Duration = Duration::from_secs(3);

/// Why a session request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The id is unknown, expired, or another owner's. The message is the
    /// exact text clients match on.
    #[error("SESSION_EXPIRED")]
    Expired,
    /// The session table is full.
    #[error(
        "too many sessions: {max} are live; end idle clients or raise network.sessions.max_sessions"
    )]
    TooMany {
        /// The configured limit.
        max: usize,
    },
}

impl From<SessionError> for tonic::Status {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Expired => tonic::Status::invalid_argument(e.to_string()),
            SessionError::TooMany { .. } => tonic::Status::resource_exhausted(e.to_string()),
        }
    }
}

/// StartSession: resumes `resume` if it is live and the caller's, else
/// starts a new session.
#[derive(Message)]
#[rtype(result = "Result<Started, SessionError>")]
pub struct StartSession {
    /// The id to resume; empty or unknown starts a new session.
    pub resume: String,
    /// The caller.
    pub owner: Owner,
    /// The caller's address, for logs and GetSessions.
    pub peer: String,
    /// The WebRTC peer connection it came over, if any.
    pub via: Option<Arc<str>>,
}

/// A live session, as StartSession answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    /// The session id.
    pub id: Uuid,
    /// How long the session lives without a heartbeat.
    pub window: Duration,
}

/// SendSessionHeartbeat: pushes the session's deadline to now + window.
#[derive(Message)]
#[rtype(result = "Result<(), SessionError>")]
pub struct Heartbeat {
    /// The session id, as the client sent it.
    pub id: String,
    /// The caller.
    pub owner: Owner,
    /// The WebRTC peer connection it came over, if any.
    pub via: Option<Arc<str>>,
}

/// A safety-monitored call is about to run. Its session (if `sid` is set)
/// must be live; the call heartbeats it and becomes `resource`'s last user.
/// Without `sid`, `resource` is left with no last user: no expiry stops it.
#[derive(Message)]
#[rtype(result = "Result<(), SessionError>")]
pub struct MonitoredCall {
    /// `viam-sid`, if the call carried one.
    pub sid: Option<String>,
    /// The caller.
    pub owner: Owner,
    /// The WebRTC peer connection it came over, if any.
    pub via: Option<Arc<str>>,
    /// The actuator the call drives, if the name resolved to one.
    pub resource: Option<Stoppable>,
}

/// GetSessions: the caller's own live sessions.
#[derive(Message)]
#[rtype(result = "Vec<SessionInfo>")]
pub struct ListSessions {
    /// The caller.
    pub owner: Owner,
}

/// One live session, as GetSessions shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session id.
    pub id: Uuid,
    /// The address it was started from.
    pub peer: Arc<str>,
}

struct Session {
    owner: Owner,
    peer: Arc<str>,
    /// The heartbeat window the session was started with: a config change
    /// applies to new sessions, whose clients learn the new window.
    window: Duration,
    expires_at: Instant,
    /// The actuators whose last monitored call came from this session.
    driving: HashMap<Arc<str>, Stoppable>,
    /// The one peer connection every heartbeat came over, if so far they
    /// all came over one (`None`: over HTTP/2, or over several).
    only_via: Option<Arc<str>>,
}

/// Owns every live session and stops what a session drove when it expires.
pub struct SessionSupervisor {
    config: SessionsConfig,
    sessions: HashMap<Uuid, Session>,
    deadlines: Deadlines,
    /// Resource full name → the session that last drove it. Absent: nobody.
    last_user: HashMap<Arc<str>, Uuid>,
}

impl SessionSupervisor {
    /// A supervisor with no sessions. Fails only if the OS refuses a timer.
    pub fn new(config: SessionsConfig) -> std::io::Result<Self> {
        Ok(Self {
            config,
            sessions: HashMap::new(),
            deadlines: Deadlines::new()?,
            last_user: HashMap::new(),
        })
    }

    /// Pushes the deadline of `id`, if it is live and `owner`'s, to now +
    /// window; notes the connection it came `via`.
    fn extend(
        &mut self,
        id: &str,
        owner: &Owner,
        via: Option<&Arc<str>>,
    ) -> Result<Uuid, SessionError> {
        let id = Uuid::parse_str(id).map_err(|_| SessionError::Expired)?;
        let now = Instant::now();
        let session = match self.sessions.get_mut(&id) {
            Some(s) if owner.may_use(&s.owner) => s,
            _ => return Err(SessionError::Expired),
        };
        let was = session.expires_at;
        if now >= was {
            self.deadlines.remove(was, id);
            self.expire(id, "no heartbeat for a whole window");
            return Err(SessionError::Expired);
        }
        session.expires_at = now + session.window;
        if session.only_via.as_ref() != via {
            session.only_via = None;
        }
        self.deadlines.reset(was, session.expires_at, id);
        Ok(id)
    }

    /// Makes `session` (or nobody) the last user of `resource`.
    fn record_use(&mut self, session: Option<Uuid>, resource: Stoppable) {
        let name = resource.name.clone();
        let previous = match session {
            Some(id) => self.last_user.insert(name.clone(), id),
            None => self.last_user.remove(&name),
        };
        if let Some(s) = previous
            .filter(|p| Some(*p) != session)
            .and_then(|p| self.sessions.get_mut(&p))
        {
            s.driving.remove(&name);
        }
        if let Some(s) = session.and_then(|id| self.sessions.get_mut(&id)) {
            s.driving.insert(name, resource);
        }
    }

    /// A session's deadline passed (and left [`Deadlines`]), or its only
    /// connection closed: forget the session and stop what it drove.
    fn expire(&mut self, id: Uuid, cause: &'static str) {
        let Some(session) = self.sessions.remove(&id) else {
            return;
        };
        for name in session.driving.keys() {
            self.last_user.remove(name);
        }
        let peer = session.peer;
        let driving: Vec<Stoppable> = session.driving.into_values().collect();
        if driving.is_empty() {
            info!(session = %id, peer = %peer, cause, stopped = "", "session expired; it drove nothing");
            return;
        }
        // Off the actor: the stops may take up to STOP_TIMEOUT, heartbeats may not wait.
        actix::spawn(async move {
            let began = Instant::now();
            let outcomes = join_all(
                driving
                    .iter()
                    .map(|r| r.stop_within("session expired", STOP_TIMEOUT)),
            )
            .await;
            let (mut stopped, mut failed) = (Vec::new(), Vec::new());
            for (r, outcome) in driving.iter().zip(outcomes) {
                match outcome {
                    Ok(()) => stopped.push(&*r.name),
                    Err(e) => failed.push(format!("{} ({e})", r.name)),
                }
            }
            let took_ms = began.elapsed().as_secs_f64() * 1000.0;
            if failed.is_empty() {
                info!(session = %id, peer = %peer, cause, stopped = %stopped.join(", "), took_ms, "session expired; stopped what it drove");
            } else {
                warn!(session = %id, peer = %peer, cause, stopped = %stopped.join(", "), failed = %failed.join("; "), took_ms, "session expired; some resources did not confirm Stop");
            }
        });
    }
}

impl Actor for SessionSupervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.spawn(Expiries);
        debug!(window = ?self.config.heartbeat_window, max = self.config.max_sessions, "session supervisor started");
    }
}

/// Runs inside the supervisor for its whole life, expiring each session as
/// its deadline passes. [`Deadlines`] keeps this context's waker.
struct Expiries;

impl ActorFuture<SessionSupervisor> for Expiries {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut SessionSupervisor,
        _: &mut Context<SessionSupervisor>,
        task: &mut task::Context<'_>,
    ) -> Poll<()> {
        while let Poll::Ready(expired) = act.deadlines.poll_expired(task) {
            for id in expired {
                act.expire(id, "no heartbeat for a whole window");
            }
        }
        Poll::Pending
    }
}

impl Handler<StartSession> for SessionSupervisor {
    type Result = Result<Started, SessionError>;

    fn handle(&mut self, msg: StartSession, _: &mut Context<Self>) -> Self::Result {
        self.open(msg)
    }
}

impl SessionSupervisor {
    fn open(&mut self, msg: StartSession) -> Result<Started, SessionError> {
        let window = self.config.heartbeat_window;
        if !msg.resume.is_empty() {
            match self.extend(&msg.resume, &msg.owner, msg.via.as_ref()) {
                Ok(id) => return Ok(Started { id, window }),
                // Resuming another owner's live session is an attempt to take it over.
                Err(e) if self.owned_by_other(&msg.resume, &msg.owner) => return Err(e),
                Err(_) => {}
            }
        }
        if self.sessions.len() >= self.config.max_sessions {
            warn!(peer = %msg.peer, max = self.config.max_sessions, "session refused: table full");
            return Err(SessionError::TooMany {
                max: self.config.max_sessions,
            });
        }
        let id = Uuid::new_v4();
        let expires_at = Instant::now() + window.max(FIRST_HEARTBEAT_GRACE);
        self.deadlines.insert(expires_at, id);
        let peer: Arc<str> = msg.peer.into();
        debug!(session = %id, peer = %peer, "session started");
        self.sessions.insert(
            id,
            Session {
                owner: msg.owner,
                peer,
                window,
                expires_at,
                driving: HashMap::new(),
                only_via: msg.via,
            },
        );
        Ok(Started { id, window })
    }

    fn owned_by_other(&self, id: &str, owner: &Owner) -> bool {
        Uuid::parse_str(id)
            .ok()
            .and_then(|id| self.sessions.get(&id))
            .is_some_and(|s| !owner.may_use(&s.owner))
    }
}

impl Handler<Heartbeat> for SessionSupervisor {
    type Result = Result<(), SessionError>;

    fn handle(&mut self, msg: Heartbeat, _: &mut Context<Self>) -> Self::Result {
        self.extend(&msg.id, &msg.owner, msg.via.as_ref())
            .map(drop)
            .inspect_err(
                |_| debug!(session = %msg.id, "heartbeat refused: session expired or unknown"),
            )
    }
}

/// The config's `network.sessions` changed: the new window applies to
/// sessions started from now on, the new limit at once.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetConfig(pub SessionsConfig);

impl Handler<SetConfig> for SessionSupervisor {
    type Result = ();

    fn handle(&mut self, SetConfig(config): SetConfig, _: &mut Context<Self>) {
        info!(
            heartbeat_window = ?config.heartbeat_window,
            max_sessions = config.max_sessions,
            live = self.sessions.len(),
            "session settings changed; the window applies to new sessions"
        );
        self.config = config;
    }
}

/// These resources (full names) were removed or rebuilt: no session drives
/// them any more. Their old actors are stopped already.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Forget(pub Vec<String>);

impl Handler<Forget> for SessionSupervisor {
    type Result = ();

    fn handle(&mut self, Forget(names): Forget, _: &mut Context<Self>) {
        for name in names {
            if let Some(id) = self.last_user.remove(name.as_str())
                && let Some(s) = self.sessions.get_mut(&id)
            {
                s.driving.remove(name.as_str());
            }
        }
    }
}

impl Handler<MonitoredCall> for SessionSupervisor {
    type Result = Result<(), SessionError>;

    fn handle(&mut self, msg: MonitoredCall, _: &mut Context<Self>) -> Self::Result {
        let session = match &msg.sid {
            Some(sid) => Some(self.extend(sid, &msg.owner, msg.via.as_ref()).inspect_err(
                |_| debug!(session = %sid, "monitored call refused: session expired or unknown"),
            )?),
            None => None,
        };
        if let Some(resource) = msg.resource {
            self.record_use(session, resource);
        }
        Ok(())
    }
}

/// A WebRTC peer connection (its call uuid) closed cleanly: the client
/// left. Sessions every heartbeat of which came over it end now, not a
/// window later; nothing could heartbeat them any more.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ConduitClosed(pub Arc<str>);

impl Handler<ConduitClosed> for SessionSupervisor {
    type Result = ();

    fn handle(&mut self, ConduitClosed(via): ConduitClosed, _: &mut Context<Self>) {
        let orphans: Vec<(Uuid, Instant)> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.only_via.as_ref() == Some(&via))
            .map(|(id, s)| (*id, s.expires_at))
            .collect();
        for (id, expires_at) in orphans {
            self.deadlines.remove(expires_at, id);
            self.expire(id, "its only connection closed");
        }
    }
}

/// Which session last drove each actuator: (full name, that session).
#[derive(Message)]
#[rtype(result = "Vec<(Arc<str>, SessionInfo)>")]
pub struct ListLastUsers;

impl Handler<ListLastUsers> for SessionSupervisor {
    type Result = MessageResult<ListLastUsers>;

    fn handle(&mut self, _: ListLastUsers, _: &mut Context<Self>) -> Self::Result {
        let mut users: Vec<_> = self
            .last_user
            .iter()
            .filter_map(|(name, id)| {
                let s = self.sessions.get(id)?;
                let info = SessionInfo {
                    id: *id,
                    peer: s.peer.clone(),
                };
                Some((name.clone(), info))
            })
            .collect();
        users.sort_by(|a, b| a.0.cmp(&b.0));
        MessageResult(users)
    }
}

impl Handler<ListSessions> for SessionSupervisor {
    type Result = MessageResult<ListSessions>;

    fn handle(&mut self, msg: ListSessions, _: &mut Context<Self>) -> Self::Result {
        let now = Instant::now();
        MessageResult(
            self.sessions
                .iter()
                .filter(|(_, s)| s.owner == msg.owner && s.expires_at > now)
                .map(|(id, s)| SessionInfo {
                    id: *id,
                    peer: s.peer.clone(),
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::MotorHandle;
    use crate::resources::actor::Stop;
    use axle_sdk_module::ResourceError;
    use axle_sdk_module::fake::FakeMotor;
    use std::time::Duration;
    use tokio::time::sleep;

    const WINDOW: Duration = Duration::from_millis(60);

    fn supervisor(max_sessions: usize) -> Addr<SessionSupervisor> {
        SessionSupervisor::new(SessionsConfig {
            heartbeat_window: WINDOW,
            max_sessions,
        })
        .unwrap()
        .start()
    }

    fn motor(name: &str) -> MotorHandle {
        let driver: Box<dyn axle_sdk_module::Motor> = Box::new(FakeMotor::new(name, 60.0));
        crate::resources::Handle::start(format!("rdk:component:motor/{name}").into(), driver)
    }

    async fn start(s: &Addr<SessionSupervisor>, owner: &str) -> String {
        let started = s
            .send(StartSession {
                resume: String::new(),
                owner: Owner::Entity(owner.into()),
                peer: "test".into(),
                via: None,
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(started.window, WINDOW);
        started.id.to_string()
    }

    async fn drive(
        s: &Addr<SessionSupervisor>,
        sid: Option<&str>,
        m: &MotorHandle,
    ) -> Result<(), SessionError> {
        s.send(MonitoredCall {
            sid: sid.map(str::to_owned),
            owner: Owner::default(),
            via: None,
            resource: Some(m.stoppable()),
        })
        .await
        .unwrap()?;
        m.set_power(0.5).await.unwrap();
        Ok(())
    }

    async fn heartbeat(s: &Addr<SessionSupervisor>, id: &str) -> Result<(), SessionError> {
        s.send(Heartbeat {
            id: id.into(),
            owner: Owner::default(),
            via: None,
        })
        .await
        .unwrap()
    }

    #[actix::test]
    async fn an_expired_session_stops_what_it_drove_and_stays_expired() {
        let s = supervisor(10);
        let (m, other) = (motor("m"), motor("other"));
        let id = start(&s, "").await;
        drive(&s, Some(&id), &m).await.unwrap();
        other.set_power(0.5).await.unwrap();
        sleep(WINDOW + Duration::from_millis(15)).await;
        assert!(!m.is_moving().await.unwrap());
        assert!(other.is_moving().await.unwrap(), "only what it drove stops");
        assert_eq!(heartbeat(&s, &id).await, Err(SessionError::Expired));
        assert_eq!(drive(&s, Some(&id), &m).await, Err(SessionError::Expired));
        let listed = s
            .send(ListSessions {
                owner: Owner::default(),
            })
            .await
            .unwrap();
        assert!(listed.is_empty());
    }

    #[actix::test]
    async fn a_new_session_outlives_a_window_until_its_first_heartbeat() {
        let s = supervisor(10);
        let m = motor("m");
        let id = start(&s, "").await;
        sleep(WINDOW + Duration::from_millis(15)).await;
        drive(&s, Some(&id), &m).await.unwrap();
        sleep(WINDOW + Duration::from_millis(15)).await;
        assert!(
            !m.is_moving().await.unwrap(),
            "once used, the window applies"
        );
        assert_eq!(heartbeat(&s, &id).await, Err(SessionError::Expired));
    }

    #[actix::test]
    async fn heartbeats_and_monitored_calls_keep_a_session_alive() {
        let s = supervisor(10);
        let m = motor("m");
        let id = start(&s, "").await;
        drive(&s, Some(&id), &m).await.unwrap();
        for i in 0..10 {
            sleep(WINDOW / 3).await;
            if i % 2 == 0 {
                heartbeat(&s, &id).await.unwrap();
            } else {
                drive(&s, Some(&id), &m).await.unwrap();
            }
        }
        assert!(m.is_moving().await.unwrap());
    }

    #[actix::test]
    async fn the_last_user_wins_and_a_call_without_a_session_means_nobody() {
        let s = supervisor(10);
        let (m, n) = (motor("m"), motor("n"));
        let (a, b) = (start(&s, "").await, start(&s, "").await);
        drive(&s, Some(&a), &m).await.unwrap();
        drive(&s, Some(&b), &m).await.unwrap();
        drive(&s, Some(&a), &n).await.unwrap();
        drive(&s, None, &n).await.unwrap();
        // Only b heartbeats: a expires, and stops neither motor.
        for _ in 0..4 {
            sleep(WINDOW / 3).await;
            heartbeat(&s, &b).await.unwrap();
        }
        assert_eq!(heartbeat(&s, &a).await, Err(SessionError::Expired));
        let users = s.send(ListLastUsers).await.unwrap();
        let users: Vec<_> = users
            .iter()
            .map(|(n, i)| (&**n, i.id.to_string()))
            .collect();
        assert_eq!(
            users,
            [("rdk:component:motor/m", b.clone())],
            "n has no last user"
        );
        assert!(m.is_moving().await.unwrap());
        assert!(n.is_moving().await.unwrap());
        sleep(WINDOW + Duration::from_millis(15)).await;
        assert!(!m.is_moving().await.unwrap(), "b's expiry stops m");
        assert!(n.is_moving().await.unwrap(), "nobody drove n last");
    }

    #[actix::test]
    async fn resume_returns_the_live_session_only_to_its_owner() {
        let s = supervisor(10);
        let id = start(&s, "alice").await;
        let resume = |resume: &str, owner: &str| {
            s.send(StartSession {
                resume: resume.into(),
                owner: Owner::Entity(owner.into()),
                peer: "test".into(),
                via: None,
            })
        };
        let again = resume(&id, "alice").await.unwrap().unwrap();
        assert_eq!(again.id.to_string(), id);
        assert_eq!(
            resume(&id, "mallory").await.unwrap(),
            Err(SessionError::Expired)
        );
        let fresh = resume(&Uuid::new_v4().to_string(), "alice")
            .await
            .unwrap()
            .unwrap();
        assert_ne!(fresh.id.to_string(), id);
        let mine = |owner: &str| {
            s.send(ListSessions {
                owner: Owner::Entity(owner.into()),
            })
        };
        assert_eq!(mine("alice").await.unwrap().len(), 2);
        assert!(mine("mallory").await.unwrap().is_empty());
        assert_eq!(
            s.send(Heartbeat {
                id: id.clone(),
                owner: Owner::Entity("mallory".into()),
                via: None,
            })
            .await
            .unwrap(),
            Err(SessionError::Expired)
        );
    }

    #[actix::test]
    async fn a_full_table_refuses_with_a_message() {
        let s = supervisor(2);
        start(&s, "").await;
        start(&s, "").await;
        let refused = s
            .send(StartSession {
                resume: String::new(),
                owner: Owner::default(),
                peer: "test".into(),
                via: None,
            })
            .await
            .unwrap();
        assert_eq!(refused, Err(SessionError::TooMany { max: 2 }));
        let status = tonic::Status::from(SessionError::TooMany { max: 2 });
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert!(status.message().contains("max_sessions"));
    }

    #[actix::test]
    async fn a_heartbeat_after_the_deadline_expires_the_session_even_before_the_timer_fires() {
        // No actor: the timer is never polled, so only the deadline check can act.
        let mut sup = SessionSupervisor::new(SessionsConfig {
            heartbeat_window: WINDOW,
            max_sessions: 2,
        })
        .unwrap();
        let started = sup
            .open(StartSession {
                resume: String::new(),
                owner: Owner::default(),
                peer: "test".into(),
                via: None,
            })
            .unwrap();
        let id = started.id.to_string();
        assert!(sup.extend(&id, &Owner::default(), None).is_ok());
        std::thread::sleep(WINDOW + Duration::from_millis(5));
        assert_eq!(
            sup.extend(&id, &Owner::default(), None),
            Err(SessionError::Expired)
        );
        assert!(sup.sessions.is_empty());
        assert!(sup.deadlines.is_empty());
    }

    #[actix::test]
    async fn a_closed_connection_ends_only_the_sessions_it_alone_carried() {
        let s = supervisor(4);
        let peer: Arc<str> = "call-1".into();
        let open = |via: Option<Arc<str>>| StartSession {
            resume: String::new(),
            owner: Owner::default(),
            peer: "test".into(),
            via,
        };
        let alone = s.send(open(Some(peer.clone()))).await.unwrap().unwrap().id;
        let mixed = s.send(open(Some(peer.clone()))).await.unwrap().unwrap().id;
        let tcp = s.send(open(None)).await.unwrap().unwrap().id;
        let (a, b, c) = (motor("a"), motor("b"), motor("c"));
        for (id, m, via) in [
            (alone, &a, Some(&peer)),
            (mixed, &b, Some(&peer)),
            (tcp, &c, None),
        ] {
            let call = MonitoredCall {
                sid: Some(id.to_string()),
                owner: Owner::default(),
                via: via.cloned(),
                resource: Some(m.stoppable()),
            };
            s.send(call).await.unwrap().unwrap();
            m.set_power(0.5).await.unwrap();
        }
        // One heartbeat of `mixed` came over HTTP/2: it may live on there.
        s.send(Heartbeat {
            id: mixed.to_string(),
            owner: Owner::default(),
            via: None,
        })
        .await
        .unwrap()
        .unwrap();
        s.send(ConduitClosed(peer)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!a.is_moving().await.unwrap(), "its only connection closed");
        assert!(b.is_moving().await.unwrap() && c.is_moving().await.unwrap());
        assert_eq!(
            heartbeat(&s, &alone.to_string()).await,
            Err(SessionError::Expired)
        );
        assert_eq!(heartbeat(&s, &mixed.to_string()).await, Ok(()));
    }

    #[actix::test]
    async fn garbage_session_ids_are_expired() {
        let s = supervisor(2);
        assert_eq!(
            heartbeat(&s, "not-a-uuid").await,
            Err(SessionError::Expired)
        );
        assert_eq!(heartbeat(&s, "").await, Err(SessionError::Expired));
        let status = tonic::Status::from(SessionError::Expired);
        assert_eq!(
            (status.code(), status.message()),
            (tonic::Code::InvalidArgument, "SESSION_EXPIRED")
        );
    }

    #[actix::test]
    async fn expiry_cancels_a_motion_in_flight() {
        let s = supervisor(2);
        let m = motor("m");
        let id = start(&s, "").await;
        s.send(MonitoredCall {
            sid: Some(id),
            owner: Owner::default(),
            via: None,
            resource: Some(m.stoppable()),
        })
        .await
        .unwrap()
        .unwrap();
        let outcome = m.go_for(60.0, 100.0).await;
        assert!(
            matches!(&outcome, Err(ResourceError::Aborted(msg)) if msg.contains("session expired")),
            "{outcome:?}"
        );
        assert!(!m.is_moving().await.unwrap());
    }

    /// An actuator whose Stop never answers.
    struct Hung;
    impl Actor for Hung {
        type Context = Context<Self>;
    }
    impl Handler<Stop> for Hung {
        type Result = ResponseFuture<Result<(), ResourceError>>;
        fn handle(&mut self, _: Stop, _: &mut Context<Self>) -> Self::Result {
            Box::pin(futures::future::pending())
        }
    }

    #[actix::test]
    async fn a_hung_stop_delays_neither_the_other_stops_nor_heartbeats() {
        let s = supervisor(10);
        let m = motor("m");
        let hung = Stoppable {
            name: "rdk:component:motor/hung".into(),
            stopper: Hung.start().recipient(),
        };
        let doomed = start(&s, "").await;
        let alive = start(&s, "").await;
        s.send(MonitoredCall {
            sid: Some(doomed.clone()),
            owner: Owner::default(),
            via: None,
            resource: Some(hung),
        })
        .await
        .unwrap()
        .unwrap();
        drive(&s, Some(&doomed), &m).await.unwrap();
        let began = Instant::now();
        while m.is_moving().await.unwrap() {
            heartbeat(&s, &alive).await.unwrap();
            sleep(Duration::from_millis(2)).await;
        }
        assert!(began.elapsed() < WINDOW + Duration::from_millis(20));
        let t = Instant::now();
        heartbeat(&s, &alive).await.unwrap();
        assert!(t.elapsed() < Duration::from_millis(10));
    }
}
