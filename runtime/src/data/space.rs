//! Disk limits: a byte quota on the capture directory and a free-space
//! floor under it. Past either, the *oldest* closed files go first (upstream
//! thins every fifth file, old and new alike), each deletion logged and
//! counted. Open `.prog` files and files being uploaded are never deleted.

use super::capture_file::CAPTURE;
use super::disk::{self, Found};
use super::status::Pending;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use tracing::warn;

/// The limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes the capture directory may hold.
    pub quota: Option<u64>,
    /// Free bytes to keep on its disk.
    pub free_floor: u64,
}

/// What one look at the capture directory found and did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Survey {
    /// What waits for sync.
    pub pending: Pending,
    /// Bytes in the directory after deletions.
    pub dir_bytes: u64,
    /// Free bytes on its disk after deletions.
    pub free_bytes: u64,
    /// Files deleted now.
    pub deleted_files: u64,
    /// Their bytes.
    pub deleted_bytes: u64,
}

/// Closed capture files under `dir`, oldest first.
pub fn closed_files(dir: &Path) -> Vec<Found> {
    let mut files: Vec<Found> = disk::walk(dir, &[])
        .into_iter()
        .filter(|f| f.path.extension().is_some_and(|e| e == CAPTURE))
        .collect();
    files.sort_by(|a, b| {
        a.modified
            .cmp(&b.modified)
            .then_with(|| a.path.cmp(&b.path))
    });
    files
}

/// Looks at `dir`, deleting the oldest closed files while past a limit.
/// Blocking: run it off the actor's thread.
pub fn survey(dir: &Path, limits: Limits, busy: &HashSet<PathBuf>) -> Survey {
    let all = disk::walk(dir, &[]);
    let mut dir_bytes: u64 = all.iter().map(|f| f.size).sum();
    let mut free = disk::space(dir).map_or(u64::MAX, |s| s.free);
    let mut closed = closed_files(dir);
    let mut out = Survey::default();
    let over = |dir_bytes: u64, free: u64| {
        limits.quota.is_some_and(|q| dir_bytes > q) || free < limits.free_floor
    };
    let mut kept = Vec::with_capacity(closed.len());
    for f in closed.drain(..) {
        if !over(dir_bytes, free) || busy.contains(&f.path) {
            kept.push(f);
            continue;
        }
        let why = if free < limits.free_floor {
            "free space below the floor"
        } else {
            "capture_dir over its quota"
        };
        match std::fs::remove_file(&f.path) {
            Ok(()) => {
                warn!(file = %f.path.display(), bytes = f.size, why, "deleted unsynced capture file for space");
                dir_bytes = dir_bytes.saturating_sub(f.size);
                free = free.saturating_add(f.size);
                out.deleted_files += 1;
                out.deleted_bytes += f.size;
            }
            Err(e) => {
                warn!(file = %f.path.display(), error = %e, "cannot delete a capture file for space");
                kept.push(f);
            }
        }
    }
    out.pending = Pending {
        files: kept.len() as u64,
        bytes: kept.iter().map(|f| f.size).sum(),
        oldest: kept.first().map(|f| f.modified),
    };
    out.dir_bytes = dir_bytes;
    out.free_bytes = free;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn the_oldest_closed_files_go_first_and_open_ones_stay() {
        let dir = std::env::temp_dir().join(format!("axle-space-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let base = SystemTime::now() - Duration::from_secs(100);
        for i in 0..5u64 {
            let p = dir.join(format!("f{i}.capture"));
            std::fs::write(&p, vec![0u8; 1000]).expect("write");
            let f = std::fs::File::options().write(true).open(&p).expect("open");
            f.set_modified(base + Duration::from_secs(i))
                .expect("mtime");
        }
        std::fs::write(dir.join("open.prog"), vec![0u8; 1000]).expect("write");
        let limits = Limits {
            quota: Some(3500),
            free_floor: 0,
        };
        let s = survey(&dir, limits, &HashSet::new());
        assert_eq!(s.deleted_files, 3, "6000 bytes down to 3000");
        for i in 0..3 {
            assert!(
                !dir.join(format!("f{i}.capture")).exists(),
                "f{i} was among the oldest"
            );
        }
        assert!(dir.join("f3.capture").exists() && dir.join("open.prog").exists());
        assert_eq!(s.pending.files, 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
