//! Live reconfiguration: the running robot follows its config file.
//!
//! - [`watcher`]: watches the file's directory (inotify), debounces bursts,
//!   survives editors that replace the file, and skips unchanged bytes. It
//!   sends each new text to the reconfigurer and waits for it to be applied,
//!   so edits that arrive meanwhile collapse into one reload.
//! - [`diff`]: the old config against the new one: what to take down,
//!   change in place, start and build.
//! - [`reconfigurer`]: the `Reconfigurer` actor, which owns the running
//!   config, the modules and the remote links, and applies plans one at a
//!   time. "What happens when the config changes" is `Live::apply`.
//! - [`ConfigState`]: the revision in use and the last refusal, for
//!   GetMachineStatus.

pub mod diff;
pub mod reconfigurer;
pub mod watcher;

pub use reconfigurer::{Apply, Close, Reconfigurer, Running};
pub use watcher::Watcher;

use std::sync::RwLock;
use std::time::SystemTime;

/// The config the robot runs, as GetMachineStatus shows it.
#[derive(Default)]
pub struct ConfigState {
    inner: RwLock<Shown>,
}

/// One reading of [`ConfigState`].
#[derive(Debug, Clone)]
pub struct Shown {
    /// The revision in use ([`crate::config::revision_of`] its text).
    pub revision: String,
    /// When it was applied.
    pub applied: SystemTime,
    /// Why the latest text was refused, and when, if it was.
    pub error: Option<(String, SystemTime)>,
}

impl Default for Shown {
    fn default() -> Self {
        Self {
            revision: String::new(),
            applied: SystemTime::now(),
            error: None,
        }
    }
}

impl ConfigState {
    /// The current reading.
    pub fn get(&self) -> Shown {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records that `revision` was applied.
    pub fn applied(&self, revision: &str) {
        let mut shown = self.inner.write().unwrap_or_else(|e| e.into_inner());
        *shown = Shown {
            revision: revision.into(),
            applied: SystemTime::now(),
            error: None,
        };
    }

    /// Records that the latest text was refused; the revision stays.
    pub fn refused(&self, error: String) {
        let mut shown = self.inner.write().unwrap_or_else(|e| e.into_inner());
        shown.error = Some((error, SystemTime::now()));
    }
}
