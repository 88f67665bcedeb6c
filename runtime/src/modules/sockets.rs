//! The private directory that holds the module sockets and `parent.sock`.

use std::fs::DirBuilder;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Unix socket paths must fit `sun_path` (108 bytes on Linux, 104 elsewhere),
/// with room to spare.
pub const MAX_SOCKET_PATH: usize = 100;

/// A directory only axle's user can enter (mode 0700), removed when the
/// last clone is dropped: the module manager and `main` share it.
#[derive(Clone)]
pub struct SocketDir {
    guard: Arc<Guard>,
}

struct Guard {
    path: PathBuf,
}

impl SocketDir {
    /// Creates a fresh directory under the temp dir, or under `/tmp` when the
    /// temp dir's path is too long for socket paths inside it. Directories
    /// left by an axle that was killed (its process is gone) are removed.
    pub fn create() -> io::Result<Self> {
        let leaf = format!(
            "axle-{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let mut base = std::env::temp_dir();
        if base.join(&leaf).as_os_str().len() > MAX_SOCKET_PATH - 40 {
            base = PathBuf::from("/tmp");
        }
        sweep(&base);
        let path = base.join(leaf);
        DirBuilder::new().mode(0o700).create(&path)?;
        Ok(Self {
            guard: Arc::new(Guard { path }),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.guard.path
    }

    /// Where the parent's API is served to modules.
    pub fn parent_socket(&self) -> PathBuf {
        self.path().join("parent.sock")
    }

    /// A socket path for module `name`: `<name>-<random>.sock`, the name cut
    /// short if the path would be too long.
    pub fn module_socket(&self, name: &str) -> PathBuf {
        let suffix = format!("-{}.sock", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let room = MAX_SOCKET_PATH.saturating_sub(self.path().as_os_str().len() + 1 + suffix.len());
        let short: String = name.chars().take(room).collect();
        self.path().join(format!("{short}{suffix}"))
    }
}

/// Removes `axle-<pid>-<8 hex>` directories in `base` whose axle is gone:
/// a SIGKILL leaves its socket directory behind.
fn sweep(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(stale_pid) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The pid in a socket directory's name, `axle-<pid>-<8 hex>`.
fn stale_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("axle-")?;
    let (pid, tag) = rest.split_once('-')?;
    let hex = tag.len() == 8 && tag.bytes().all(|b| b.is_ascii_hexdigit());
    hex.then(|| pid.parse().ok()).flatten()
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn only_socket_directories_are_swept() {
        assert_eq!(stale_pid("axle-123-0a1b2c3d"), Some(123));
        assert_eq!(stale_pid("axle-123-xyz"), None);
        assert_eq!(stale_pid("axle-it-123-drop"), None);
        assert_eq!(stale_pid("axle-bench-modules-9"), None);
    }

    #[test]
    fn the_directory_is_private_and_socket_paths_fit() {
        let dir = SocketDir::create().unwrap();
        let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let long = "m".repeat(200);
        assert!(dir.module_socket(&long).as_os_str().len() <= MAX_SOCKET_PATH);
        let path = dir.path().to_path_buf();
        drop(dir);
        assert!(!path.exists());
    }
}
