//! The disk under the capture directory: how full it is, and the files on it
//! that sync and the space rules look at.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A filesystem's size and what is free on it, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Space {
    /// Its size.
    pub total: u64,
    /// What an unprivileged writer can still use.
    pub free: u64,
}

/// The space on the filesystem holding `dir` (or its nearest existing parent).
pub fn space(dir: &Path) -> io::Result<Space> {
    let probe = dir
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    let s = nix::sys::statvfs::statvfs(probe).map_err(io::Error::from)?;
    let block = s.fragment_size();
    Ok(Space {
        total: s.blocks().saturating_mul(block),
        free: s.blocks_available().saturating_mul(block),
    })
}

/// A file found on a walk.
#[derive(Debug, Clone)]
pub struct Found {
    /// Where it is.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
    /// When it was last written.
    pub modified: SystemTime,
}

/// Every file under `dir`, recursively, except under the subdirectories
/// named in `skip` (relative to `dir`). A directory that vanishes during the
/// walk is not an error: sync and capture run at the same time.
pub fn walk(dir: &Path, skip: &[&str]) -> Vec<Found> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                let skipped = skip.iter().any(|s| path == dir.join(s));
                if !skipped {
                    todo.push(path);
                }
            } else if meta.is_file() {
                let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                out.push(Found {
                    path,
                    size: meta.len(),
                    modified,
                });
            }
        }
    }
    out
}

/// Syncs a directory, so that a rename or a new file in it survives a power
/// loss.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}
