//! The data manager as the robot's table holds it: the collectors and the
//! syncer it started, and the status they share. Dropping it (removed,
//! reconfigured, shutdown) retires them; each collector closes its file.

use super::Retire;
use super::capture_file::{self, Recovered};
use super::collector::{Collector, CollectorSetup, CollectorStats};
use super::config::{CaptureMethod, DataManagerConfig};
use super::methods::Plan;
use super::syncer::{SharedStatus, SyncNow, Syncer};
use crate::grpc::local::LocalCalls;
use crate::robot::{Robot, Serving};
use actix::{Actor, Addr};
use axle_sdk_module::host::{Built, kind};
use axle_sdk_module::{
    AttributeError, Attributes, DataManager, Document, Resource, ResourceError, SyncPass,
    do_commands,
};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tracing::{info, warn};

/// A running data manager.
pub struct DataManagerService {
    config: Arc<DataManagerConfig>,
    collectors: Vec<(CaptureMethod, Arc<CollectorStats>, Addr<Collector>)>,
    syncer: Addr<Syncer>,
    status: SharedStatus,
}

fn refused(field: &str, problem: String) -> AttributeError {
    AttributeError {
        field: field.into(),
        problem,
    }
}

impl DataManagerService {
    /// It uses no resource by handle: collectors call resources by name, so
    /// a captured resource may come, go and be rebuilt on its own.
    pub fn uses(_: &Attributes) -> Result<Vec<(&'static str, String)>, AttributeError> {
        Ok(Vec::new())
    }

    /// Starts the service `name`: recovers what a previous process left,
    /// then starts a collector per capture method and the syncer.
    pub fn build(
        name: &str,
        attrs: &Attributes,
        _: Vec<Serving>,
        robot: &Robot,
    ) -> Result<Built, AttributeError> {
        let mut config = DataManagerConfig::parse(attrs)?;
        let plans = plan_each(&mut config);
        for why in &config.refused {
            warn!(
                service = name,
                "capture method refused, the others capture: {why}"
            );
        }
        if let Some(why) = &config.target_error {
            warn!(
                service = name,
                "sync_target refused, capture goes on: {why}"
            );
        }
        let config = Arc::new(config);
        let robot = robot
            .shared()
            .ok_or_else(|| refused("capture_methods", "the robot is not running yet".into()))?;
        let recovered = recover_once(&config.capture_dir).map_err(|e| {
            refused(
                "capture_dir",
                format!("{}: {e}", config.capture_dir.display()),
            )
        })?;
        let calls = LocalCalls::new(robot.clone());
        let collectors = if config.capture_disabled {
            Vec::new()
        } else {
            start_collectors(&config, plans, &calls, &robot)
        };
        let status: SharedStatus = Arc::default();
        if let Ok(mut s) = status.lock() {
            s.recovered = recovered;
            s.refused = config.refused.clone();
        }
        let addrs = collectors.iter().map(|(_, _, a)| a.clone()).collect();
        let syncer = Syncer::new(name.into(), config.clone(), addrs, status.clone(), robot).start();
        Ok(Built::new::<kind::DataManager>(Box::new(Self {
            config,
            collectors,
            syncer,
            status,
        })))
    }

    fn snapshot(&self) -> Document {
        let sync = self
            .status
            .lock()
            .map(|s| s.to_json())
            .unwrap_or(Value::Null);
        let collectors: Vec<Value> = self
            .collectors
            .iter()
            .map(|(m, stats, _)| {
                json!({
                    "resource": m.resource(),
                    "method": m.method,
                    "capture_frequency_hz": m.hz,
                    "captured": stats.captured.load(Ordering::Relaxed),
                    "errors": stats.errors.load(Ordering::Relaxed),
                    "skipped": stats.skipped.load(Ordering::Relaxed),
                    "last_error": stats.last_error.lock().ok().and_then(|e| e.clone()),
                })
            })
            .collect();
        let mut doc = Document::new();
        doc.insert(
            "capture_dir".into(),
            self.config.capture_dir.display().to_string().into(),
        );
        doc.insert(
            "capture_disabled".into(),
            self.config.capture_disabled.into(),
        );
        doc.insert("sync".into(), sync);
        doc.insert("collectors".into(), Value::Array(collectors));
        doc
    }
}

/// The plan of each capture method; a method that has none (an API's
/// method that cannot be captured, a misspelt one) moves to `refused`.
fn plan_each(config: &mut DataManagerConfig) -> Vec<Plan> {
    let mut plans = Vec::new();
    let mut kept = Vec::new();
    for m in std::mem::take(&mut config.captures) {
        match Plan::for_method(&m) {
            Ok(plan) => {
                plans.push(plan);
                kept.push(m);
            }
            Err(e) => config
                .refused
                .push(format!("{} {}: {e}", m.resource(), m.method)),
        }
    }
    config.captures = kept;
    plans
}

fn start_collectors(
    config: &DataManagerConfig,
    plans: Vec<Plan>,
    calls: &LocalCalls,
    robot: &Arc<Robot>,
) -> Vec<(CaptureMethod, Arc<CollectorStats>, Addr<Collector>)> {
    config
        .captures
        .iter()
        .zip(plans)
        .map(|(m, plan)| {
            let dir = capture_file::collector_dir(
                &config.capture_dir,
                &m.api.to_string(),
                &m.name,
                &m.method,
            );
            let (collector, stats) = Collector::new(CollectorSetup {
                method: m.clone(),
                plan: Arc::new(plan),
                calls: calls.clone(),
                robot: robot.clone(),
                dir,
                tags: config.tags.clone(),
                max_file_size: config.max_file_size,
            });
            (m.clone(), stats, collector.start())
        })
        .collect()
}

/// Recovers `dir`'s leftover `.prog` files, the first time this process
/// uses `dir`: before any collector of ours writes there, never after (a
/// live `.prog` must not be touched; upstream's recovery on reconfigure
/// broke capture and was reverted).
fn recover_once(dir: &Path) -> std::io::Result<Recovered> {
    static SEEN: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if !seen
        .get_or_insert_with(HashSet::new)
        .insert(dir.to_path_buf())
    {
        return Ok(Recovered::default());
    }
    let done = capture_file::recover(dir)?;
    if done != Recovered::default() {
        info!(dir = %dir.display(), files = done.files, records = done.records, torn_bytes = done.torn_bytes, empty = done.empty,
            "recovered capture files a previous process left open");
    }
    Ok(done)
}

impl Drop for DataManagerService {
    fn drop(&mut self) {
        for (_, _, c) in &self.collectors {
            c.do_send(Retire);
        }
        self.syncer.do_send(Retire);
    }
}

impl Resource for DataManagerService {
    /// `{"status": true}` answers the status under `status`.
    fn do_command(&mut self, command: Document) -> Result<Document, ResourceError> {
        do_commands(command, &["status"], |_, _| Ok(self.snapshot().into()))
    }

    fn status(&mut self) -> Result<Document, ResourceError> {
        Ok(self.snapshot())
    }
}

impl DataManager for DataManagerService {
    fn sync(&mut self) -> SyncPass {
        let pass = self.syncer.send(SyncNow);
        Box::pin(async move {
            match pass.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(why)) => Err(ResourceError::Unavailable(format!(
                    "sync did not finish: {why}"
                ))),
                Err(_) => Err(ResourceError::Unavailable(
                    "the data manager is stopping".into(),
                )),
            }
        })
    }
}
