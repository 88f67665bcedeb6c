//! Session deadlines: every live session's deadline in order, and one
//! precise OS timer (a timerfd) armed at the earliest.
//!
//! Each session thus expires at its own deadline, not at the next tick of a
//! poll loop, and to the tens of microseconds rather than tokio's
//! millisecond timer wheel. Moving a deadline costs O(log n) and no system
//! call: the timer is re-armed only when a deadline comes before the armed
//! one. When it fires for a deadline that has since moved, it is simply
//! re-armed at the new earliest; with healthy clients that happens about
//! once per window, not once per heartbeat.

use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use std::collections::BTreeSet;
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use uuid::Uuid;

struct Timer(TimerFd);

impl AsRawFd for Timer {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// Deadlines in order, and the timer that wakes the owner at the earliest.
pub struct Deadlines {
    order: BTreeSet<(Instant, Uuid)>,
    timer: AsyncFd<Timer>,
    /// When the timer is set to fire, if it is set.
    armed: Option<Instant>,
}

impl Deadlines {
    /// No deadlines. Must run inside a tokio runtime, whose reactor watches
    /// the timer.
    pub fn new() -> io::Result<Self> {
        let flags = TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC;
        let timer = TimerFd::new(ClockId::CLOCK_MONOTONIC, flags).map_err(io::Error::from)?;
        // SAFETY: `Timer` owns its fd (an `OwnedFd` inside `TimerFd`), never
        // replaces it, and lives exactly as long as the `AsyncFd`.
        let timer = unsafe { AsyncFd::register_with_interest(Timer(timer), Interest::READABLE) }
            .map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Self {
            order: BTreeSet::new(),
            timer,
            armed: None,
        })
    }

    /// Adds `id`'s deadline.
    pub fn insert(&mut self, at: Instant, id: Uuid) {
        self.order.insert((at, id));
        if self.armed.is_none_or(|armed| at < armed) {
            self.arm(at);
        }
    }

    /// Removes `id`'s deadline. A timer armed for it fires harmlessly.
    pub fn remove(&mut self, at: Instant, id: Uuid) {
        self.order.remove(&(at, id));
    }

    /// Moves `id`'s deadline from `from` to `to`.
    pub fn reset(&mut self, from: Instant, to: Instant, id: Uuid) {
        self.remove(from, id);
        self.insert(to, id);
    }

    /// Whether no deadline is pending.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The sessions whose deadlines have passed, removed from the order;
    /// pending until there is one, with the caller's waker registered.
    pub fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<Vec<Uuid>> {
        loop {
            let now = Instant::now();
            let mut due = Vec::new();
            while let Some(&(at, id)) = self.order.first().filter(|(at, _)| *at <= now) {
                self.order.remove(&(at, id));
                due.push(id);
            }
            if !due.is_empty() {
                return Poll::Ready(due);
            }
            match self.timer.poll_read_ready(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(mut ready)) => {
                    // Drain the expiry count; EAGAIN means it was already read.
                    let _ = ready.get_inner().0.wait();
                    ready.clear_ready();
                    self.armed = None;
                    if let Some(&(at, _)) = self.order.first() {
                        self.arm(at);
                    }
                }
                Poll::Ready(Err(e)) => {
                    // The reactor lost the fd; nothing can wake us on time now.
                    tracing::error!(error = %e, "session timer failed; expiring by deadline checks only");
                    return Poll::Pending;
                }
            }
        }
    }

    fn arm(&mut self, at: Instant) {
        // A zero one-shot would disarm the timer: a passed deadline fires in 1 ns.
        let after = at
            .saturating_duration_since(Instant::now())
            .max(Duration::from_nanos(1));
        let expiration = Expiration::OneShot(TimeSpec::from_duration(after));
        match self
            .timer
            .get_ref()
            .0
            .set(expiration, TimerSetTimeFlags::empty())
        {
            Ok(()) => self.armed = Some(at),
            Err(e) => tracing::error!(error = %e, "cannot arm the session timer"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    #[tokio::test]
    async fn deadlines_fire_in_order_each_at_its_own_time() {
        let mut d = Deadlines::new().unwrap();
        let start = Instant::now();
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        d.insert(start + Duration::from_millis(30), a);
        d.insert(start + Duration::from_millis(10), b);
        d.insert(start + Duration::from_millis(20), c);
        // c's deadline moves past a's.
        d.reset(
            start + Duration::from_millis(20),
            start + Duration::from_millis(40),
            c,
        );
        let mut fired = Vec::new();
        while fired.len() < 3 {
            let ids = poll_fn(|cx| d.poll_expired(cx)).await;
            fired.extend(ids.into_iter().map(|id| (id, start.elapsed())));
        }
        let order: Vec<_> = fired.iter().map(|(id, _)| *id).collect();
        assert_eq!(order, [b, a, c]);
        for ((_, at), want) in fired.iter().zip([10, 30, 40]) {
            assert!(
                *at >= Duration::from_millis(want),
                "{at:?} before {want} ms"
            );
        }
        assert!(d.is_empty());
    }

    #[tokio::test]
    async fn a_removed_deadline_never_fires() {
        let mut d = Deadlines::new().unwrap();
        let (gone, kept) = (Uuid::new_v4(), Uuid::new_v4());
        let at = Instant::now() + Duration::from_millis(5);
        d.insert(at, gone);
        d.insert(at + Duration::from_millis(10), kept);
        d.remove(at, gone);
        let ids = poll_fn(|cx| d.poll_expired(cx)).await;
        assert_eq!(ids, [kept]);
    }
}
