//! The session timer: one precise OS timer (a timerfd), armed at the
//! earliest session deadline.
//!
//! Each session thus expires at its own deadline, not at the next tick of a
//! poll loop, and to the tens of microseconds rather than tokio's
//! millisecond timer wheel. The timer is polled by the supervisor and armed
//! through the session table ([`Arm`]), from any thread: only when a
//! deadline comes before the armed one (a new session; a first renewal
//! after the start-up grace), and when it fires, at the new earliest. With
//! healthy clients that is about once per window, not once per heartbeat.

use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

struct Fd(Arc<TimerFd>);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// The waiting side of a one-shot timer: it wakes its owner's task.
pub struct Timer {
    fd: AsyncFd<Fd>,
}

/// The arming side of the same timer.
pub struct Arm(Arc<TimerFd>);

impl Timer {
    /// An unarmed timer, and what arms it. Must run inside a tokio runtime,
    /// whose reactor watches it.
    pub fn new() -> io::Result<(Self, Arm)> {
        let flags = TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC;
        let fd = TimerFd::new(ClockId::CLOCK_MONOTONIC, flags).map_err(io::Error::from)?;
        let fd = Arc::new(fd);
        // SAFETY: `Fd` shares ownership of its fd (an `OwnedFd` inside
        // `TimerFd`, closed only when the last `Arc` goes), never replaces
        // it, and the `AsyncFd` holds one of those `Arc`s.
        let watched =
            unsafe { AsyncFd::register_with_interest(Fd(fd.clone()), Interest::READABLE) }
                .map_err(|e| io::Error::other(e.to_string()))?;
        Ok((Self { fd: watched }, Arm(fd)))
    }

    /// Ready once the armed time has passed; the timer is then unarmed.
    pub fn poll_fired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.fd.poll_read_ready(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(mut ready)) => {
                // Drain the expiry count; EAGAIN means it was already read.
                let _ = ready.get_inner().0.wait();
                ready.clear_ready();
                Poll::Ready(())
            }
            Poll::Ready(Err(e)) => {
                // The reactor lost the fd; nothing can wake us on time now.
                tracing::error!(error = %e, "session timer failed; expiring by deadline checks only");
                Poll::Pending
            }
        }
    }
}

impl Arm {
    /// Makes the timer fire at `at` (replacing any earlier setting); false
    /// if the OS refused.
    pub fn set(&self, at: Instant) -> bool {
        // A zero one-shot would disarm the timer: a passed deadline fires in 1 ns.
        let after = at
            .saturating_duration_since(Instant::now())
            .max(Duration::from_nanos(1));
        let expiration = Expiration::OneShot(TimeSpec::from_duration(after));
        match self.0.set(expiration, TimerSetTimeFlags::empty()) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, "cannot arm the session timer");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    #[tokio::test]
    async fn it_fires_at_the_time_it_was_last_set_to() {
        let (mut t, arm) = Timer::new().unwrap();
        let start = Instant::now();
        assert!(arm.set(start + Duration::from_millis(30)));
        assert!(arm.set(start + Duration::from_millis(10)));
        poll_fn(|cx| t.poll_fired(cx)).await;
        let at = start.elapsed();
        assert!(
            at >= Duration::from_millis(10) && at < Duration::from_millis(25),
            "{at:?}"
        );
        assert!(arm.set(Instant::now()));
        poll_fn(|cx| t.poll_fired(cx)).await;
    }
}
