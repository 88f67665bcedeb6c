//! `viam.component.button.v1.ButtonService`.

use super::{Reply, Resources};
use crate::host::kind::Button;
use axle_proto::common;
use axle_proto::viam::component::button::v1::button_service_server::{
    ButtonService, ButtonServiceServer,
};
use axle_proto::viam::component::button::v1::*;
use std::sync::Arc;
use tonic::{Request, Response};

struct ButtonApi<R>(Arc<R>);

pub(super) fn server<R: Resources>(r: Arc<R>) -> ButtonServiceServer<impl ButtonService> {
    ButtonServiceServer::new(ButtonApi(r))
}

#[tonic::async_trait]
impl<R: Resources> ButtonService for ButtonApi<R> {
    async fn push(&self, req: Request<PushRequest>) -> Reply<PushResponse> {
        let button = self.0.find::<Button>(&req.get_ref().name)?;
        button.call(|b| b.push()).await?;
        Ok(Response::new(PushResponse {}))
    }

    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        super::do_command::<Button, R>(&self.0, req).await
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::get_status::<Button, R>(&self.0, req).await
    }
}
