//! Who may use the rendezvous, and for which host.
//!
//! Callers and robots both trade credentials for a token at
//! `AuthService/Authenticate`, under one [`Authenticator`] (so one
//! [`AuthLayer`](axle_wire::auth::AuthLayer) checks every token):
//! - a caller with `{"type": "api-key"}` and its key id as the entity; it
//!   may `Call` the hosts that list its key;
//! - a robot with `{"type": "robot-secret"}` and its host as the entity; it
//!   may `Answer` for that host only.
//!
//! Secrets are compared in constant time, and a host can never pass as a
//! key id (the config refuses a host named like a key).

use crate::config::{HostEntry, RendezvousConfig};
use axle_proto::rpc::auth_service_server::AuthService;
use axle_proto::rpc::{AuthenticateRequest, AuthenticateResponse};
use axle_wire::Owner;
use axle_wire::auth::{AuthError, Authenticator};
use std::collections::BTreeMap;
use std::sync::Arc;
use tonic::{Request, Response, Status};
use tracing::{info, warn};

pub use axle_wire::signaling::{ROBOT_SECRET, host_of};

/// Checks credentials and what each token may do.
pub struct Admission {
    auth: Arc<Authenticator>,
    hosts: BTreeMap<String, HostEntry>,
}

impl Admission {
    /// Callers' keys and robots' secrets of `config`, under a fresh signing
    /// key.
    pub fn new(config: &RendezvousConfig) -> Result<Self, ring::error::Unspecified> {
        let mut all = config.callers.clone();
        all.keys.extend(config.robot_keys().keys);
        Ok(Self {
            auth: Arc::new(Authenticator::new(&all)?),
            hosts: config.hosts.clone(),
        })
    }

    /// The authenticator behind every token.
    pub fn authenticator(&self) -> Arc<Authenticator> {
        self.auth.clone()
    }

    fn authenticate(&self, entity: &str, kind: &str, secret: &str) -> Result<String, AuthError> {
        let is_host = self.hosts.contains_key(entity);
        match kind {
            "api-key" if !is_host => {}
            ROBOT_SECRET if is_host => {}
            "api-key" | ROBOT_SECRET => return Err(AuthError::BadCredentials),
            other => return Err(AuthError::UnsupportedType(other.into())),
        }
        self.auth
            .authenticate(entity, "api-key", secret)
            .map(|(token, _)| token)
    }

    /// Whether `owner` may call `host` (as dialed: `rover.axle:443` names
    /// `rover.axle`).
    pub fn caller<'a>(&self, owner: &Owner, host: &'a str) -> Result<&'a str, Status> {
        let host = host_of(host);
        let entry = self.hosts.get(host);
        match (owner, entry) {
            (Owner::Entity(key), Some(h)) if h.callers.contains(&**key) => Ok(host),
            (_, Some(_)) => Err(Status::permission_denied(format!(
                "this API key may not call host {host:?}"
            ))),
            (_, None) => Err(Status::not_found(format!(
                "host {host:?} appears to be offline: the rendezvous does not know it"
            ))),
        }
    }

    /// Whether `owner` may answer for every one of `hosts`.
    pub fn robot(&self, owner: &Owner, hosts: &[String]) -> Result<(), Status> {
        let Owner::Entity(entity) = owner else {
            return Err(Status::permission_denied(
                "robots authenticate with their host secret",
            ));
        };
        match hosts.iter().find(|h| **h != **entity) {
            None if self.hosts.contains_key(&**entity) => Ok(()),
            _ => Err(Status::permission_denied(format!(
                "a robot authenticated for {entity:?} may answer for that host only"
            ))),
        }
    }
}

/// `proto.rpc.v1.AuthService` of the rendezvous.
pub struct RendezvousAuth(pub Arc<Admission>);

#[tonic::async_trait]
impl AuthService for RendezvousAuth {
    async fn authenticate(
        &self,
        req: Request<AuthenticateRequest>,
    ) -> Result<Response<AuthenticateResponse>, Status> {
        let peer = axle_wire::peer_of(req.extensions());
        let r = req.into_inner();
        let creds = r.credentials.unwrap_or_default();
        match self
            .0
            .authenticate(&r.entity, &creds.r#type, &creds.payload)
        {
            Ok(access_token) => {
                info!(entity = %r.entity, kind = %creds.r#type, %peer, "authenticated");
                Ok(Response::new(AuthenticateResponse { access_token }))
            }
            Err(e) => {
                // The entity is logged, the secret never.
                warn!(entity = %r.entity, kind = %creds.r#type, %peer, error = %e, "authentication refused");
                Err(e.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn admission() -> Admission {
        let config = json!({
            "auth": {"handlers": [{"type": "api-key", "config": {"driver": "k3y", "other": "0ther"}}]},
            "hosts": {
                "rover.axle": {"secret": "s3cret", "api_keys": ["driver"]},
                "arm.axle": {"secret": "s3cret2", "api_keys": ["other"]}
            }
        });
        Admission::new(&RendezvousConfig::parse(&config.to_string()).unwrap()).unwrap()
    }

    fn owner(entity: &str) -> Owner {
        Owner::Entity(entity.into())
    }

    #[test]
    fn callers_and_robots_each_get_their_own_rights() {
        let a = admission();
        assert!(a.authenticate("driver", "api-key", "k3y").is_ok());
        assert_eq!(
            a.authenticate("driver", "api-key", "nope"),
            Err(AuthError::BadCredentials)
        );
        assert!(a.authenticate("rover.axle", ROBOT_SECRET, "s3cret").is_ok());
        // A robot's secret is no API key, and a key is no robot's secret.
        assert!(a.authenticate("rover.axle", "api-key", "s3cret").is_err());
        assert!(a.authenticate("driver", ROBOT_SECRET, "k3y").is_err());
        assert!(
            a.authenticate("rover.axle", ROBOT_SECRET, "s3cret2")
                .is_err()
        );

        assert_eq!(
            a.caller(&owner("driver"), "rover.axle:443").unwrap(),
            "rover.axle"
        );
        assert_eq!(
            a.caller(&owner("other"), "rover.axle").unwrap_err().code(),
            tonic::Code::PermissionDenied
        );
        assert_eq!(
            a.caller(&owner("driver"), "ghost.axle").unwrap_err().code(),
            tonic::Code::NotFound
        );
        assert!(
            a.robot(&owner("rover.axle"), &["rover.axle".into()])
                .is_ok()
        );
        assert!(a.robot(&owner("rover.axle"), &["arm.axle".into()]).is_err());
        assert!(a.robot(&owner("driver"), &["driver".into()]).is_err());
    }
}
