//! The session of the client whose call a driver is serving.
//!
//! A module's base that drives two motors through the parent must make those
//! motor calls under the session of the client that drove the base: then the
//! client's death stops the motors too, not only the base. The module's server
//! puts the request's `viam-sid` in a task-local ([`serve_under`]); the
//! resource handle captures it when it sends work to the driver's actor, and
//! the actor's thread sees it ([`session`]) while the driver runs.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;

tokio::task_local! {
    static REQUEST_SESSION: Option<Arc<str>>;
}

thread_local! {
    static DRIVER_SESSION: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
}

/// The session of the client whose call the driver on this thread is
/// serving, if that client has one. Call it from driver code; dependencies
/// reached through the parent pass it on (see `module::Dependencies`).
pub fn session() -> Option<Arc<str>> {
    DRIVER_SESSION.with(|s| s.borrow().clone())
}

/// Runs `request` (one gRPC call) with `session` as its caller's session.
pub fn serve_under<F: Future>(
    session: Option<Arc<str>>,
    request: F,
) -> impl Future<Output = F::Output> {
    REQUEST_SESSION.scope(session, request)
}

/// Wraps driver work so that it runs under the caller's session of the
/// request that created it (none outside a module's request).
pub(crate) fn carry<D: ?Sized, R>(
    f: impl FnOnce(&mut D) -> R + Send + 'static,
) -> impl FnOnce(&mut D) -> R + Send + 'static {
    let session = REQUEST_SESSION.try_with(Clone::clone).ok().flatten();
    move |driver| {
        if session.is_none() {
            return f(driver);
        }
        let previous = DRIVER_SESSION.with(|s| s.replace(session));
        let out = f(driver);
        DRIVER_SESSION.with(|s| *s.borrow_mut() = previous);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_carries_the_session_of_the_request_that_made_it() {
        let work = serve_under(Some("s1".into()), async { carry(|_: &mut ()| session()) }).await;
        assert_eq!(session(), None);
        assert_eq!(work(&mut ()).as_deref(), Some("s1"));
        assert_eq!(session(), None, "the session does not leak past the work");
        assert_eq!(carry(|_: &mut ()| session())(&mut ()), None);
    }
}
