//! `rdk:service:data_manager`: readings captured to disk in upstream's file
//! format, and synced to an object store (S3, or a directory) exactly once.
//!
//! - [`config`]: the attributes, and the capture methods components declare.
//! - [`methods`]: what a capture method calls and keeps (one path, any API).
//! - [`collector`]: the `Collector` actor, one per capture method.
//! - [`capture_file`]: the file format, closing safely, recovery at start.
//! - [`syncer`]: the `Syncer` actor: passes, backoff, offline versus
//!   misconfigured. "What happens when sync runs" is `Syncer::start_pass`.
//! - [`target`]: the store, and how its failures are judged.
//! - [`space`]: the quota and the free-space floor.
//! - [`export`]: capture files as JSON Lines, for `axle data export`.

pub mod capture_file;
pub mod collector;
pub mod config;
pub mod disk;
pub mod export;
pub mod methods;
pub mod service;
pub mod space;
pub mod status;
pub mod syncer;
pub mod target;

pub use service::DataManagerService;

/// Stops a collector (it closes its file as it stops) or the syncer (a pass
/// in flight is dropped; its files stay for the next one).
#[derive(actix::Message)]
#[rtype(result = "()")]
pub struct Retire;
