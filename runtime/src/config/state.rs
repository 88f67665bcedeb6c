//! The config the robot runs, as GetMachineStatus shows it: written by the
//! reconfigurer, read by RobotService.

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
    /// The revision in use ([`super::revision_of`] its text).
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
