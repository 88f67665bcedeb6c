//! The `Syncer` actor: one per data manager. Every `sync_interval` (or when
//! the Sync RPC asks) it runs a *pass*: it closes the collectors' files,
//! then uploads the closed files oldest first, a few at a time, each as one
//! object whose key ends in its content hash, and deletes each local file
//! once its upload succeeded. A file sent twice (a crash before the delete,
//! a lost response) lands on the same key with the same bytes: one object.
//!
//! A failed pass pauses sync with jittered backoff: offline retries by
//! itself; misconfigured says so and waits (retrying slowly, so a fix made
//! at the store is found too). While paused, collectors' files are not
//! closed early, so an outage makes full-size files, not a heap of tiny
//! ones. Every few seconds it also surveys the disk (limits, pending).

use super::Retire;
use super::collector::{Collector, Flush};
use super::config::{DataManagerConfig, TargetConfig};
use super::space::{self, Limits};
use super::status::{SyncState, SyncStatus};
use super::target::{Failure, Target};
use crate::backoff::Backoff;
use crate::robot::Robot;
use actix::prelude::*;
use futures::StreamExt;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::oneshot;
use tracing::{debug, error, info, warn};

/// How often the disk is surveyed.
const SURVEY_EVERY: Duration = Duration::from_secs(2);
/// How long a pass waits for collectors to close their files.
const FLUSH_WAIT: Duration = Duration::from_secs(5);
/// Offline: retry from 1 s, doubling to 30 s, each drawn in [d/2, d] so
/// robots that lost the same uplink do not all come back at once.
const OFFLINE: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30)).jittered(50);
/// Refused by the store: retry slowly, from 5 s to a minute.
const MISCONFIGURED: Backoff =
    Backoff::new(Duration::from_secs(5), Duration::from_secs(60)).jittered(50);

/// The status, shared with the service.
pub type SharedStatus = Arc<Mutex<SyncStatus>>;

/// Files being uploaded: the disk survey leaves them alone.
type Busy = Arc<Mutex<HashSet<PathBuf>>>;

/// The syncer.
pub struct Syncer {
    name: String,
    config: Arc<DataManagerConfig>,
    target: Option<Arc<Target>>,
    collectors: Vec<Addr<Collector>>,
    status: SharedStatus,
    robot: Arc<Robot>,
    busy: Busy,
    running: bool,
    /// Sync callers the running pass answers.
    answering: Vec<oneshot::Sender<Result<(), String>>>,
    /// Sync callers who came during a pass: the next one answers them.
    queued: Vec<oneshot::Sender<Result<(), String>>>,
    retry_at: Option<Instant>,
    /// Pauses while the store cannot be reached, and while it refuses us.
    offline: Backoff,
    misconfigured: Backoff,
    surveying: bool,
}

impl Syncer {
    /// A syncer for the service `name`.
    pub fn new(
        name: String,
        config: Arc<DataManagerConfig>,
        collectors: Vec<Addr<Collector>>,
        status: SharedStatus,
        robot: Arc<Robot>,
    ) -> Self {
        Self {
            name,
            config,
            target: None,
            collectors,
            status,
            robot,
            busy: Arc::default(),
            running: false,
            answering: Vec::new(),
            queued: Vec::new(),
            retry_at: None,
            offline: OFFLINE,
            misconfigured: MISCONFIGURED,
            surveying: false,
        }
    }

    fn set_status(&self, f: impl FnOnce(&mut SyncStatus)) {
        let problem = match self.status.lock() {
            Ok(mut s) => {
                f(&mut s);
                s.problem()
            }
            Err(_) => None,
        };
        self.robot.set_problem(&self.name, problem);
    }

    fn state(&self) -> SyncState {
        self.status.lock().map(|s| s.state).unwrap_or_default()
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        let paused = self.retry_at.is_some_and(|t| Instant::now() < t);
        if !self.running && !paused {
            self.start_pass(ctx);
        }
    }

    fn start_pass(&mut self, ctx: &mut Context<Self>) {
        let Some(target_config) = self.config.target.clone() else {
            let why = match &self.config.target_error {
                Some(e) => format!("sync_target cannot be used: {e}"),
                None => "no sync_target is configured: capture files stay on disk".to_string(),
            };
            for waiter in self.queued.drain(..) {
                let _ = waiter.send(Err(why.clone()));
            }
            return;
        };
        self.running = true;
        self.answering = std::mem::take(&mut self.queued);
        // Collectors' files are closed for a pass only while the store is
        // reached: an outage makes full-size files, not one per tick.
        let reached = !matches!(self.state(), SyncState::Offline | SyncState::Misconfigured);
        let flush: Vec<_> = if reached {
            self.collectors.clone()
        } else {
            Vec::new()
        };
        let pass = Pass {
            target: self.target.clone(),
            target_config,
            sync_paths: self.config.sync_paths(),
            capture_dir: self.config.capture_dir.clone(),
            file_age: self.config.file_last_modified,
            threads: self.config.sync_threads,
            busy: self.busy.clone(),
            status: self.status.clone(),
        };
        let run = async move {
            flush_all(&flush).await;
            pass.run().await
        };
        ctx.spawn(
            run.into_actor(self)
                .map(|outcome, act, ctx| act.finish(outcome, ctx)),
        );
    }

    fn finish(&mut self, outcome: Outcome, ctx: &mut Context<Self>) {
        self.running = false;
        if outcome.target.is_some() {
            self.target = outcome.target;
        }
        let answer = match outcome.failure {
            None => {
                self.resume(outcome.uploaded);
                Ok(())
            }
            Some(failure) => {
                let text = failure.to_string();
                self.pause(failure);
                Err(text)
            }
        };
        for waiter in self.answering.drain(..) {
            let _ = waiter.send(answer.clone());
        }
        if !self.queued.is_empty() {
            self.start_pass(ctx);
        }
    }

    fn resume(&mut self, uploaded: u64) {
        let was = self.state();
        if matches!(was, SyncState::Offline | SyncState::Misconfigured) {
            info!(service = %self.name, uploaded, "sync resumed");
        } else if uploaded > 0 {
            debug!(service = %self.name, uploaded, "sync pass done");
        }
        self.retry_at = None;
        self.offline.succeed();
        self.misconfigured.succeed();
        let url = self.target.as_ref().map(|t| t.url.clone());
        self.set_status(|s| {
            s.state = SyncState::Running;
            s.target = url;
            s.last_success = Some(SystemTime::now());
            s.next_attempt = None;
        });
    }

    fn pause(&mut self, failure: Failure) {
        let (state, wait) = match &failure {
            Failure::Offline(_) => (SyncState::Offline, self.offline.fail()),
            Failure::Misconfigured(_) => (SyncState::Misconfigured, self.misconfigured.fail()),
        };
        self.retry_at = Some(Instant::now() + wait);
        let was = self.state();
        let text = failure.reason().to_string();
        // Say it once when it starts; the status shows it all along.
        if was != state {
            match state {
                SyncState::Misconfigured => {
                    error!(service = %self.name, error = %text, "sync paused: the store refuses us; fix the sync_target or the store")
                }
                _ => {
                    warn!(service = %self.name, error = %text, "sync paused: offline; capture goes on, sync retries by itself")
                }
            }
        } else {
            debug!(service = %self.name, error = %text, retry_in = ?wait, "sync still paused");
        }
        self.set_status(|s| {
            s.state = state;
            s.last_error = Some((text, SystemTime::now()));
            s.next_attempt = Some(SystemTime::now() + wait);
        });
    }

    /// A directory target that was not there (a disk not yet mounted) is
    /// tried again as soon as it appears, not when the backoff ends.
    fn retry_if_mounted(&mut self, ctx: &mut Context<Self>) {
        let Some(dir) = self
            .config
            .target
            .as_ref()
            .and_then(|t| t.url.strip_prefix("file://"))
        else {
            return;
        };
        if self.retry_at.is_some() && self.state() == SyncState::Offline && Path::new(dir).is_dir()
        {
            info!(service = %self.name, dir, "the sync directory appeared; syncing now");
            self.retry_at = None;
            self.tick(ctx);
        }
    }

    fn survey(&mut self, ctx: &mut Context<Self>) {
        self.retry_if_mounted(ctx);
        if self.surveying {
            return;
        }
        self.surveying = true;
        let dir = self.config.capture_dir.clone();
        let limits = Limits {
            quota: self.config.quota,
            free_floor: self.config.free_floor,
        };
        let busy = self.busy.lock().map(|b| b.clone()).unwrap_or_default();
        let work = tokio::task::spawn_blocking(move || space::survey(&dir, limits, &busy));
        ctx.spawn(work.into_actor(self).map(|found, act, _| {
            act.surveying = false;
            let Ok(found) = found else { return };
            act.set_status(|s| {
                s.pending = found.pending;
                s.capture_dir_bytes = found.dir_bytes;
                s.free_bytes = found.free_bytes;
                s.deleted_files += found.deleted_files;
                s.deleted_bytes += found.deleted_bytes;
            });
        }));
    }
}

async fn flush_all(collectors: &[Addr<Collector>]) {
    let closing = futures::future::join_all(collectors.iter().map(|c| c.send(Flush)));
    let _ = tokio::time::timeout(FLUSH_WAIT, closing).await;
}

impl Actor for Syncer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let url = self.config.target.as_ref().map(|t| t.url.clone());
        let refused = self.config.target_error.clone();
        self.set_status(|s| {
            s.target = url.clone();
            s.state = match (&url, &refused) {
                (Some(_), _) => SyncState::Running,
                (None, Some(_)) => SyncState::Misconfigured,
                (None, None) => SyncState::NoTarget,
            };
            if let Some(why) = refused {
                s.last_error = Some((
                    format!("sync_target cannot be used: {why}"),
                    SystemTime::now(),
                ));
            }
        });
        if self.config.target.is_some() && !self.config.sync_disabled {
            ctx.run_interval(self.config.sync_interval, Self::tick);
        }
        self.survey(ctx);
        ctx.run_interval(SURVEY_EVERY, Self::survey);
    }
}

/// Runs a pass now; answers when it has finished (or failed).
#[derive(Message)]
#[rtype(result = "Result<(), String>")]
pub struct SyncNow;

impl Handler<SyncNow> for Syncer {
    type Result = ResponseFuture<Result<(), String>>;

    fn handle(&mut self, _: SyncNow, ctx: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.queued.push(tx);
        if !self.running {
            self.start_pass(ctx);
        }
        Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| Err("the data manager was removed".into()))
        })
    }
}

impl Handler<Retire> for Syncer {
    type Result = ();

    fn handle(&mut self, _: Retire, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// One pass, run off the actor.
struct Pass {
    target: Option<Arc<Target>>,
    target_config: TargetConfig,
    sync_paths: Vec<PathBuf>,
    capture_dir: PathBuf,
    file_age: Duration,
    threads: usize,
    busy: Busy,
    status: SharedStatus,
}

/// What a pass did.
struct Outcome {
    target: Option<Arc<Target>>,
    uploaded: u64,
    failure: Option<Failure>,
}

/// A file ready to sync, and the key it goes under.
struct Ready {
    path: PathBuf,
    /// Its path under its sync directory.
    relative: String,
}

impl Pass {
    async fn run(self) -> Outcome {
        let target = match &self.target {
            Some(t) => t.clone(),
            None => match Target::open(&self.target_config) {
                Ok(t) => Arc::new(t),
                Err(failure) => {
                    return Outcome {
                        target: None,
                        uploaded: 0,
                        failure: Some(failure),
                    };
                }
            },
        };
        let (paths, capture_dir, age) = (
            self.sync_paths.clone(),
            self.capture_dir.clone(),
            self.file_age,
        );
        let ready = tokio::task::spawn_blocking(move || ready_files(&paths, &capture_dir, age))
            .await
            .unwrap_or_default();
        let halted = Arc::new(AtomicBool::new(false));
        let failure: Arc<Mutex<Option<Failure>>> = Arc::default();
        let uploads = futures::stream::iter(ready)
            .map(|file| {
                let (target, halted, failure) = (target.clone(), halted.clone(), failure.clone());
                let (busy, status) = (self.busy.clone(), self.status.clone());
                async move {
                    if halted.load(Ordering::Relaxed) {
                        return 0;
                    }
                    match upload(&target, &file, &busy).await {
                        Ok(bytes) => {
                            if let Ok(mut s) = status.lock() {
                                s.uploaded_files += 1;
                                s.uploaded_bytes += bytes;
                            }
                            1
                        }
                        Err(f) => {
                            // The first failure ends the pass: the rest
                            // would only meet the same outage.
                            halted.store(true, Ordering::Relaxed);
                            if let Ok(mut slot) = failure.lock() {
                                slot.get_or_insert(f);
                            }
                            0
                        }
                    }
                }
            })
            .buffer_unordered(self.threads.max(1));
        let uploaded = uploads.fold(0u64, |n, done| async move { n + done }).await;
        let failure = failure.lock().ok().and_then(|mut f| f.take());
        Outcome {
            target: Some(target),
            uploaded,
            failure,
        }
    }
}

/// Closed capture files, and other files in the additional sync paths that
/// have not changed for `age`; oldest first.
fn ready_files(paths: &[PathBuf], capture_dir: &Path, age: Duration) -> Vec<Ready> {
    let mut out = Vec::new();
    let now = SystemTime::now();
    for (i, root) in paths.iter().enumerate() {
        let files = if i == 0 {
            space::closed_files(root)
        } else {
            let mut files: Vec<_> = super::disk::walk(root, &[])
                .into_iter()
                .filter(|f| {
                    f.path
                        .extension()
                        .is_none_or(|e| e != super::capture_file::PROG)
                })
                .filter(|f| now.duration_since(f.modified).is_ok_and(|d| d >= age))
                .collect();
            files.sort_by_key(|f| f.modified);
            files
        };
        let label = if i == 0 {
            String::new()
        } else {
            let last = root
                .file_name()
                .map_or("files".into(), |n| n.to_string_lossy().into_owned());
            format!("files/{last}/")
        };
        for f in files {
            if i > 0 && f.path.starts_with(capture_dir) {
                continue;
            }
            let Ok(rel) = f.path.strip_prefix(root) else {
                continue;
            };
            out.push((
                f.modified,
                Ready {
                    relative: format!("{label}{}", rel.to_string_lossy()),
                    path: f.path,
                },
            ));
        }
    }
    out.sort_by_key(|(t, _)| *t);
    out.into_iter().map(|(_, r)| r).collect()
}

/// Uploads one file under a key ending in its SHA-256, then deletes it.
async fn upload(target: &Target, file: &Ready, busy: &Busy) -> Result<u64, Failure> {
    if let Ok(mut b) = busy.lock() {
        b.insert(file.path.clone());
    }
    let result = upload_unmarked(target, file).await;
    if let Ok(mut b) = busy.lock() {
        b.remove(&file.path);
    }
    result
}

async fn upload_unmarked(target: &Target, file: &Ready) -> Result<u64, Failure> {
    let bytes = match tokio::fs::read(&file.path).await {
        Ok(b) => bytes::Bytes::from(b),
        // Deleted for space meanwhile, or by hand: nothing to send.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => {
            warn!(file = %file.path.display(), error = %e, "cannot read a file to sync; skipped");
            return Ok(0);
        }
    };
    let key = target.key(&hashed_name(&file.relative, &bytes));
    let len = bytes.len() as u64;
    target.put(&key, bytes).await?;
    match tokio::fs::remove_file(&file.path).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            warn!(file = %file.path.display(), error = %e, "synced, but cannot delete the local copy")
        }
    }
    debug!(file = %file.path.display(), key, bytes = len, "synced");
    Ok(len)
}

/// `dir/2026-…Z.capture` → `dir/2026-…Z-<sha256>.capture`.
pub fn hashed_name(relative: &str, bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let (dir, name) = relative
        .rsplit_once('/')
        .map_or(("", relative), |(d, n)| (d, n));
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, format!(".{e}")),
        _ => (name, String::new()),
    };
    let dir = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    format!("{dir}{stem}-{hex}{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_end_in_the_content_hash() {
        let k = hashed_name("rdk_component_motor/m/Position/t.capture", b"abc");
        assert_eq!(
            k,
            "rdk_component_motor/m/Position/t-ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.capture"
        );
        assert!(hashed_name("noext", b"").starts_with("noext-e3b0"));
    }
}
