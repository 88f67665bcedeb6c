//! A module's logs: to stderr until the module knows its parent, then to the
//! parent's `RobotService/Log`, which tags them with the module's name. If
//! the parent cannot take them, they go to stderr, which the parent also
//! reads.

use axle_proto::common::LogEntry;
use axle_proto::robot::LogRequest;
use axle_proto::robot::robot_service_client::RobotServiceClient;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;
use tokio::sync::mpsc;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;

/// Entries waiting for the parent; more are dropped (and said so on stderr)
/// rather than let a slow parent grow the module's memory.
const BACKLOG: usize = 1024;

/// Where log events go. Cloned into the tracing layer and the module.
#[derive(Clone)]
pub struct LogSink {
    to_parent: Arc<AtomicBool>,
    tx: mpsc::Sender<LogEntry>,
    rx: Arc<std::sync::Mutex<Option<mpsc::Receiver<LogEntry>>>>,
}

impl LogSink {
    /// Installs the global subscriber at `level`: stderr, then the parent.
    pub fn install(level: Level) -> Self {
        use tracing_subscriber::prelude::*;
        let (tx, rx) = mpsc::channel(BACKLOG);
        let sink = Self {
            to_parent: Arc::new(AtomicBool::new(false)),
            tx,
            rx: Arc::new(std::sync::Mutex::new(Some(rx))),
        };
        // A writer that goes quiet once the parent takes the logs. (A
        // per-layer filter would do the same, but it makes every trace-level
        // callsite in tonic and h2 ask at run time, on every request.)
        let to_parent = sink.to_parent.clone();
        let stderr = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(move || -> Box<dyn std::io::Write> {
                if to_parent.load(Ordering::Relaxed) {
                    Box::new(std::io::sink())
                } else {
                    Box::new(std::io::stderr())
                }
            });
        let _ = tracing_subscriber::registry()
            .with(tracing_subscriber::filter::LevelFilter::from_level(level))
            .with(stderr)
            .with(ParentLayer(sink.clone()))
            .try_init();
        sink
    }

    /// From now on, sends logs to the parent through `client`.
    pub fn connect(&self, client: RobotServiceClient<crate::client::SessionChannel>, host: String) {
        let Some(mut rx) = self.rx.lock().ok().and_then(|mut r| r.take()) else {
            return;
        };
        self.to_parent.store(true, Ordering::Relaxed);
        let to_parent = self.to_parent.clone();
        tokio::spawn(async move {
            let mut client = client;
            while let Some(first) = rx.recv().await {
                let mut logs = vec![first];
                while let Ok(more) = rx.try_recv() {
                    logs.push(more);
                }
                for entry in &mut logs {
                    entry.host = host.clone();
                }
                if let Err(s) = client.log(LogRequest { logs: logs.clone() }).await {
                    // The parent is gone or refuses: stderr still reaches it.
                    to_parent.store(false, Ordering::Relaxed);
                    eprintln!(
                        "cannot send logs to the parent ({}); logging to stderr",
                        s.message()
                    );
                    for e in logs {
                        eprintln!("{} {} {}", e.level, e.logger_name, e.message);
                    }
                    return;
                }
            }
        });
    }
}

struct ParentLayer(LogSink);

impl<S: Subscriber> Layer<S> for ParentLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if !self.0.to_parent.load(Ordering::Relaxed) {
            return;
        }
        let mut text = Text::default();
        event.record(&mut text);
        let meta = event.metadata();
        let level = match *meta.level() {
            Level::ERROR => "error",
            Level::WARN => "warn",
            Level::INFO => "info",
            Level::DEBUG => "debug",
            Level::TRACE => "debug",
        };
        let entry = LogEntry {
            level: level.into(),
            time: Some(crate::grpc::convert::timestamp(SystemTime::now())),
            logger_name: meta.target().into(),
            message: text.0,
            ..Default::default()
        };
        let _ = self.0.tx.try_send(entry);
    }
}

/// An event's message, then its fields as `key=value`.
#[derive(Default)]
struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let rest = std::mem::take(&mut self.0);
            let _ = write!(self.0, "{value:?}{rest}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.insert_str(0, value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}
