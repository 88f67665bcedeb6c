//! Who a driver's work is for: the session of the client whose call it
//! serves, and the connection that call came on.
//!
//! A module's base that drives two motors through the parent must make those
//! motor calls under the session of the client that drove the base: then the
//! client's death stops the motors too, not only the base. And an input
//! controller's event carries who triggered it, so a remote control knows
//! whose motion it commands. The server puts the request's caller in a
//! task-local ([`serve_as`]); the resource handle captures it when it sends
//! work to the driver's actor, and the actor's thread sees it ([`current`],
//! [`session`]) while the driver runs.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;
use tokio::task::futures::TaskLocalFuture;

/// The client behind a call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// Its session (`viam-sid`), if the call carried one.
    pub session: Option<Arc<str>>,
    /// The connection the call came on, as the server numbers them.
    pub connection: Option<u64>,
}

tokio::task_local! {
    static REQUEST: Option<Caller>;
}

thread_local! {
    static DRIVER: RefCell<Option<Caller>> = const { RefCell::new(None) };
}

/// The session of the client whose call the driver on this thread is
/// serving, if that client has one. Call it from driver code; dependencies
/// reached through the parent pass it on (see `module::Dependencies`).
pub fn session() -> Option<Arc<str>> {
    DRIVER.with(|c| c.borrow().as_ref().and_then(|c| c.session.clone()))
}

/// The caller whose call the driver on this thread is serving, if any.
pub fn current() -> Option<Caller> {
    DRIVER.with(|c| c.borrow().clone())
}

/// Runs `request` (one gRPC call) with `session` as its caller's session.
pub fn serve_under<F: Future>(
    session: Option<Arc<str>>,
    request: F,
) -> TaskLocalFuture<Option<Caller>, F> {
    let caller = session.map(|session| Caller {
        session: Some(session),
        connection: None,
    });
    serve_as(caller, request)
}

/// Runs `request` (one gRPC call) on behalf of `caller`.
pub fn serve_as<F: Future>(
    caller: Option<Caller>,
    request: F,
) -> TaskLocalFuture<Option<Caller>, F> {
    REQUEST.scope(caller, request)
}

/// Wraps driver work so that it runs for the caller of the request that
/// created it (none outside a request).
pub(crate) fn carry<D: ?Sized, R>(
    f: impl FnOnce(&mut D) -> R + Send + 'static,
) -> impl FnOnce(&mut D) -> R + Send + 'static {
    let caller = REQUEST.try_with(Clone::clone).ok().flatten();
    move |driver| {
        if caller.is_none() {
            return f(driver);
        }
        let previous = DRIVER.with(|c| c.replace(caller));
        let out = f(driver);
        DRIVER.with(|c| *c.borrow_mut() = previous);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_carries_the_caller_of_the_request_that_made_it() {
        let work = serve_under(Some("s1".into()), async { carry(|_: &mut ()| session()) }).await;
        assert_eq!(session(), None);
        assert_eq!(work(&mut ()).as_deref(), Some("s1"));
        assert_eq!(session(), None, "the session does not leak past the work");
        assert_eq!(carry(|_: &mut ()| session())(&mut ()), None);
        let by = Caller {
            session: None,
            connection: Some(7),
        };
        let work = serve_as(Some(by.clone()), async { carry(|_: &mut ()| current()) }).await;
        assert_eq!(work(&mut ()), Some(by));
    }
}
