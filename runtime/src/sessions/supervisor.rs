//! The `SessionSupervisor` actor: it starts sessions, expires them, and
//! sends the stops an expiry calls for.
//!
//! The sessions themselves live in the shared [`SessionTable`], which the
//! request path renews without a round trip to this actor. The actor keeps
//! one precise [`Timer`] armed at the earliest deadline. When it fires, the
//! actor first lets the runtime take in what has already arrived (a
//! heartbeat waiting in a socket buffer counts, and renews its session),
//! then expires every session still past its deadline. Once expired, a
//! session stays expired: nothing revives it.
//!
//! Stops run in a task of their own, concurrently, each bounded by
//! [`STOP_TIMEOUT`](crate::resources::STOP_TIMEOUT): a hung driver delays no other stop.

use super::table::{Opening, Session, SessionTable};
use super::timer::Timer;
use crate::config::SessionsConfig;
use crate::resources::{Stoppable, stop_together};
use actix::prelude::*;
use axle_wire::{Owner, Via};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{self, Poll};
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};
use uuid::Uuid;

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
    /// How it came: its connection, and WebRTC peer connection if any.
    pub via: Via,
}

/// A live session, as StartSession answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    /// The session id.
    pub id: Uuid,
    /// How long the session lives without a heartbeat.
    pub window: Duration,
}

/// A safety-monitored call is about to run, from an actor rather than the
/// request path (which calls [`SessionTable::monitored`] itself).
#[derive(Message)]
#[rtype(result = "Result<(), SessionError>")]
pub struct MonitoredCall {
    /// `viam-sid`, if the call carried one.
    pub sid: Option<String>,
    /// The caller.
    pub owner: Owner,
    /// How it came: its connection, and WebRTC peer connection if any.
    pub via: Via,
    /// The actuator the call drives, if the name resolved to one.
    pub resource: Option<Stoppable>,
}

/// One live session, as GetSessions shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session id.
    pub id: Uuid,
    /// The address it was started from.
    pub peer: Arc<str>,
}

/// A runtime this far behind is overloaded: heartbeats wait as long.
const LATE: Duration = Duration::from_millis(20);
/// At most one overload warning per this long.
const LATE_LOG_EVERY: Duration = Duration::from_secs(5);
/// How often the supervisor checks how far behind the runtime runs.
const PROBE_EVERY: Duration = Duration::from_millis(50);
/// A turn of the runtime this short had nothing much queued ahead of it.
const QUICK_TURN: Duration = Duration::from_millis(1);
/// The longest an expiry waits for the runtime to catch up (a quarter of
/// the window, if that is shorter): a stop is late by no more than this.
const CATCH_UP_AT_MOST: Duration = Duration::from_millis(50);

/// Starts and expires sessions, and stops what an expired session drove.
pub struct SessionSupervisor {
    config: SessionsConfig,
    table: Arc<SessionTable>,
    timer: Timer,
    /// When the last overload warning went out, and the worst lateness since.
    late_logged: Option<Instant>,
    worst_late: Duration,
}

impl SessionSupervisor {
    /// A supervisor with no sessions. Fails only if the OS refuses a timer.
    pub fn new(config: SessionsConfig) -> std::io::Result<Self> {
        let (timer, arm) = Timer::new()?;
        Ok(Self {
            config,
            table: Arc::new(SessionTable::with_timer(arm)),
            timer,
            late_logged: None,
            worst_late: Duration::ZERO,
        })
    }

    /// The table the request path renews sessions in.
    pub fn table(&self) -> Arc<SessionTable> {
        self.table.clone()
    }

    /// Checks, every [`PROBE_EVERY`], how late the runtime runs this
    /// actor: every call waits about as long, heartbeats included.
    fn probe_lag(&mut self, ctx: &mut Context<Self>) {
        let due = Instant::now() + PROBE_EVERY;
        ctx.run_later(PROBE_EVERY, move |act, ctx| {
            let late = Instant::now().saturating_duration_since(due);
            act.note_lateness(late, "the runtime ran this far behind");
            act.probe_lag(ctx);
        });
    }

    /// The timer fired: expire what is due once what has arrived is in.
    fn check_soon(&mut self, ctx: &mut Context<Self>) {
        // A due session whose connection has closed has no heartbeat
        // waiting anywhere: it expires now, without waiting for turns.
        let now = Instant::now();
        let gone = self.table.take_due(now, Session::connection_closed);
        self.expire_all(
            gone,
            now,
            "no heartbeat for a whole window; its connection closed",
        );
        if !self.table.any_due(now) {
            self.table.rearm();
            return;
        }
        let bound = (self.config.heartbeat_window / 4).min(CATCH_UP_AT_MOST);
        // The turns are taken by a task of the runtime, queued behind the
        // connections' tasks. This actor lives in actix's local set, which
        // the runtime polls ahead of its queue: turns taken here would come
        // back before any socket's task had run.
        let turns = tokio::spawn(caught_up(bound));
        // Only what was due when the turns began: a session that came due
        // during them may have a heartbeat they did not wait for. The
        // timer, re-armed, checks it with turns of its own.
        let due_by = Instant::now();
        ctx.spawn(
            actix::fut::wrap_future(turns).map(move |_, act: &mut Self, _| act.expire_due(due_by)),
        );
    }

    /// Expires every session whose deadline is at or before `due_by`;
    /// re-arms the timer.
    fn expire_due(&mut self, due_by: Instant) {
        let due = self.table.take_due(due_by, |_| true);
        self.expire_all(due, Instant::now(), "no heartbeat for a whole window");
        self.table.rearm();
    }

    /// Expires sessions taken from the table (earliest deadline first),
    /// noting how late the first came.
    fn expire_all(
        &mut self,
        due: Vec<(Uuid, Session, Instant)>,
        now: Instant,
        cause: &'static str,
    ) {
        if let Some((_, _, first)) = due.first() {
            let late = now.saturating_duration_since(*first);
            self.note_lateness(late, "sessions expired this long after their deadline");
        }
        for (id, session, deadline) in due {
            expire(
                id,
                session,
                cause,
                Some(now.saturating_duration_since(deadline)),
            );
        }
    }

    /// A runtime running late delays every heartbeat as long: say so, with
    /// the worst lateness seen, at most every [`LATE_LOG_EVERY`].
    fn note_lateness(&mut self, late: Duration, seen: &'static str) {
        if late < LATE {
            return;
        }
        self.worst_late = self.worst_late.max(late);
        if self
            .late_logged
            .is_some_and(|t| t.elapsed() < LATE_LOG_EVERY)
        {
            return;
        }
        warn!(
            late_ms = self.worst_late.as_secs_f64() * 1e3,
            seen,
            live = self.table.len(),
            window = ?self.config.heartbeat_window,
            "axle is overloaded: heartbeats wait this long before they renew their session; \
             one that waits a whole window loses it (give axle more CPU, fewer calls, or a longer window)"
        );
        self.late_logged = Some(Instant::now());
        self.worst_late = Duration::ZERO;
    }

    fn open(&mut self, msg: StartSession) -> Result<Started, SessionError> {
        if !msg.resume.is_empty()
            && let Some(resumed) = self.table.resume(&msg.resume, &msg.owner, &msg.via)?
        {
            return Ok(resumed);
        }
        let peer: Arc<str> = msg.peer.into();
        let opening = Opening {
            owner: msg.owner,
            peer: peer.clone(),
            via: msg.via,
            window: self.config.heartbeat_window,
        };
        let max = self.config.max_sessions;
        let started = self
            .table
            .open(opening, max)
            .inspect_err(|_| warn!(peer = %peer, max, "session refused: table full"))?;
        debug!(session = %started.id, peer = %peer, "session started");
        Ok(started)
    }
}

/// Turns of the runtime, so that it reads the sockets and runs the calls
/// they woke (a heartbeat renews its session there) before an expiry: at
/// least two, until one comes back quickly (little was queued ahead of
/// it), for at most `bound`.
async fn caught_up(bound: Duration) {
    let began = Instant::now();
    for turn in 0.. {
        let t = Instant::now();
        tokio::task::yield_now().await;
        let quick = t.elapsed() < QUICK_TURN;
        if turn >= 1 && (quick || began.elapsed() >= bound) {
            break;
        }
    }
}

/// Forgets nothing (the table has removed `session`): stops what it drove.
/// This is what happens when a session expires, whatever the cause. `late`
/// is how long after its deadline the expiry came, if it had one.
fn expire(id: Uuid, session: Session, cause: &'static str, late: Option<Duration>) {
    let peer = session.peer;
    let driving: Vec<Stoppable> = session.driving.into_values().collect();
    let late_ms = late.map(|l| l.as_secs_f64() * 1e3);
    if driving.is_empty() {
        info!(session = %id, peer = %peer, cause, late_ms, stopped = "", "session expired; it drove nothing");
        return;
    }
    // Off the actor: the stops may take up to STOP_TIMEOUT.
    actix::spawn(async move {
        let report = stop_together(driving, "session expired").await;
        let (stopped, took_ms) = (report.stopped_names(), report.took_ms());
        if report.all_stopped() {
            info!(session = %id, peer = %peer, cause, late_ms, stopped = %stopped, took_ms, "session expired; stopped what it drove");
        } else {
            warn!(session = %id, peer = %peer, cause, late_ms, stopped = %stopped, failed = %report.failures(), took_ms, "session expired; some resources did not confirm Stop");
        }
    });
}

impl Actor for SessionSupervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.spawn(Expiries);
        self.probe_lag(ctx);
        debug!(window = ?self.config.heartbeat_window, max = self.config.max_sessions, "session supervisor started");
    }
}

/// Runs inside the supervisor for its whole life, checking for due
/// sessions each time the timer fires.
struct Expiries;

impl ActorFuture<SessionSupervisor> for Expiries {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut SessionSupervisor,
        ctx: &mut Context<SessionSupervisor>,
        task: &mut task::Context<'_>,
    ) -> Poll<()> {
        while act.timer.poll_fired(task).is_ready() {
            act.check_soon(ctx);
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
            live = self.table.len(),
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
        self.table.forget(&names);
    }
}

impl Handler<MonitoredCall> for SessionSupervisor {
    type Result = Result<(), SessionError>;

    fn handle(&mut self, msg: MonitoredCall, _: &mut Context<Self>) -> Self::Result {
        self.table
            .monitored(msg.sid.as_deref(), &msg.owner, &msg.via, msg.resource)
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
        for (id, session) in self.table.take_carried_by(&via) {
            expire(id, session, "its only connection closed", None);
        }
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

    /// A running supervisor, and its table.
    struct Sup {
        addr: Addr<SessionSupervisor>,
        table: Arc<SessionTable>,
    }

    impl std::ops::Deref for Sup {
        type Target = Addr<SessionSupervisor>;
        fn deref(&self) -> &Self::Target {
            &self.addr
        }
    }

    fn supervisor(max_sessions: usize) -> Sup {
        let sup = SessionSupervisor::new(SessionsConfig {
            heartbeat_window: WINDOW,
            max_sessions,
        })
        .unwrap();
        let table = sup.table();
        Sup {
            addr: sup.start(),
            table,
        }
    }

    fn motor(name: &str) -> MotorHandle {
        let driver: Box<dyn axle_sdk_module::Motor> = Box::new(FakeMotor::new(name, 60.0));
        crate::resources::Handle::start(format!("rdk:component:motor/{name}").into(), driver)
    }

    async fn start(s: &Sup, owner: &str) -> String {
        let started = s
            .send(StartSession {
                resume: String::new(),
                owner: Owner::Entity(owner.into()),
                peer: "test".into(),
                via: Via::default(),
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(started.window, WINDOW);
        started.id.to_string()
    }

    async fn drive(s: &Sup, sid: Option<&str>, m: &MotorHandle) -> Result<(), SessionError> {
        s.send(MonitoredCall {
            sid: sid.map(str::to_owned),
            owner: Owner::default(),
            via: Via::default(),
            resource: Some(m.stoppable()),
        })
        .await
        .unwrap()?;
        m.set_power(0.5).await.unwrap();
        Ok(())
    }

    async fn heartbeat(s: &Sup, id: &str) -> Result<(), SessionError> {
        s.table
            .renew(id, &Owner::default(), &Via::default())
            .map(drop)
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
        assert!(s.table.list(&Owner::default()).is_empty());
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
        let users = s.table.last_users();
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
                via: Via::default(),
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
        let mine = |owner: &str| s.table.list(&Owner::Entity(owner.into()));
        assert_eq!(mine("alice").len(), 2);
        assert!(mine("mallory").is_empty());
        assert_eq!(
            s.table
                .renew(&id, &Owner::Entity("mallory".into()), &Via::default()),
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
                via: Via::default(),
            })
            .await
            .unwrap();
        assert_eq!(refused, Err(SessionError::TooMany { max: 2 }));
        let status = tonic::Status::from(SessionError::TooMany { max: 2 });
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert!(status.message().contains("max_sessions"));
    }

    #[actix::test]
    async fn a_heartbeat_read_late_renews_until_the_supervisor_expires_the_session() {
        // The actor never runs its timer here, as if axle ran behind: a
        // heartbeat read after the deadline may have arrived before it.
        let table = SessionTable::default();
        let opening = Opening {
            owner: Owner::default(),
            peer: "test".into(),
            via: Via::default(),
            window: WINDOW,
        };
        let started = table.open(opening, 2).unwrap();
        let id = started.id.to_string();
        assert!(table.renew(&id, &Owner::default(), &Via::default()).is_ok());
        std::thread::sleep(WINDOW + Duration::from_millis(5));
        assert!(table.renew(&id, &Owner::default(), &Via::default()).is_ok());
        assert!(
            table.take_due(Instant::now(), |_| true).is_empty(),
            "renewed in time"
        );
        std::thread::sleep(WINDOW + Duration::from_millis(5));
        let due = table.take_due(Instant::now(), |_| true);
        assert_eq!(due.len(), 1, "the supervisor expires it");
        assert!(table.is_empty() && table.earliest().is_none());
        assert_eq!(
            table.renew(&id, &Owner::default(), &Via::default()),
            Err(SessionError::Expired),
            "and nothing revives it"
        );
    }

    #[actix::test]
    async fn a_closed_connection_ends_only_the_sessions_it_alone_carried() {
        let s = supervisor(4);
        let peer: Arc<str> = "call-1".into();
        let open = |conduit: Option<Arc<str>>| StartSession {
            resume: String::new(),
            owner: Owner::default(),
            peer: "test".into(),
            via: Via {
                conduit,
                conn: None,
            },
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
                via: Via {
                    conduit: via.cloned(),
                    conn: None,
                },
                resource: Some(m.stoppable()),
            };
            s.send(call).await.unwrap().unwrap();
            m.set_power(0.5).await.unwrap();
        }
        // One heartbeat of `mixed` came over HTTP/2: it may live on there.
        heartbeat(&s, &mixed.to_string()).await.unwrap();
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
            via: Via::default(),
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
            via: Via::default(),
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
