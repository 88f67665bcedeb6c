//! The base a remote control drives: built in (commands go straight into
//! its actor's mailbox, in order), or served by a module or a sub-part
//! (commands go through its proxy one at a time, the latest winning, so none
//! overtakes another; a sub-part's carry this part's session there, so a
//! frozen or dead main part stops the base on the sub-part).

use crate::proxy::ProxyHandle;
use axle_proto::base::SetPowerRequest;
use axle_proto::common;
use axle_sdk_module::host::{BaseHandle, STOP_TIMEOUT, Stoppable};
use axle_sdk_module::{Motion, ResourceError, Vector3};
use futures::future::BoxFuture;
use tokio::sync::watch;
use tracing::warn;

/// One command for the base.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Command {
    /// SetPower.
    Power(Vector3, Vector3),
    /// SetVelocity (mm/s, degrees/s).
    Velocity(Vector3, Vector3),
    /// Stop.
    Stop,
}

/// The base, wherever it is served.
pub enum BaseTarget {
    /// Built in.
    Here(BaseHandle),
    /// Through its proxy; `latest` feeds the one task that sends.
    Elsewhere {
        /// The proxy.
        proxy: ProxyHandle,
        /// The newest command not yet sent.
        latest: watch::Sender<Option<Command>>,
    },
}

fn vector(v: Vector3) -> Option<common::Vector3> {
    Some(common::Vector3 {
        x: v.x,
        y: v.y,
        z: v.z,
    })
}

impl BaseTarget {
    /// A proxied base, with its sending task started.
    pub fn elsewhere(proxy: ProxyHandle) -> Self {
        let (latest, mut rx) = watch::channel(None);
        let sender = proxy.clone();
        actix::spawn(async move {
            while rx.changed().await.is_ok() {
                let Some(command) = *rx.borrow_and_update() else {
                    continue;
                };
                if let Err(e) = send(&sender, command).await {
                    warn!(base = %sender.there(), error = %e, "a remote control command did not reach the base");
                }
            }
        });
        Self::Elsewhere { proxy, latest }
    }

    /// For logs.
    pub fn name(&self) -> String {
        match self {
            Self::Here(h) => h.name().to_string(),
            Self::Elsewhere { proxy, .. } => format!("{} (via {})", proxy.there(), proxy.via()),
        }
    }

    /// The base as the session supervisor stops it.
    pub fn stoppable(&self) -> Option<Stoppable> {
        match self {
            Self::Here(h) => Some(h.stoppable()),
            Self::Elsewhere { proxy, .. } => proxy.stoppable(),
        }
    }

    /// Sends `command`, after every command sent before it.
    pub fn send(&self, command: Command) -> BoxFuture<'static, Result<(), ResourceError>> {
        match self {
            Self::Here(h) => Box::pin(h.run(command_name(command), move |b| {
                match command {
                    Command::Power(l, a) => b.set_power(l, a)?,
                    Command::Velocity(l, a) => b.set_velocity(l, a)?,
                    Command::Stop => b.stop()?,
                }
                Ok(Motion::Done)
            })),
            Self::Elsewhere { latest, .. } => {
                latest.send_replace(Some(command));
                Box::pin(async { Ok(()) })
            }
        }
    }

    /// Stops the base now: a built-in one through its actor; a proxied one
    /// at once on its link, and again after any command in flight.
    pub fn stop(&self) -> BoxFuture<'static, Result<(), ResourceError>> {
        match self {
            Self::Here(h) => Box::pin(h.stop("remote control safety stop")),
            Self::Elsewhere { proxy, latest } => {
                latest.send_replace(Some(Command::Stop));
                let stoppable = proxy.stoppable();
                Box::pin(async move {
                    match stoppable {
                        Some(s) => {
                            s.stop_within("remote control safety stop", STOP_TIMEOUT)
                                .await
                        }
                        None => Ok(()),
                    }
                })
            }
        }
    }
}

fn command_name(c: Command) -> &'static str {
    match c {
        Command::Power(..) => "SetPower",
        Command::Velocity(..) => "SetVelocity",
        Command::Stop => "Stop",
    }
}

async fn send(proxy: &ProxyHandle, command: Command) -> Result<(), tonic::Status> {
    const SERVICE: &str = "/viam.component.base.v1.BaseService";
    let name = proxy.there().to_string();
    match command {
        Command::Power(l, a) => {
            let request = SetPowerRequest {
                name,
                linear: vector(l),
                angular: vector(a),
                extra: None,
            };
            proxy.unary(format!("{SERVICE}/SetPower"), request).await
        }
        Command::Velocity(l, a) => {
            let request = axle_proto::base::SetVelocityRequest {
                name,
                linear: vector(l),
                angular: vector(a),
                extra: None,
            };
            proxy.unary(format!("{SERVICE}/SetVelocity"), request).await
        }
        Command::Stop => {
            let request = axle_proto::base::StopRequest { name, extra: None };
            proxy.unary(format!("{SERVICE}/Stop"), request).await
        }
    }
}
