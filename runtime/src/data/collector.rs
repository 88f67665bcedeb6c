//! A `Collector` actor captures one method of one resource at its rate and
//! appends each reading to its own file. Each capture is a call in flight
//! of its own: a slow or failing resource delays only its own collector,
//! which skips the slots that pass while it waits (counted), and never
//! stalls the others.

use super::Retire;
use super::capture_file::{self, CaptureFile};
use super::config::CaptureMethod;
use super::methods::{Plan, Reading, mime_details};
use crate::grpc::local::LocalCalls;
use crate::robot::Robot;
use actix::prelude::*;
use axle_proto::viam::app::datasync::v1::{
    DataCaptureMetadata, DataType, SensorData, SensorMetadata, sensor_data,
};
use axle_sdk_module::grpc::convert;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tracing::{info, warn};

/// How long one capture may take before it counts as failed.
const CAPTURE_TIMEOUT: Duration = Duration::from_secs(10);
/// How far behind schedule a collector may fall before it skips slots.
const CATCH_UP: Duration = Duration::from_millis(10);
/// Errors are logged at most this often per collector; the rest counted.
const LOG_EVERY: Duration = Duration::from_secs(30);

/// A collector's counters, read by the status without a message.
#[derive(Debug, Default)]
pub struct CollectorStats {
    /// Readings written.
    pub captured: AtomicU64,
    /// Captures that failed (the call, or writing the file).
    pub errors: AtomicU64,
    /// Slots skipped because the previous capture had not answered.
    pub skipped: AtomicU64,
    /// The last error, if any.
    pub last_error: Mutex<Option<String>>,
}

/// What a collector needs to run.
pub struct CollectorSetup {
    /// What it captures.
    pub method: CaptureMethod,
    /// How.
    pub plan: Arc<Plan>,
    /// Where the calls go.
    pub calls: LocalCalls,
    /// The robot, to find a module's service for DoCommand.
    pub robot: Arc<Robot>,
    /// `{capture_dir}/{api}/{name}/{method}`.
    pub dir: PathBuf,
    /// Service-wide tags.
    pub tags: Vec<String>,
    /// A tabular file past this size is closed and a new one begun.
    pub max_file_size: u64,
}

/// The collector actor.
pub struct Collector {
    setup: CollectorSetup,
    file: Option<CaptureFile>,
    /// When the next capture is due.
    next_due: Instant,
    stats: Arc<CollectorStats>,
    logged: Option<Instant>,
    unlogged: u64,
}

impl Collector {
    /// A collector; its counters are shared with the caller.
    pub fn new(setup: CollectorSetup) -> (Self, Arc<CollectorStats>) {
        let stats = Arc::new(CollectorStats::default());
        let this = Self {
            setup,
            file: None,
            next_due: Instant::now(),
            stats: stats.clone(),
            logged: None,
            unlogged: 0,
        };
        (this, stats)
    }

    fn resource(&self) -> String {
        self.setup.method.resource()
    }

    fn header(&self, mime: &str) -> DataCaptureMetadata {
        let m = &self.setup.method;
        let (extension, mime_enum) = mime_details(mime);
        let binary = self.setup.plan.data_type() == DataType::BinarySensor;
        DataCaptureMetadata {
            component_type: m.api.to_string(),
            component_name: m.name.clone(),
            method_name: m.method.clone(),
            r#type: self.setup.plan.data_type() as i32,
            method_parameters: convert::to_struct(m.params.clone())
                .fields
                .into_iter()
                .map(|(k, v)| (k, any_value(v)))
                .collect(),
            file_extension: if binary {
                extension.into()
            } else {
                ".dat".into()
            },
            tags: self.setup.tags.clone(),
            mime_type: if binary && mime_enum as i32 != 0 {
                mime.into()
            } else {
                String::new()
            },
        }
    }

    /// Starts the capture due next: now if it is due, else when it is.
    /// Captures are sequential, each due one interval after the last. A
    /// collector that fell behind by more than [`CATCH_UP`] (a slow
    /// resource) skips the slots it missed, counted; within it, it catches
    /// up at once, so rates past the timer's 1 ms grain are kept.
    fn schedule(&mut self, ctx: &mut Context<Self>) {
        let interval = self.setup.method.interval();
        let now = Instant::now();
        let lag = now.saturating_duration_since(self.next_due);
        if lag > interval.max(CATCH_UP) {
            let missed = (lag.as_nanos() / interval.as_nanos().max(1)) as u32;
            self.stats
                .skipped
                .fetch_add(u64::from(missed), Ordering::Relaxed);
            self.next_due += interval * missed;
        }
        if self.next_due <= now {
            self.capture(ctx);
        } else {
            ctx.run_later(self.next_due - now, Self::capture);
        }
    }

    fn capture(&mut self, ctx: &mut Context<Self>) {
        self.next_due += self.setup.method.interval();
        let plan = self.setup.plan.clone();
        let calls = self.setup.calls.clone();
        let robot = self.setup.robot.clone();
        let api = self.setup.method.api.clone();
        let requested = SystemTime::now();
        let call = async move { plan.capture(&calls, &robot, &api, CAPTURE_TIMEOUT).await };
        ctx.spawn(call.into_actor(self).map(move |answer, act, ctx| {
            match answer {
                Ok(readings) => act.write(readings, requested),
                Err(status) => act.failed(format!("{}: {}", status.code(), status.message())),
            }
            act.schedule(ctx);
        }));
    }

    fn write(&mut self, readings: Vec<Reading>, requested: SystemTime) {
        let metadata = SensorMetadata {
            time_requested: Some(convert::timestamp(requested)),
            time_received: Some(convert::timestamp(SystemTime::now())),
            ..Default::default()
        };
        for reading in readings {
            let written = match reading {
                Reading::Tabular(map) => self.append(SensorData {
                    metadata: Some(metadata.clone()),
                    data: Some(sensor_data::Data::Struct(convert::to_struct(map))),
                }),
                Reading::Binary { data, mime_type } => {
                    let header = self.header(&mime_type);
                    let record = SensorData {
                        metadata: Some(metadata.clone()),
                        data: Some(sensor_data::Data::Binary(data.to_vec())),
                    };
                    let dir = self.setup.dir.clone();
                    // One file per image, closed (synced) off this thread.
                    let stats = self.stats.clone();
                    tokio::task::spawn_blocking(move || {
                        if let Err(e) = capture_file::write_whole(&dir, &header, &record) {
                            stats.errors.fetch_add(1, Ordering::Relaxed);
                            warn!(dir = %dir.display(), error = %e, "cannot write a binary capture");
                        }
                    });
                    Ok(())
                }
            };
            match written {
                Ok(()) => {
                    self.stats.captured.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => self.failed(format!("cannot write to {}: {e}", self.setup.dir.display())),
            }
        }
    }

    fn append(&mut self, record: SensorData) -> std::io::Result<()> {
        if self.file.is_none() {
            self.file = Some(CaptureFile::create(&self.setup.dir, &self.header(""))?);
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        file.append(&record)?;
        if file.len() > self.setup.max_file_size {
            self.close_in_background();
        }
        Ok(())
    }

    /// Closes the open file off this thread (closing syncs it to disk);
    /// the returned handle ends when it is closed.
    fn close_in_background(&mut self) -> Option<tokio::task::JoinHandle<()>> {
        let file = self.file.take()?;
        let resource = self.resource();
        Some(tokio::task::spawn_blocking(move || {
            if let Err(e) = file.close() {
                warn!(resource, error = %e, "cannot close a capture file");
            }
        }))
    }

    /// Counts an error; logs it unless one was logged in the last
    /// [`LOG_EVERY`], in which case the next log says how many there were.
    fn failed(&mut self, error: String) {
        self.stats.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut last) = self.stats.last_error.lock() {
            *last = Some(error.clone());
        }
        let due = self.logged.is_none_or(|t| t.elapsed() >= LOG_EVERY);
        if !due {
            self.unlogged += 1;
            return;
        }
        let method = &self.setup.method.method;
        warn!(resource = %self.resource(), method, error, also_since_last_log = self.unlogged, "capture failed");
        self.logged = Some(Instant::now());
        self.unlogged = 0;
    }
}

/// Packs a value as upstream does for method parameters.
fn any_value(v: prost_types::Value) -> prost_types::Any {
    use prost::Message;
    prost_types::Any {
        type_url: "type.googleapis.com/google.protobuf.Value".into(),
        value: v.encode_to_vec(),
    }
}

impl Actor for Collector {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let m = &self.setup.method;
        info!(resource = %m.resource(), method = %m.method, hz = m.hz, dir = %self.setup.dir.display(), "capturing");
        self.next_due = Instant::now();
        self.schedule(ctx);
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        // The service is going (removed, reconfigured, shutdown): what was
        // captured is closed now, not left for recovery.
        if let Some(file) = self.file.take()
            && let Err(e) = file.close()
        {
            warn!(resource = %self.resource(), error = %e, "cannot close a capture file");
        }
        let s = &self.stats;
        info!(
            resource = %self.resource(),
            method = %self.setup.method.method,
            captured = s.captured.load(Ordering::Relaxed),
            errors = s.errors.load(Ordering::Relaxed),
            skipped = s.skipped.load(Ordering::Relaxed),
            "collector stopped"
        );
    }
}

/// Closes the open tabular file, so that sync can take it; answers once it
/// is closed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Flush;

impl Handler<Flush> for Collector {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: Flush, _: &mut Context<Self>) -> Self::Result {
        let closing = self.close_in_background();
        Box::pin(async move {
            if let Some(closing) = closing {
                let _ = closing.await;
            }
        })
    }
}

impl Handler<Retire> for Collector {
    type Result = ();

    fn handle(&mut self, _: Retire, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}
