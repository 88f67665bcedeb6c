//! The config atoms a robot and a rendezvous read alike. A mistake in any
//! of them is a [`FieldError`]: the field, and what was wrong with it.

mod auth;
mod duration;
mod ice;
pub mod keys;

pub use auth::{AUTH_KEYS, ApiKey, AuthConfig, TlsFiles, load_tls, parse_auth, parse_tls};
pub use duration::{parse_duration, show_duration};
pub use ice::{ICE_SERVER_KEYS, IceServer, is_host_name, parse_ice_servers};

/// A refused field: its path in the config, and why.
pub type FieldError = (&'static str, String);
