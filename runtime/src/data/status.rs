//! What the data manager shows in GetStatus, DoCommand `status` and
//! GetMachineStatus: shared by the syncer, which writes it, and the
//! service, which reads it without a message.

use super::capture_file::{Recovered, rfc3339};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

/// Where sync stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncState {
    /// No `sync_target`: files stay on disk.
    #[default]
    NoTarget,
    /// Syncing (or waiting for the next pass).
    Running,
    /// The store cannot be reached: paused, retrying by itself.
    Offline,
    /// The store refuses us: paused until the config or the store is fixed.
    Misconfigured,
}

impl SyncState {
    /// As shown.
    pub fn name(self) -> &'static str {
        match self {
            Self::NoTarget => "no target",
            Self::Running => "running",
            Self::Offline => "offline",
            Self::Misconfigured => "misconfigured",
        }
    }
}

/// The files waiting for sync.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pending {
    /// Closed files not yet synced.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// When the oldest of them was written.
    pub oldest: Option<SystemTime>,
}

/// Sync's status.
#[derive(Debug, Clone, Default)]
pub struct SyncStatus {
    /// Where sync stands.
    pub state: SyncState,
    /// The target's URL.
    pub target: Option<String>,
    /// What waits.
    pub pending: Pending,
    /// Bytes under the capture directory, `.prog` files included.
    pub capture_dir_bytes: u64,
    /// Free bytes on its disk.
    pub free_bytes: u64,
    /// Files synced (and deleted here) since the service started.
    pub uploaded_files: u64,
    /// Their bytes.
    pub uploaded_bytes: u64,
    /// When the last pass succeeded.
    pub last_success: Option<SystemTime>,
    /// The last failure, and when.
    pub last_error: Option<(String, SystemTime)>,
    /// When the next attempt is due, if paused.
    pub next_attempt: Option<SystemTime>,
    /// Closed files deleted to stay within the quota and the free floor.
    pub deleted_files: u64,
    /// Their bytes.
    pub deleted_bytes: u64,
    /// What recovery found at start.
    pub recovered: Recovered,
    /// Capture methods that cannot run, each with why.
    pub refused: Vec<String>,
}

fn at(t: Option<SystemTime>) -> Value {
    t.map_or(Value::Null, |t| Value::String(rfc3339(t)))
}

fn age(t: SystemTime) -> f64 {
    SystemTime::now()
        .duration_since(t)
        .unwrap_or(Duration::ZERO)
        .as_secs_f64()
}

impl SyncStatus {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "state": self.state.name(),
            "target": self.target,
            "pending_files": self.pending.files,
            "pending_bytes": self.pending.bytes,
            "oldest_pending_age_s": self.pending.oldest.map(age),
            "uploaded_files": self.uploaded_files,
            "uploaded_bytes": self.uploaded_bytes,
            "last_success": at(self.last_success),
            "last_error": self.last_error.as_ref().map(|(e, _)| e.clone()),
            "last_error_at": at(self.last_error.as_ref().map(|(_, t)| *t)),
            "next_attempt": at(self.next_attempt),
            "deleted_for_space_files": self.deleted_files,
            "deleted_for_space_bytes": self.deleted_bytes,
            "capture_dir_bytes": self.capture_dir_bytes,
            "free_bytes": self.free_bytes,
            "recovered_files": self.recovered.files,
            "recovered_records": self.recovered.records,
            "recovered_torn_bytes": self.recovered.torn_bytes,
            "refused_captures": self.refused,
        })
    }

    /// The line GetMachineStatus shows when capture or sync is not running
    /// well: refused capture methods first, then sync's trouble.
    pub fn problem(&self) -> Option<String> {
        let mut lines: Vec<String> = self
            .refused
            .iter()
            .map(|why| format!("capture method refused: {why}"))
            .collect();
        lines.extend(self.sync_problem());
        (!lines.is_empty()).then(|| lines.join("; "))
    }

    fn sync_problem(&self) -> Option<String> {
        let (why, _) = self.last_error.as_ref()?;
        let state = match self.state {
            SyncState::Offline | SyncState::Misconfigured => self.state.name(),
            _ => return None,
        };
        let oldest = self.pending.oldest.map_or(String::new(), |t| {
            format!(", the oldest {:.0} s old", age(t))
        });
        Some(format!(
            "sync {state}: {why}; {} files ({} bytes) pending{oldest}",
            self.pending.files, self.pending.bytes
        ))
    }
}
