//! A module's process: how it is started, how its output reaches axle's log,
//! and how it is signalled.

use crate::config::ModuleConfig;
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use std::collections::VecDeque;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tracing::info;

/// How many of the module's last output lines a startup error quotes.
const TAIL_LINES: usize = 8;

/// The module's last lines of output, for errors about a module that died.
#[derive(Clone, Default)]
pub struct Tail(Arc<Mutex<VecDeque<String>>>);

impl Tail {
    fn push(&self, line: String) {
        let mut lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == TAIL_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// The lines, oldest first, joined by " | "; empty if there were none.
    pub fn text(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        lines.iter().cloned().collect::<Vec<_>>().join(" | ")
    }
}

/// Starts module `config` serving on `socket`, in its own process group,
/// killed by the kernel if axle dies. Its stdout and stderr go to axle's log,
/// tagged with the module's name.
pub fn spawn(config: &ModuleConfig, socket: &Path, tail: &Tail) -> Result<Child, String> {
    let exe = executable(&config.executable_path)?;
    let root = exe
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| "/".into());
    let home = viam_home();
    let data = home.join("module-data").join(&config.name);
    std::fs::create_dir_all(&data).map_err(|e| {
        format!(
            "cannot create the module's data dir {}: {e}",
            data.display()
        )
    })?;
    let mut cmd = Command::new(&exe);
    cmd.arg(socket);
    if let Some(level) = &config.log_level {
        cmd.arg(format!("--log-level={level}"));
    }
    cmd.current_dir(&root)
        .env("VIAM_HOME", &home)
        .env("VIAM_MODULE_DATA", &data)
        .env("VIAM_MODULE_NAME", &config.name)
        .env("VIAM_MODULE_ROOT", &root)
        .env("VIAM_MODULE_ADDRESS", socket)
        .envs(&config.env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let axle = nix::unistd::getpid();
    // SAFETY: between fork and exec only async-signal-safe calls: prctl,
    // getppid and _exit.
    unsafe {
        cmd.pre_exec(move || {
            // The signal fires when the thread that forked dies; modules are
            // spawned from the actor thread, which lives as long as axle.
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
            // axle may have died before the line above took effect.
            if nix::unistd::getppid() != axle {
                nix::libc::_exit(1);
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    if let Some(out) = child.stdout.take() {
        tokio::spawn(pump(config.name.clone(), "stdout", out, tail.clone()));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(pump(config.name.clone(), "stderr", err, tail.clone()));
    }
    Ok(child)
}

/// The module's program, checked so that the common mistakes get plain words.
fn executable(path: &Path) -> Result<PathBuf, String> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            format!("executable_path {} does not exist", path.display())
        }
        _ => format!("cannot read executable_path {}: {e}", path.display()),
    })?;
    if !meta.is_file() {
        return Err(format!("executable_path {} is not a file", path.display()));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(format!(
            "executable_path {} is not executable (mode {:o}); try chmod +x",
            path.display(),
            meta.permissions().mode() & 0o777
        ));
    }
    std::fs::canonicalize(path).map_err(|e| format!("cannot resolve {}: {e}", path.display()))
}

/// `VIAM_HOME` as axle was given it, else `~/.viam`.
fn viam_home() -> PathBuf {
    if let Some(home) = std::env::var_os("VIAM_HOME") {
        return home.into();
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(".viam")
}

async fn pump(module: String, stream: &'static str, out: impl AsyncRead + Unpin, tail: Tail) {
    let mut lines = BufReader::new(out).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let line = without_colors(&line);
        info!(module = %module, stream, "{line}");
        tail.push(line);
    }
}

/// A line without terminal colour codes (`ESC [ ... m`), which modules'
/// loggers add and which only clutter axle's log.
fn without_colors(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip to the end of the escape sequence.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Sends `signal` to the module's process.
pub fn signal(pid: i32, signal: Signal) {
    let _ = kill(Pid::from_raw(pid), signal);
}

/// Sends `signal` to the module's whole process group: the module and
/// anything it started.
pub fn signal_group(pid: i32, signal: Signal) {
    let _ = killpg(Pid::from_raw(pid), signal);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_codes_are_dropped() {
        assert_eq!(
            without_colors("2026 \u{1b}[33;36mINFO\u{1b}[0m\tserving"),
            "2026 INFO\tserving"
        );
        assert_eq!(without_colors("plain"), "plain");
    }
}
