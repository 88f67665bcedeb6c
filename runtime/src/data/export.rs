//! `axle data export`: capture files as JSON Lines, one line per reading,
//! and binary readings (images) as files beside them, so anyone can read
//! what was captured without writing a decoder.

use super::capture_file::{self, CAPTURE, PROG, rfc3339};
use super::disk;
use axle_proto::viam::app::datasync::v1::{SensorData, sensor_data};
use axle_sdk_module::grpc::convert;
use serde_json::{Value, json};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// What an export wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Exported {
    /// Files read.
    pub files: usize,
    /// Readings written.
    pub readings: usize,
    /// Binary readings saved as files.
    pub binaries: usize,
}

/// The capture files named by `inputs`: files as given, directories
/// searched (for synced objects too, named `…-<hash>.capture`), in name
/// order, which is time order within a collector.
pub fn capture_files(inputs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<_> = disk::walk(input, &[])
                .into_iter()
                .map(|f| f.path)
                .filter(|p| p.extension().is_some_and(|e| e == CAPTURE || e == PROG))
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(input.clone());
        }
    }
    out
}

/// Writes every reading of `files` to `lines`, and binary readings into
/// `binaries_dir` (each line names its file).
pub fn export(
    files: &[PathBuf],
    lines: &mut dyn Write,
    binaries_dir: &Path,
) -> io::Result<Exported> {
    let mut done = Exported::default();
    for path in files {
        let contents = capture_file::read(path).map_err(io::Error::other)?;
        let h = &contents.header;
        for (i, record) in contents.records.iter().enumerate() {
            let mut line = json!({
                "component_type": h.component_type,
                "component_name": h.component_name,
                "method_name": h.method_name,
                "tags": h.tags,
                "source_file": path.display().to_string(),
            });
            let (requested, received) = times(record);
            line["time_requested"] = requested;
            line["time_received"] = received;
            match &record.data {
                Some(sensor_data::Data::Struct(s)) => {
                    line["data"] = Value::Object(convert::from_struct(Some(s.clone())));
                }
                Some(sensor_data::Data::Binary(bytes)) => {
                    let stem = path
                        .file_stem()
                        .map_or("reading".into(), |s| s.to_string_lossy().into_owned());
                    let file = binaries_dir.join(format!("{stem}-{i}{}", h.file_extension));
                    std::fs::create_dir_all(binaries_dir)?;
                    std::fs::write(&file, bytes)?;
                    line["file"] = file.display().to_string().into();
                    line["mime_type"] = h.mime_type.clone().into();
                    done.binaries += 1;
                }
                None => {}
            }
            writeln!(lines, "{line}")?;
            done.readings += 1;
        }
        done.files += 1;
    }
    Ok(done)
}

fn times(record: &SensorData) -> (Value, Value) {
    let at = |t: Option<&prost_types::Timestamp>| match t {
        Some(t) => Value::String(rfc3339(convert::system_time(Some(*t)))),
        None => Value::Null,
    };
    let m = record.metadata.as_ref();
    (
        at(m.and_then(|m| m.time_requested.as_ref())),
        at(m.and_then(|m| m.time_received.as_ref())),
    )
}
