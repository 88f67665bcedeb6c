//! `proto.rpc.v1.AuthService`: credentials in, access token out.

use super::Authenticator;
use axle_proto::rpc::auth_service_server::AuthService;
use axle_proto::rpc::{AuthenticateRequest, AuthenticateResponse};
use std::sync::Arc;
use tonic::{Request, Response, Status};
use tracing::{info, warn};

/// Serves Authenticate with an [`Authenticator`].
pub struct AuthApi(pub Arc<Authenticator>);

#[tonic::async_trait]
impl AuthService for AuthApi {
    async fn authenticate(
        &self,
        req: Request<AuthenticateRequest>,
    ) -> Result<Response<AuthenticateResponse>, Status> {
        let peer = crate::peer_of(req.extensions());
        let r = req.into_inner();
        let creds = r.credentials.unwrap_or_default();
        match self
            .0
            .authenticate(&r.entity, &creds.r#type, &creds.payload)
        {
            Ok((access_token, expires)) => {
                let lifetime = expires
                    .duration_since(std::time::SystemTime::now())
                    .unwrap_or_default();
                info!(entity = %r.entity, peer = %peer, lifetime = ?lifetime, "authenticated");
                Ok(Response::new(AuthenticateResponse { access_token }))
            }
            Err(e) => {
                // The entity is logged, the secret never.
                warn!(entity = %r.entity, peer = %peer, error = %e, "authentication refused");
                Err(e.into())
            }
        }
    }
}
