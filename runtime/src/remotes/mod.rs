//! Parts: this part serves the resources of its sub-parts (remotes) as its
//! own, as `<remote>:<resource>`.
//!
//! Each remote is a [`RemoteActor`] holding this part's client of the
//! sub-part; each of the sub-part's resources is a proxy actor here
//! (`crate::proxy`), which sessions, StopAll and shutdown stop like a
//! built-in. "What happens when the link is lost" is `RemoteActor::lost`.

pub mod remote;

pub use remote::RemoteActor;

use crate::config::RemoteEntry;
use crate::robot::Robot;
use actix::{Actor, Addr};
use remote::WaitFirstTry;
use std::sync::Arc;
use tracing::warn;

/// The links to the remote parts.
#[derive(Default)]
pub struct Remotes {
    actors: Vec<Addr<RemoteActor>>,
}

impl Remotes {
    /// Starts a link to every remote of the config, and waits until each has
    /// tried once to connect. A remote that is not up keeps being retried;
    /// its resources appear when it is.
    pub async fn start(entries: &[RemoteEntry], robot: Arc<Robot>) -> Self {
        let mut remotes = Self::default();
        let mut names = Vec::new();
        for entry in entries {
            match entry {
                Ok(c) if names.contains(&c.name) => {
                    warn!(
                        "remote refused: remote {:?}: name: another remote already has this name",
                        c.name
                    );
                }
                Ok(c) => {
                    if c.has_auth {
                        warn!(remote = %c.name, "auth for remotes is not supported yet; connecting without credentials");
                    }
                    names.push(c.name.clone());
                    remotes
                        .actors
                        .push(RemoteActor::new(c.clone(), robot.clone()).start());
                }
                Err(e) => warn!("remote refused: {e}"),
            }
        }
        let tries = remotes.actors.iter().map(|a| a.send(WaitFirstTry));
        futures::future::join_all(tries).await;
        remotes
    }
}
