//! `axle.v1.SessionService`: which session answers for each actuator, so a
//! control page can show who drives what (the Viam API has no such call).

use crate::sessions::supervisor::ListLastUsers;
use crate::sessions::{SessionSupervisor, supervisor_gone};
use actix::Addr;
use axle_proto::axle::v1::session_service_server::{SessionService, SessionServiceServer};
use axle_proto::axle::v1::{GetLastUsersRequest, GetLastUsersResponse, LastUser};
use tonic::{Request, Response, Status};

/// Serves [`SessionService`] from the session supervisor's table.
pub struct LastUsers(pub Addr<SessionSupervisor>);

impl LastUsers {
    /// The service, ready to route.
    pub fn server(sessions: Addr<SessionSupervisor>) -> SessionServiceServer<Self> {
        SessionServiceServer::new(Self(sessions))
    }
}

#[tonic::async_trait]
impl SessionService for LastUsers {
    async fn get_last_users(
        &self,
        _: Request<GetLastUsersRequest>,
    ) -> Result<Response<GetLastUsersResponse>, Status> {
        let users = self.0.send(ListLastUsers).await.map_err(supervisor_gone)?;
        let last_users = users
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
