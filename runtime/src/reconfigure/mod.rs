//! Live reconfiguration: the running robot follows its config file.
//!
//! - [`watcher`]: watches the file's directory (inotify), debounces bursts,
//!   survives editors that replace the file, and skips unchanged bytes. It
//!   sends each new text to the reconfigurer and waits for it to be applied,
//!   so edits that arrive meanwhile collapse into one reload.
//! - [`diff`]: the old config against the new one: what to take down,
//!   change in place, start and build.
//! - [`reconfigurer`]: the `Reconfigurer` actor, which owns the running
//!   config, the modules and the remote links, and applies plans one at a
//!   time. "What happens when the config changes" is `Live::apply`.
//! - The revision in use and the last refusal, for GetMachineStatus, are
//!   [`ConfigState`](crate::config::ConfigState).

pub mod diff;
pub mod reconfigurer;
pub mod watcher;

pub use reconfigurer::{Apply, Close, Reconfigurer, Running};
pub use watcher::Watcher;
