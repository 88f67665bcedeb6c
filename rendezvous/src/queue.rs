//! The call queue: pairs each caller's offer with an idle answer worker of a
//! robot registered for the offer's host, then carries the two sides'
//! updates between them.
//!
//! A host with no worker registered fails an offer at once (the client
//! falls back instead of waiting); a host whose workers are all busy keeps
//! the offer until one is free or the offer's deadline passes; each host
//! holds at most [`MAX_WAITING`] offers, so a flood of calls for one robot
//! cannot grow without bound nor delay any other robot's.

use axle_proto::webrtc::IceCandidate;
pub use axle_wire::signaling::FromAnswerer;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};

/// Offers one host may have waiting for a free worker.
pub const MAX_WAITING: usize = 16;
/// Updates either side may have in flight.
const UPDATES: usize = 64;

/// A caller's offer.
#[derive(Debug, Clone)]
pub struct Offer {
    /// The call's id, minted by the rendezvous.
    pub uuid: String,
    /// The caller's SDP, as it came (base64 of JSON).
    pub sdp: String,
    /// Who the caller authenticated as; the robot owns its sessions by it.
    pub caller_entity: String,
    /// When the caller stops waiting for an answer.
    pub deadline: Instant,
}

/// From the caller to the answering robot.
#[derive(Debug, Clone, PartialEq)]
pub enum FromCaller {
    /// An ICE candidate.
    Candidate(IceCandidate),
    /// The caller has sent everything.
    Done,
    /// The caller gave up, and why.
    Error(String),
}

/// Why an offer or an update went nowhere.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueueError {
    /// No robot is registered for the host.
    #[error("host {0:?} appears to be offline: no robot is connected for it")]
    Offline(String),
    /// The host's robot has too many offers waiting already.
    #[error("too many connection attempts for host {0:?}; try again shortly")]
    Busy(String),
    /// No call in progress has this id.
    #[error("no call {0:?} in progress")]
    UnknownCall(String),
}

/// The caller's end of a call.
pub struct CallerEnd {
    /// What the robot sends.
    pub answers: mpsc::Receiver<FromAnswerer>,
}

/// The answering worker's end of a call.
pub struct AnswererEnd {
    /// The offer to answer.
    pub offer: Offer,
    /// What the caller sends.
    pub updates: mpsc::Receiver<FromCaller>,
    /// Where the answer goes.
    pub answers: mpsc::Sender<FromAnswerer>,
}

/// Pairs offers with answer workers. Implemented in memory by
/// [`MemoryQueue`]; a shared store could implement it for several
/// rendezvous instances.
pub trait CallQueue: Send + Sync + 'static {
    /// Hands `offer` for `host` to a worker; answers the caller's end.
    fn offer(&self, host: &str, offer: Offer) -> Result<CallerEnd, QueueError>;
    /// A caller's update for call `uuid`.
    fn update(&self, uuid: &str, update: FromCaller) -> Result<(), QueueError>;
    /// Registers one answer worker for `hosts`, until the registration drops.
    fn register(&self, hosts: Vec<String>) -> Registration;
}

/// One answer worker's registration: the hosts count it as online while it
/// lives, and [`Registration::next`] waits for an offer for any of them.
pub struct Registration {
    queue: Weak<Mutex<State>>,
    hosts: Vec<String>,
}

type Slot = Arc<Mutex<Option<oneshot::Sender<AnswererEnd>>>>;

#[derive(Default)]
struct State {
    hosts: HashMap<String, Host>,
    /// Call id → where the caller's updates go, while the call runs.
    calls: HashMap<String, mpsc::Sender<FromCaller>>,
}

#[derive(Default)]
struct Host {
    /// Registered workers, busy or idle.
    online: usize,
    /// Idle workers waiting for an offer (a slot is shared by the hosts of
    /// one worker and taken once).
    idle: VecDeque<Slot>,
    /// Offers waiting for a worker.
    waiting: VecDeque<AnswererEnd>,
}

/// The call queue of one rendezvous process.
#[derive(Clone, Default)]
pub struct MemoryQueue {
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl CallQueue for MemoryQueue {
    fn offer(&self, host: &str, offer: Offer) -> Result<CallerEnd, QueueError> {
        let mut state = lock(&self.state);
        // Calls whose answerer has gone take no more updates.
        state.calls.retain(|_, to| !to.is_closed());
        let (to_caller, answers) = mpsc::channel(UPDATES);
        let (to_answerer, updates) = mpsc::channel(UPDATES);
        let uuid = offer.uuid.clone();
        let entry = state.hosts.get_mut(host).filter(|h| h.online > 0);
        let Some(entry) = entry else {
            return Err(QueueError::Offline(host.to_owned()));
        };
        let mut end = AnswererEnd {
            offer,
            updates,
            answers: to_caller,
        };
        while let Some(slot) = entry.idle.pop_front() {
            let Some(worker) = slot.lock().unwrap_or_else(|e| e.into_inner()).take() else {
                continue;
            };
            match worker.send(end) {
                Ok(()) => {
                    state.calls.insert(uuid, to_answerer);
                    return Ok(CallerEnd { answers });
                }
                Err(back) => end = back,
            }
        }
        let now = Instant::now();
        entry
            .waiting
            .retain(|w| w.offer.deadline > now && !w.answers.is_closed());
        if entry.waiting.len() >= MAX_WAITING {
            return Err(QueueError::Busy(host.to_owned()));
        }
        entry.waiting.push_back(end);
        state.calls.insert(uuid, to_answerer);
        Ok(CallerEnd { answers })
    }

    fn update(&self, uuid: &str, update: FromCaller) -> Result<(), QueueError> {
        let mut state = lock(&self.state);
        let Some(to) = state.calls.get(uuid) else {
            return Err(QueueError::UnknownCall(uuid.to_owned()));
        };
        let finished = matches!(update, FromCaller::Done | FromCaller::Error(_));
        // A full or closed channel: the answerer is gone or not reading; the
        // caller's update has nowhere to go either way.
        let _ = to.try_send(update);
        if finished || to.is_closed() {
            state.calls.remove(uuid);
        }
        Ok(())
    }

    fn register(&self, hosts: Vec<String>) -> Registration {
        let mut state = lock(&self.state);
        for h in &hosts {
            state.hosts.entry(h.clone()).or_default().online += 1;
        }
        Registration {
            queue: Arc::downgrade(&self.state),
            hosts,
        }
    }
}

impl Registration {
    /// The next offer for any of this worker's hosts; `None` if the queue
    /// is gone.
    pub async fn next(&self) -> Option<AnswererEnd> {
        let slot: Slot;
        let rx = {
            let queue = self.queue.upgrade()?;
            let mut state = lock(&queue);
            let now = Instant::now();
            for h in &self.hosts {
                let Some(host) = state.hosts.get_mut(h) else {
                    continue;
                };
                while let Some(end) = host.waiting.pop_front() {
                    if end.offer.deadline > now && !end.answers.is_closed() {
                        return Some(end);
                    }
                }
            }
            let (tx, rx) = oneshot::channel();
            slot = Arc::new(Mutex::new(Some(tx)));
            for h in &self.hosts {
                state
                    .hosts
                    .entry(h.clone())
                    .or_default()
                    .idle
                    .push_back(slot.clone());
            }
            rx
        };
        let end = rx.await.ok();
        drop(slot);
        end
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let Some(queue) = self.queue.upgrade() else {
            return;
        };
        let mut state = lock(&queue);
        for h in &self.hosts {
            if let Some(host) = state.hosts.get_mut(h) {
                host.online = host.online.saturating_sub(1);
                host.idle
                    .retain(|s| s.lock().map(|s| s.is_some()).unwrap_or(false));
                if host.online == 0 {
                    state.hosts.remove(h);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn offer(uuid: &str) -> Offer {
        Offer {
            uuid: uuid.into(),
            sdp: "offer".into(),
            caller_entity: "key".into(),
            deadline: Instant::now() + Duration::from_secs(10),
        }
    }

    #[tokio::test]
    async fn an_offer_reaches_an_idle_worker_and_updates_flow_both_ways() {
        let q = MemoryQueue::default();
        let worker = q.register(vec!["rover.example".into()]);
        let waiting = tokio::spawn(async move { (worker.next().await, worker) });
        tokio::task::yield_now().await;
        let mut caller = q.offer("rover.example", offer("c1")).unwrap();
        let (end, _worker) = waiting.await.unwrap();
        let mut end = end.unwrap();
        assert_eq!(end.offer.uuid, "c1");
        end.answers
            .send(FromAnswerer::Init("answer".into()))
            .await
            .unwrap();
        assert_eq!(
            caller.answers.recv().await,
            Some(FromAnswerer::Init("answer".into()))
        );
        let candidate = IceCandidate {
            candidate: "candidate:1".into(),
            ..Default::default()
        };
        q.update("c1", FromCaller::Candidate(candidate.clone()))
            .unwrap();
        q.update("c1", FromCaller::Done).unwrap();
        assert_eq!(
            end.updates.recv().await,
            Some(FromCaller::Candidate(candidate))
        );
        assert_eq!(end.updates.recv().await, Some(FromCaller::Done));
        assert_eq!(
            q.update("c1", FromCaller::Done),
            Err(QueueError::UnknownCall("c1".into()))
        );
    }

    #[tokio::test]
    async fn an_unknown_host_fails_at_once_and_a_busy_one_waits_for_a_worker() {
        let q = MemoryQueue::default();
        assert!(matches!(
            q.offer("nobody", offer("x")),
            Err(QueueError::Offline(_))
        ));
        let worker = q.register(vec!["rover".into()]);
        // Every worker busy: the offer waits, and the next free worker takes it.
        let _caller = q.offer("rover", offer("queued")).unwrap();
        assert_eq!(worker.next().await.unwrap().offer.uuid, "queued");
        drop(worker);
        assert!(matches!(
            q.offer("rover", offer("y")),
            Err(QueueError::Offline(_))
        ));
    }

    #[tokio::test]
    async fn a_flood_for_one_host_is_bounded_and_leaves_the_others_alone() {
        let q = MemoryQueue::default();
        let _busy = q.register(vec!["flooded".into()]);
        let quiet = q.register(vec!["quiet".into()]);
        let mut callers = Vec::new();
        for i in 0..MAX_WAITING {
            callers.push(q.offer("flooded", offer(&format!("f{i}"))).unwrap());
        }
        assert!(matches!(
            q.offer("flooded", offer("more")),
            Err(QueueError::Busy(_))
        ));
        let waiting = tokio::spawn(async move { quiet.next().await.map(|e| e.offer.uuid) });
        tokio::task::yield_now().await;
        let _caller = q.offer("quiet", offer("q1")).unwrap();
        assert_eq!(waiting.await.unwrap().as_deref(), Some("q1"));
        // A caller that gave up frees its place.
        callers.clear();
        assert!(q.offer("flooded", offer("again")).is_ok());
    }

    #[tokio::test]
    async fn a_worker_for_several_hosts_takes_one_offer() {
        let q = MemoryQueue::default();
        let worker = q.register(vec!["a".into(), "b".into()]);
        let waiting =
            tokio::spawn(async move { (worker.next().await.map(|e| e.offer.uuid), worker) });
        tokio::task::yield_now().await;
        let _first = q.offer("b", offer("to-b")).unwrap();
        let (got, worker) = waiting.await.unwrap();
        assert_eq!(got.as_deref(), Some("to-b"));
        // Its slot on "a" was used up: an offer for "a" now waits for it.
        let _second = q.offer("a", offer("to-a")).unwrap();
        assert_eq!(worker.next().await.unwrap().offer.uuid, "to-a");
    }
}
