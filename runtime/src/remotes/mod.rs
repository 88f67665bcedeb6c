//! Parts: this part serves the resources of its sub-parts (remotes) as its
//! own, as `<remote>:<resource>`.
//!
//! Each remote is a [`RemoteActor`] holding this part's client of the
//! sub-part; each of the sub-part's resources is a proxy actor here
//! (`crate::proxy`), which sessions, StopAll and shutdown stop like a
//! built-in. "What happens when the link is lost" is `RemoteActor::lost`.

pub mod remote;

pub use remote::RemoteActor;

use crate::config::RemoteConfig;
use crate::robot::Robot;
use actix::{Actor, Addr};
use remote::{Close, WaitFirstTry};
use std::sync::Arc;

/// The links to the remote parts. The config's reconfigurer starts and
/// closes them as the config changes.
#[derive(Default)]
pub struct Remotes {
    actors: Vec<(String, Addr<RemoteActor>)>,
}

impl Remotes {
    /// Starts a link to each of `configs` (their names must be new), and
    /// waits until each has tried once to connect. A remote that is not up
    /// keeps being retried; its resources appear when it is.
    pub async fn start(&mut self, configs: &[RemoteConfig], robot: &Arc<Robot>) {
        let mut tries = Vec::new();
        for c in configs {
            let actor = RemoteActor::new(c.clone(), robot.clone()).start();
            tries.push(actor.send(WaitFirstTry));
            self.actors.push((c.name.clone(), actor));
        }
        futures::future::join_all(tries).await;
    }

    /// Closes the link to remote `name`; its proxies answer UNAVAILABLE
    /// until the caller removes them from the robot.
    pub async fn close(&mut self, name: &str) {
        let Some(i) = self.actors.iter().position(|(n, _)| n == name) else {
            return;
        };
        let (_, actor) = self.actors.remove(i);
        let _ = actor.send(Close).await;
    }

    /// Closes every link.
    pub async fn close_all(&mut self) {
        let all = std::mem::take(&mut self.actors);
        futures::future::join_all(all.iter().map(|(_, a)| a.send(Close))).await;
    }
}
