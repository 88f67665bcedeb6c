//! The module runner: serve your models to axle (or any Viam-compatible
//! parent) from a child process.
//!
//! ```no_run
//! use axle_sdk_module::module::{Dependencies, Module, ResourceConfig};
//! use axle_sdk_module::{Motor, ResourceError};
//! # fn build(_: &ResourceConfig, _: &Dependencies) -> Result<Box<dyn Motor>, ResourceError> { todo!() }
//! fn main() -> std::process::ExitCode {
//!     Module::new().motor("acme:motors:stepper", |_| Ok(Vec::new()), build).run()
//! }
//! ```
//!
//! The parent starts the module as `<exe> <socket> [--log-level=L]`, calls
//! Ready, then AddResource for each component of the module's models. Each
//! resource runs as an actor on its own thread, exactly as a built-in does
//! in axle, so a driver can move between the two unchanged. A driver that
//! uses other resources gets them from [`Dependencies`]; its calls to them
//! carry the session of the client it serves.

mod dependencies;
mod logs;
mod service;

pub use dependencies::{CALL_TIMEOUT, Dependencies};

use crate::host::{Built, Kind, kind};
use crate::{Api, AttributeError, Attributes, Base, InputController, Model, Motor, ResourceError};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tracing::Level;

/// A resource's config as the parent sends it.
#[derive(Debug, Clone)]
pub struct ResourceConfig {
    /// Its short name.
    pub name: String,
    /// Its API.
    pub api: Api,
    /// Its model.
    pub model: Model,
    /// Its attributes.
    pub attributes: Attributes,
}

/// Checks a config before it is built; returns the names of the resources
/// it depends on (short names, e.g. the motors a base drives).
pub type Validate = fn(&ResourceConfig) -> Result<Vec<String>, AttributeError>;

/// Builds a driver of API `D` from its config and dependencies.
pub type Construct<D> = fn(&ResourceConfig, &Dependencies) -> Result<Box<D>, ResourceError>;

/// A model's constructor, its driver tagged with its API.
#[derive(Clone)]
struct Constructor {
    api: Api,
    build: Arc<BuildFn>,
}

type ValidateFn = dyn Fn(&ResourceConfig) -> Result<Vec<String>, AttributeError> + Send + Sync;

/// A constructor of the kind axle's built-in models have.
pub type BuiltIn = fn(&str, &Attributes) -> Result<Built, AttributeError>;

type BuildFn = dyn Fn(&ResourceConfig, &Dependencies) -> Result<Built, ResourceError> + Send + Sync;

impl Constructor {
    fn new<K: Kind>(construct: Construct<K::Driver>) -> Self {
        Self {
            api: K::api(),
            build: Arc::new(move |c, d| Ok(Built::new::<K>(construct(c, d)?))),
        }
    }

    fn api(&self) -> Api {
        self.api.clone()
    }

    fn build(&self, c: &ResourceConfig, d: &Dependencies) -> Result<Built, ResourceError> {
        (self.build)(c, d)
    }
}

/// One model the module serves.
#[derive(Clone)]
struct Registration {
    model: String,
    validate: Arc<ValidateFn>,
    construct: Constructor,
    blocking: fn(&Attributes) -> bool,
}

/// For [`Module::blocking`]: every resource of the model may block.
fn always(_: &Attributes) -> bool {
    true
}

/// A module: the models it serves. Register them, then [`Module::run`].
#[derive(Default)]
pub struct Module {
    models: Vec<Registration>,
}

impl Module {
    /// A module that serves nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves model `model` (`namespace:family:name`) of API `K`, e.g.
    /// `Module::new().serve::<kind::Camera>("acme:cams:usb", validate, build)`.
    pub fn serve<K: Kind>(
        self,
        model: &str,
        validate: Validate,
        construct: Construct<K::Driver>,
    ) -> Self {
        self.add(model, validate, Constructor::new::<K>(construct))
    }

    /// Serves model `model` of API `K` with a constructor of the kind axle's
    /// built-in models have (`fake::FakeCamera::build`): the same driver,
    /// built in or in a module. Its attributes are checked by building it.
    pub fn serve_built<K: Kind>(self, model: &str, build: BuiltIn) -> Self {
        let validate =
            Arc::new(move |c: &ResourceConfig| build(&c.name, &c.attributes).map(|_| Vec::new()));
        let construct = Constructor {
            api: K::api(),
            build: Arc::new(move |c, _| {
                let built = build(&c.name, &c.attributes)?;
                if *built.api() != K::api() {
                    return Err(ResourceError::Internal(format!(
                        "the model built a {}, not a {}",
                        built.api(),
                        K::api()
                    )));
                }
                Ok(built)
            }),
        };
        self.add_checked(model, validate, construct)
    }

    /// Serves motor model `model`.
    pub fn motor(self, model: &str, validate: Validate, construct: Construct<dyn Motor>) -> Self {
        self.serve::<kind::Motor>(model, validate, construct)
    }

    /// Serves base model `model`.
    pub fn base(self, model: &str, validate: Validate, construct: Construct<dyn Base>) -> Self {
        self.serve::<kind::Base>(model, validate, construct)
    }

    /// Serves input controller model `model`.
    pub fn input_controller(
        self,
        model: &str,
        validate: Validate,
        construct: Construct<dyn InputController>,
    ) -> Self {
        self.serve::<kind::InputController>(model, validate, construct)
    }

    fn add(self, model: &str, validate: Validate, construct: Constructor) -> Self {
        self.add_checked(model, Arc::new(validate), construct)
    }

    fn add_checked(
        mut self,
        model: &str,
        validate: Arc<ValidateFn>,
        construct: Constructor,
    ) -> Self {
        self.models.push(Registration {
            model: model.into(),
            validate,
            construct,
            blocking: always,
        });
        self
    }

    /// Says, from a resource's attributes, whether the driver of the model
    /// registered last may block (on hardware, or on its dependencies). A
    /// driver that may block runs on a thread of its own, which costs a
    /// thread hop per call; one that never blocks shares the module's I/O
    /// thread. Without this call, every driver is assumed to block.
    pub fn blocking(mut self, blocks: fn(&Attributes) -> bool) -> Self {
        if let Some(last) = self.models.last_mut() {
            last.blocking = blocks;
        }
        self
    }

    /// Reads the command line the parent gives (`<socket> [--log-level=L]`),
    /// serves until SIGTERM or SIGINT, stops every resource, and exits.
    pub fn run(self) -> ExitCode {
        let args = match Args::parse(std::env::args().skip(1)) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("{e}\nusage: <module> <socket path> [--log-level=debug|info|warn|error]");
                return ExitCode::from(2);
            }
        };
        let models = match self.checked() {
            Ok(m) => m,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        };
        let logs = logs::LogSink::install(args.log_level);
        match actix::System::new().block_on(service::serve(args.socket, models, logs)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!("{e}");
                eprintln!("module failed: {e}");
                ExitCode::FAILURE
            }
        }
    }

    /// The registrations, with models parsed; a bad model name is the
    /// author's mistake, reported before serving anything.
    fn checked(self) -> Result<Vec<(Api, Model, Registration)>, String> {
        self.models
            .into_iter()
            .map(|r| {
                // One word means a built-in model of the parent, never a module's.
                if !r.model.contains(':') {
                    return Err(format!(
                        "bad model {:?}: a module's models are namespace:family:name",
                        r.model
                    ));
                }
                let model = r
                    .model
                    .parse::<Model>()
                    .map_err(|e| format!("bad model {:?}: {e}", r.model))?;
                Ok((r.construct.api(), model, r))
            })
            .collect()
    }
}

/// The module's command line.
#[derive(Debug, PartialEq)]
struct Args {
    socket: PathBuf,
    log_level: Level,
}

impl Args {
    fn parse(args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut socket = None;
        let mut log_level = Level::INFO;
        for arg in args {
            if let Some(level) = arg.strip_prefix("--log-level=") {
                log_level = match level.to_ascii_lowercase().as_str() {
                    "trace" => Level::TRACE,
                    "debug" => Level::DEBUG,
                    "info" => Level::INFO,
                    "warn" | "warning" => Level::WARN,
                    "error" | "fatal" => Level::ERROR,
                    other => return Err(format!("unknown log level {other:?}")),
                };
            } else if arg.starts_with("--") {
                // Flags of newer parents (e.g. --tcp-mode) are not ours to refuse.
            } else if socket.is_none() {
                socket = Some(PathBuf::from(arg));
            } else {
                return Err(format!("unexpected argument {arg:?}"));
            }
        }
        let socket = socket.ok_or("missing the socket path to serve on")?;
        Ok(Self { socket, log_level })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Result<Args, String> {
        Args::parse(a.iter().map(|s| s.to_string()))
    }

    #[test]
    fn reads_the_parents_command_line() {
        assert_eq!(
            args(&["/tmp/m.sock", "--log-level=debug"]).unwrap(),
            Args {
                socket: "/tmp/m.sock".into(),
                log_level: Level::DEBUG
            }
        );
        assert_eq!(args(&["/tmp/m.sock"]).unwrap().log_level, Level::INFO);
        assert!(args(&[]).unwrap_err().contains("socket"));
        assert!(args(&["/a", "--log-level=loud"]).is_err());
    }

    #[test]
    fn a_bad_model_name_is_refused_before_serving() {
        let m = Module::new().motor(
            "acme:two-parts",
            |_| Ok(vec![]),
            |_, _| Err(ResourceError::Internal("unused".into())),
        );
        assert!(m.checked().is_err());
        let m = Module::new().motor(
            "fake",
            |_| Ok(vec![]),
            |_, _| Err(ResourceError::Internal("unused".into())),
        );
        assert!(
            m.checked()
                .err()
                .unwrap_or_default()
                .contains("namespace:family:name")
        );
    }
}
