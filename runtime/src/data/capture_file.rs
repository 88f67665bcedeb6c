//! Capture files, in upstream's format: a length-delimited
//! `DataCaptureMetadata`, then length-delimited `SensorData` records. A file
//! is `.prog` while written and `.capture` once closed.
//!
//! Where upstream loses data, these do not:
//! - every record is written to the kernel as it is captured, so a killed
//!   process loses nothing it captured;
//! - a failed write is cut back off, so a full disk never leaves a torn
//!   record in the middle of a file;
//! - files are created exclusively (two in the same microsecond get distinct
//!   names instead of sharing one);
//! - closing syncs the file, renames it, then syncs the directory;
//! - [`recover`] turns the `.prog` files of a process that died into
//!   `.capture` files, a torn last record cut off.

use super::disk;
use axle_proto::viam::app::datasync::v1::{DataCaptureMetadata, SensorData};
use prost::Message;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The extension of a file being written.
pub const PROG: &str = "prog";
/// The extension of a closed file, ready to sync.
pub const CAPTURE: &str = "capture";

/// `{capture_dir}/{api}/{name}/{method}` with `:` made `_`, as upstream.
pub fn collector_dir(root: &Path, api: &str, name: &str, method: &str) -> PathBuf {
    let clean = |s: &str| s.replace([':', '/'], "_");
    root.join(clean(api)).join(clean(name)).join(clean(method))
}

/// A capture file open for appending.
pub struct CaptureFile {
    file: File,
    path: PathBuf,
    len: u64,
    records: u64,
}

impl CaptureFile {
    /// Creates a new `.prog` file in `dir` and writes `header`.
    pub fn create(dir: &Path, header: &DataCaptureMetadata) -> io::Result<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let (file, path) = create_exclusive(dir)?;
        let mut this = Self {
            file,
            path,
            len: 0,
            records: 0,
        };
        if let Err(e) = this.write_framed(header) {
            let _ = fs::remove_file(&this.path);
            return Err(e);
        }
        Ok(this)
    }

    /// Appends one record. On failure the file is as it was before.
    pub fn append(&mut self, record: &SensorData) -> io::Result<()> {
        self.write_framed(record)?;
        self.records += 1;
        Ok(())
    }

    fn write_framed(&mut self, message: &impl Message) -> io::Result<()> {
        let bytes = message.encode_length_delimited_to_vec();
        if let Err(e) = self.file.write_all(&bytes) {
            // A partial write (a full disk) would leave a torn record that
            // later records follow: cut it off.
            let _ = self.file.set_len(self.len);
            return Err(e);
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Closes the file: synced, renamed to `.capture`, its directory synced.
    /// A file without records is removed. Returns the closed file's path.
    pub fn close(self) -> io::Result<Option<PathBuf>> {
        if self.records == 0 {
            fs::remove_file(&self.path)?;
            return Ok(None);
        }
        self.file.sync_all()?;
        drop(self.file);
        seal(&self.path).map(Some)
    }
}

/// Renames a synced `.prog` file to `.capture` and syncs the directory.
fn seal(prog: &Path) -> io::Result<PathBuf> {
    let done = prog.with_extension(CAPTURE);
    fs::rename(prog, &done)?;
    if let Some(dir) = done.parent() {
        disk::sync_dir(dir)?;
    }
    Ok(done)
}

/// Writes a closed file of one record (a binary reading: an image).
pub fn write_whole(
    dir: &Path,
    header: &DataCaptureMetadata,
    record: &SensorData,
) -> io::Result<PathBuf> {
    let mut file = CaptureFile::create(dir, header)?;
    file.append(record)?;
    file.close()?
        .ok_or_else(|| io::Error::other("a file with a record was removed"))
}

/// A new file in `dir` named for now in UTC, to the microsecond. A name
/// taken (two files in one microsecond) gets a counter.
fn create_exclusive(dir: &Path) -> io::Result<(File, PathBuf)> {
    let stem = file_stamp(SystemTime::now());
    for n in 0..1000 {
        let name = match n {
            0 => format!("{stem}.{PROG}"),
            n => format!("{stem}-{n}.{PROG}"),
        };
        let path = dir.join(name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "{}: 1000 files named {stem} already",
        dir.display()
    )))
}

/// `2026-11-30T11_45_12.123456Z`: upstream's layout with `:` made `_`.
fn file_stamp(t: SystemTime) -> String {
    rfc3339(t).replace(':', "_")
}

/// `2026-11-30T11:45:12.123456Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (y, m, day) = civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        d.subsec_micros()
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// What a capture file holds, read up to its last whole record.
#[derive(Debug)]
pub struct Contents {
    /// The header.
    pub header: DataCaptureMetadata,
    /// The records.
    pub records: Vec<SensorData>,
    /// The bytes up to the end of the last whole record.
    pub whole_len: u64,
    /// The bytes in the file.
    pub file_len: u64,
}

/// Why a capture file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file does not start with a capture header.
    #[error("{path} is not a capture file: its header does not decode")]
    NoHeader {
        /// The file.
        path: PathBuf,
    },
}

/// Reads `path`. A torn or undecodable tail ends the records; it is not an
/// error (a crash mid-write leaves one), and `whole_len` says where it starts.
pub fn read(path: &Path) -> Result<Contents, ReadError> {
    let bytes = fs::read(path).map_err(|source| ReadError::Io {
        path: path.into(),
        source,
    })?;
    decode(&bytes).ok_or_else(|| ReadError::NoHeader { path: path.into() })
}

/// Decodes a capture file's bytes; None if the header does not decode.
pub fn decode(bytes: &[u8]) -> Option<Contents> {
    let mut rest = bytes;
    let header = DataCaptureMetadata::decode_length_delimited(&mut rest).ok()?;
    let mut records = Vec::new();
    let mut whole = bytes.len() - rest.len();
    while !rest.is_empty() {
        let mut probe = rest;
        match SensorData::decode_length_delimited(&mut probe) {
            Ok(r) => {
                records.push(r);
                rest = probe;
                whole = bytes.len() - rest.len();
            }
            Err(_) => break,
        }
    }
    Some(Contents {
        header,
        records,
        whole_len: whole as u64,
        file_len: bytes.len() as u64,
    })
}

/// What [`recover`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    /// `.prog` files closed as `.capture`.
    pub files: usize,
    /// Records kept in them.
    pub records: usize,
    /// Torn bytes cut off their ends.
    pub torn_bytes: u64,
    /// `.prog` files removed: no header, or no record.
    pub empty: usize,
}

/// Closes every `.prog` file under `root` that a process left behind: the
/// torn tail cut off, synced, renamed to `.capture`. Run once per directory
/// per process, before any collector writes there (a collector's own open
/// `.prog` must never be touched).
pub fn recover(root: &Path) -> io::Result<Recovered> {
    let mut done = Recovered::default();
    for found in disk::walk(root, &[]) {
        let path = found.path;
        if path.extension().is_none_or(|e| e != PROG) {
            continue;
        }
        let contents = match read(&path) {
            Ok(c) => c,
            Err(ReadError::NoHeader { .. }) => {
                fs::remove_file(&path)?;
                done.empty += 1;
                continue;
            }
            Err(ReadError::Io { source, .. }) => return Err(source),
        };
        if contents.records.is_empty() {
            fs::remove_file(&path)?;
            done.empty += 1;
            continue;
        }
        let file = OpenOptions::new().write(true).open(&path)?;
        if contents.whole_len < contents.file_len {
            file.set_len(contents.whole_len)?;
            done.torn_bytes += contents.file_len - contents.whole_len;
        }
        file.sync_all()?;
        drop(file);
        seal(&path)?;
        done.files += 1;
        done.records += contents.records.len();
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axle_proto::viam::app::datasync::v1::{DataType, SensorMetadata, sensor_data};

    fn header() -> DataCaptureMetadata {
        DataCaptureMetadata {
            component_type: "rdk:component:motor".into(),
            component_name: "m".into(),
            method_name: "Position".into(),
            r#type: DataType::TabularSensor as i32,
            ..Default::default()
        }
    }

    fn record(i: u8) -> SensorData {
        SensorData {
            metadata: Some(SensorMetadata::default()),
            data: Some(sensor_data::Data::Binary(vec![i; 100])),
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("axle-capture-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_closed_file_reads_back() {
        let dir = scratch("roundtrip");
        let mut f = CaptureFile::create(&dir, &header()).expect("create");
        for i in 0..3 {
            f.append(&record(i)).expect("append");
        }
        let path = f.close().expect("close").expect("has records");
        assert_eq!(path.extension().and_then(|e| e.to_str()), Some(CAPTURE));
        let c = read(&path).expect("read");
        assert_eq!(c.header, header());
        assert_eq!(c.records, vec![record(0), record(1), record(2)]);
        assert_eq!(c.whole_len, c.file_len);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_empty_file_is_removed_on_close() {
        let dir = scratch("empty");
        let f = CaptureFile::create(&dir, &header()).expect("create");
        assert_eq!(f.close().expect("close"), None);
        assert_eq!(disk::walk(&dir, &[]).len(), 0);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn recovery_cuts_a_torn_tail_and_keeps_the_rest() {
        let dir = scratch("recover");
        let mut f = CaptureFile::create(&dir, &header()).expect("create");
        f.append(&record(1)).expect("append");
        f.append(&record(2)).expect("append");
        let prog = f.path.clone();
        drop(f);
        // Half a record, as a crash mid-write leaves it.
        let torn = record(3).encode_length_delimited_to_vec();
        let mut raw = OpenOptions::new().append(true).open(&prog).expect("open");
        raw.write_all(&torn[..torn.len() / 2]).expect("write");
        drop(raw);
        // And a file that never got a record.
        drop(CaptureFile::create(&dir, &header()).expect("create"));

        let done = recover(&dir).expect("recover");
        assert_eq!(done.files, 1);
        assert_eq!(done.records, 2);
        assert_eq!(done.torn_bytes, (torn.len() / 2) as u64);
        assert_eq!(done.empty, 1);
        let c = read(&prog.with_extension(CAPTURE)).expect("read");
        assert_eq!(c.records, vec![record(1), record(2)]);
        assert_eq!(c.whole_len, c.file_len);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn dates_are_civil() {
        let t = UNIX_EPOCH + std::time::Duration::from_micros(1_764_503_112_123_456);
        assert_eq!(rfc3339(t), "2025-11-30T11:45:12.123456Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
