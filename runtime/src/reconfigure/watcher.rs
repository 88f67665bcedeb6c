//! Watches the config file and sends each new text to the reconfigurer.
//!
//! The watch is on the file's directory, not the file: editors that save by
//! writing a new file and renaming it over the old one replace the inode a
//! file watch would follow. Events are debounced: a reload starts once the
//! directory has been quiet for [`QUIET`], or [`MAX_DELAY`] after the first
//! event of a burst. Bytes equal to the last ones read are skipped. While a
//! config is being applied, new events collapse into one pending reload.

use super::reconfigurer::{Apply, Reconfigurer};
use crate::config::revision_of;
use actix::Addr;
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tracing::{debug, info, warn};

/// How long the file must be left alone before it is read.
pub const QUIET: Duration = Duration::from_millis(20);
/// The longest a reload waits for a burst of events to end.
pub const MAX_DELAY: Duration = Duration::from_millis(300);

/// A running watch; dropping it stops watching.
pub struct Watcher {
    dirty: Arc<Notify>,
    _inotify: Option<RecommendedWatcher>,
    task: tokio::task::JoinHandle<()>,
}

impl Watcher {
    /// Watches `path`, whose text with revision `revision` is applied
    /// already, and sends changes to `target`. If the OS refuses a watch
    /// (inotify limits), it says so, and only SIGHUP reloads.
    pub fn start(path: PathBuf, revision: String, target: Addr<Reconfigurer>) -> Self {
        let dirty = Arc::new(Notify::new());
        let inotify = match watch(&path, dirty.clone()) {
            Ok(w) => {
                info!(config = %path.display(), "watching the config file for changes");
                Some(w)
            }
            Err(e) => {
                warn!(config = %path.display(), error = %e, "cannot watch the config file; send SIGHUP to apply changes");
                None
            }
        };
        let task = tokio::spawn(reload_loop(path, revision, target, dirty.clone()));
        Self {
            dirty,
            _inotify: inotify,
            task,
        }
    }

    /// Reads the file again, as if it had changed (SIGHUP).
    pub fn poke(&self) {
        self.dirty.notify_one();
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Wakes `dirty` on every event that names the file, in its folder.
fn watch(path: &Path, dirty: Arc<Notify>) -> notify::Result<RecommendedWatcher> {
    let name = path.file_name().map(|n| n.to_os_string());
    let mut inotify = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let ours = match &event {
            Ok(e) => e.paths.iter().any(|p| p.file_name() == name.as_deref()),
            // Events may have been lost: read the file to be sure.
            Err(_) => true,
        };
        if ours {
            dirty.notify_one();
        }
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    inotify.watch(&dir, RecursiveMode::NonRecursive)?;
    Ok(inotify)
}

async fn reload_loop(
    path: PathBuf,
    mut last: String,
    target: Addr<Reconfigurer>,
    dirty: Arc<Notify>,
) {
    loop {
        dirty.notified().await;
        settle(&dirty).await;
        let Some(text) = read(&path) else {
            continue;
        };
        let revision = revision_of(&text);
        if revision == last {
            debug!(revision, "config file touched but unchanged; nothing to do");
            continue;
        }
        info!(revision, "config file changed; applying");
        last = revision.clone();
        if target.send(Apply { text, revision }).await.is_err() {
            return;
        }
    }
}

/// Waits until the burst of events that woke us has ended.
async fn settle(dirty: &Notify) {
    let first = Instant::now();
    while first.elapsed() < MAX_DELAY && tokio::time::timeout(QUIET, dirty.notified()).await.is_ok()
    {
    }
}

fn read(path: &Path) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(text) => Some(text),
        // Between an editor's delete and create: the create wakes us again.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            warn!(config = %path.display(), "config file is gone; the running config stays until it is back");
            None
        }
        Err(e) => {
            warn!(config = %path.display(), error = %e, "cannot read the config file; the running config stays");
            None
        }
    }
}
