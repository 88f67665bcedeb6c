//! `viam.component.switch.v1.SwitchService`.

use super::{Reply, Resources};
use crate::host::kind::Switch;
use axle_proto::common;
use axle_proto::viam::component::switch::v1::switch_service_server::{
    SwitchService, SwitchServiceServer,
};
use axle_proto::viam::component::switch::v1::*;
use std::sync::Arc;
use tonic::{Request, Response};

struct SwitchApi<R>(Arc<R>);

pub(super) fn server<R: Resources>(r: Arc<R>) -> SwitchServiceServer<impl SwitchService> {
    SwitchServiceServer::new(SwitchApi(r))
}

#[tonic::async_trait]
impl<R: Resources> SwitchService for SwitchApi<R> {
    async fn set_position(&self, req: Request<SetPositionRequest>) -> Reply<SetPositionResponse> {
        let r = req.into_inner();
        let position = r.position;
        let switch = self.0.find::<Switch>(&r.name)?;
        switch.call(move |s| s.set_position(position)).await?;
        Ok(Response::new(SetPositionResponse {}))
    }

    async fn get_position(&self, req: Request<GetPositionRequest>) -> Reply<GetPositionResponse> {
        let switch = self.0.find::<Switch>(&req.get_ref().name)?;
        let position = switch.call(|s| s.position()).await?;
        Ok(Response::new(GetPositionResponse { position }))
    }

    async fn get_number_of_positions(
        &self,
        req: Request<GetNumberOfPositionsRequest>,
    ) -> Reply<GetNumberOfPositionsResponse> {
        let switch = self.0.find::<Switch>(&req.get_ref().name)?;
        let (number_of_positions, labels) = switch.call(|s| s.number_of_positions()).await?;
        Ok(Response::new(GetNumberOfPositionsResponse {
            number_of_positions,
            labels,
        }))
    }

    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        super::do_command::<Switch, R>(&self.0, req).await
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::get_status::<Switch, R>(&self.0, req).await
    }
}
