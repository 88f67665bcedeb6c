//! The session table: every live session, its deadline, and each
//! actuator's last user, behind one short-held lock.
//!
//! The request path renews sessions here directly: a heartbeat or a
//! monitored call costs a hash lookup and an O(log n) deadline move, with
//! no actor round trip, so it never waits behind a busy mailbox or another
//! thread. Only the `SessionSupervisor` removes sessions: when their
//! deadline passes, or their only connection closes. That keeps "what
//! happens when a session expires" in one place, and makes the supervisor
//! the one judge of a deadline: a session lives until it is removed, so a
//! heartbeat that waited in a socket buffer or a queue while axle ran
//! behind still renews it. The supervisor expires a session only after the
//! runtime has taken in what arrived, so a heartbeat that *arrived* in time
//! counts, however late axle reads it.

use super::supervisor::{SessionError, SessionInfo, Started};
use super::timer::Arm;
use crate::resources::Stoppable;
use axle_wire::connections::{self, ConnId};
use axle_wire::{Owner, Via};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long a new session lives before its first heartbeat, at least.
/// The TypeScript SDK reads server reflection between StartSession and its
/// first heartbeat, which can outlast a short window. The grace cannot
/// delay a stop: a session drives nothing until its first monitored call,
/// and that call renews it with the plain window.
pub const FIRST_HEARTBEAT_GRACE: Duration = Duration::from_secs(3);

/// One live session.
pub(super) struct Session {
    pub owner: Owner,
    pub peer: Arc<str>,
    /// The heartbeat window the session was started with: a config change
    /// applies to new sessions, whose clients learn the new window.
    window: Duration,
    expires_at: Instant,
    /// The actuators whose last monitored call came from this session.
    pub driving: HashMap<Arc<str>, Stoppable>,
    /// The one peer connection every heartbeat came over, if so far they
    /// all came over one (`None`: over HTTP/2, or over several).
    only_via: Option<Arc<str>>,
    /// The connection the latest renewal came on, if tracked.
    conn: Option<ConnId>,
}

impl Session {
    /// Whether the connection its latest renewal came on has closed: no
    /// heartbeat of its can be waiting to be read.
    pub(super) fn connection_closed(&self) -> bool {
        self.conn.is_some_and(|c| !connections::is_open(c))
    }
}

#[derive(Default)]
struct Table {
    sessions: HashMap<Uuid, Session>,
    /// Every session's deadline, earliest first.
    order: BTreeSet<(Instant, Uuid)>,
    /// Resource full name → the session that last drove it. Absent: nobody.
    last_user: HashMap<Arc<str>, Uuid>,
    /// The supervisor's timer (none in tests of the table alone), and
    /// when it is set to fire, if it is.
    timer: Option<Arm>,
    armed: Option<Instant>,
}

/// The shared session table; see the module docs.
#[derive(Default)]
pub struct SessionTable(Mutex<Table>);

/// A new session's identity, as StartSession gives it.
pub(super) struct Opening {
    pub owner: Owner,
    pub peer: Arc<str>,
    pub via: Via,
    pub window: Duration,
}

impl SessionTable {
    /// An empty table that arms `timer` at the earliest deadline.
    pub(super) fn with_timer(timer: Arm) -> Self {
        Self(Mutex::new(Table {
            timer: Some(timer),
            ..Table::default()
        }))
    }

    /// The timer fired: it is unarmed now. Arms it again at the earliest
    /// deadline left, if any.
    pub(super) fn rearm(&self) {
        let mut t = self.lock();
        t.armed = None;
        if let Some(&(at, _)) = t.order.first() {
            t.arm_by(at);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // A panic while holding the lock leaves consistent maps (no method
        // here panics midway), so a poisoned lock is still usable.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// SendSessionHeartbeat: pushes the deadline of `id`, if it is live and
    /// `owner`'s, to now + window; notes the connection it came `via`.
    pub fn renew(&self, id: &str, owner: &Owner, via: &Via) -> Result<Uuid, SessionError> {
        self.lock().renew(id, owner, via, Instant::now())
    }

    /// A safety-monitored call is about to run: its session (if `sid` is
    /// set) must be live; the call renews it and becomes `resource`'s last
    /// user. Without `sid`, `resource` is left with no last user.
    pub fn monitored(
        &self,
        sid: Option<&str>,
        owner: &Owner,
        via: &Via,
        resource: Option<Stoppable>,
    ) -> Result<(), SessionError> {
        let mut t = self.lock();
        let session = match sid {
            Some(sid) => Some(t.renew(sid, owner, via, Instant::now())?),
            None => None,
        };
        if let Some(resource) = resource {
            t.record_use(session, resource);
        }
        Ok(())
    }

    /// GetSessions: `owner`'s live sessions.
    pub fn list(&self, owner: &Owner) -> Vec<SessionInfo> {
        let now = Instant::now();
        let t = self.lock();
        t.sessions
            .iter()
            .filter(|(_, s)| s.owner == *owner && s.expires_at > now)
            .map(|(id, s)| info(*id, s))
            .collect()
    }

    /// Which session last drove each actuator, by name.
    pub fn last_users(&self) -> Vec<(Arc<str>, SessionInfo)> {
        let t = self.lock();
        let mut users: Vec<_> = t
            .last_user
            .iter()
            .filter_map(|(name, id)| Some((name.clone(), info(*id, t.sessions.get(id)?))))
            .collect();
        users.sort_by(|a, b| a.0.cmp(&b.0));
        users
    }

    /// Resumes `resume` if it is live and `owner`'s; `Err` if it is
    /// another owner's live session (an attempt to take it over); `Ok(None)`
    /// if there is nothing to resume.
    pub(super) fn resume(
        &self,
        resume: &str,
        owner: &Owner,
        via: &Via,
    ) -> Result<Option<Started>, SessionError> {
        let mut t = self.lock();
        match t.renew(resume, owner, via, Instant::now()) {
            Ok(id) => {
                let window = t.sessions.get(&id).map_or(Duration::ZERO, |s| s.window);
                Ok(Some(Started { id, window }))
            }
            Err(e) if t.owned_by_other(resume, owner) => Err(e),
            Err(_) => Ok(None),
        }
    }

    /// Adds a new session, unless `max` are live.
    pub(super) fn open(&self, o: Opening, max: usize) -> Result<Started, SessionError> {
        let mut t = self.lock();
        if t.sessions.len() >= max {
            return Err(SessionError::TooMany { max });
        }
        let id = Uuid::new_v4();
        let expires_at = Instant::now() + o.window.max(FIRST_HEARTBEAT_GRACE);
        t.order.insert((expires_at, id));
        t.arm_by(expires_at);
        let session = Session {
            owner: o.owner,
            peer: o.peer,
            window: o.window,
            expires_at,
            driving: HashMap::new(),
            only_via: o.via.conduit,
            conn: o.via.conn,
        };
        t.sessions.insert(id, session);
        Ok(Started {
            id,
            window: o.window,
        })
    }

    /// Removes and answers every session whose deadline is at or before
    /// `by` and that is `which`, earliest first, each with its deadline.
    pub(super) fn take_due(
        &self,
        by: Instant,
        which: impl Fn(&Session) -> bool,
    ) -> Vec<(Uuid, Session, Instant)> {
        let mut t = self.lock();
        let picked: Vec<(Instant, Uuid)> = t
            .order
            .iter()
            .take_while(|(at, _)| *at <= by)
            .filter(|(_, id)| t.sessions.get(id).is_some_and(&which))
            .copied()
            .collect();
        picked
            .into_iter()
            .filter_map(|(at, id)| {
                t.order.remove(&(at, id));
                t.remove(id).map(|s| (id, s, at))
            })
            .collect()
    }

    /// Whether any session's deadline is at or before `by`.
    pub(super) fn any_due(&self, by: Instant) -> bool {
        self.lock().order.first().is_some_and(|(at, _)| *at <= by)
    }

    /// Removes and answers the sessions every heartbeat of which came over
    /// peer connection `via`.
    pub(super) fn take_carried_by(&self, via: &Arc<str>) -> Vec<(Uuid, Session)> {
        let mut t = self.lock();
        let ids: Vec<(Instant, Uuid)> = t
            .sessions
            .iter()
            .filter(|(_, s)| s.only_via.as_ref() == Some(via))
            .map(|(id, s)| (s.expires_at, *id))
            .collect();
        ids.into_iter()
            .filter_map(|(at, id)| {
                t.order.remove(&(at, id));
                Some((id, t.remove(id)?))
            })
            .collect()
    }

    /// The earliest deadline, if any session is live.
    #[cfg(test)]
    pub(super) fn earliest(&self) -> Option<Instant> {
        self.lock().order.first().map(|(at, _)| *at)
    }

    /// These resources were removed or rebuilt: nobody drives them now.
    pub(super) fn forget(&self, names: &[String]) {
        let mut t = self.lock();
        for name in names {
            if let Some(id) = t.last_user.remove(name.as_str())
                && let Some(s) = t.sessions.get_mut(&id)
            {
                s.driving.remove(name.as_str());
            }
        }
    }

    /// How many sessions are live.
    pub fn len(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Whether no session is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn info(id: Uuid, s: &Session) -> SessionInfo {
    SessionInfo {
        id,
        peer: s.peer.clone(),
    }
}

impl Table {
    fn renew(
        &mut self,
        id: &str,
        owner: &Owner,
        via: &Via,
        now: Instant,
    ) -> Result<Uuid, SessionError> {
        let id = Uuid::parse_str(id).map_err(|_| SessionError::Expired)?;
        let session = match self.sessions.get_mut(&id) {
            Some(s) if owner.may_use(&s.owner) => s,
            _ => return Err(SessionError::Expired),
        };
        let was = session.expires_at;
        session.expires_at = now + session.window;
        if session.only_via != via.conduit {
            session.only_via = None;
        }
        if via.conn.is_some() {
            session.conn = via.conn;
        }
        let to = session.expires_at;
        self.order.remove(&(was, id));
        self.order.insert((to, id));
        // Earlier only on the first renewal after the start-up grace. (A
        // renewal past its deadline finds the timer set no later than it.)
        if to < was {
            self.arm_by(to);
        }
        Ok(id)
    }

    /// Makes the timer fire by `at`: a system call only if it is set later.
    fn arm_by(&mut self, at: Instant) {
        if self.armed.is_some_and(|armed| armed <= at) {
            return;
        }
        if let Some(timer) = &self.timer
            && timer.set(at)
        {
            self.armed = Some(at);
        }
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

    /// Removes a session (its deadline is out of `order` already) and its
    /// last-user entries.
    fn remove(&mut self, id: Uuid) -> Option<Session> {
        let session = self.sessions.remove(&id)?;
        for name in session.driving.keys() {
            self.last_user.remove(name);
        }
        Some(session)
    }

    fn owned_by_other(&self, id: &str, owner: &Owner) -> bool {
        Uuid::parse_str(id)
            .ok()
            .and_then(|id| self.sessions.get(&id))
            .is_some_and(|s| !owner.may_use(&s.owner))
    }
}
