//! `axle.v1.SessionService`: which session answers for each actuator, so a
//! control page can show who drives what (the Viam API has no such call).

use crate::sessions::SessionTable;
use axle_proto::axle::v1::session_service_server::{SessionService, SessionServiceServer};
use axle_proto::axle::v1::{GetLastUsersRequest, GetLastUsersResponse, LastUser};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Serves [`SessionService`] from the session table.
pub struct LastUsers(pub Arc<SessionTable>);

impl LastUsers {
    /// The service, ready to route.
    pub fn server(sessions: Arc<SessionTable>) -> SessionServiceServer<Self> {
        SessionServiceServer::new(Self(sessions))
    }
}

#[tonic::async_trait]
impl SessionService for LastUsers {
    async fn get_last_users(
        &self,
        _: Request<GetLastUsersRequest>,
    ) -> Result<Response<GetLastUsersResponse>, Status> {
        let last_users = self
            .0
            .last_users()
            .into_iter()
            .map(|(resource, s)| LastUser {
                resource: resource.to_string(),
                session: s.id.to_string(),
                peer: s.peer.to_string(),
            })
            .collect();
        Ok(Response::new(GetLastUsersResponse { last_users }))
    }
}
