//! `viam.component.gantry.v1.GantryService`.

use super::{Reply, Resources};
use crate::host::kind::Gantry;
use crate::validate;
use axle_proto::common;
use axle_proto::viam::component::gantry::v1::gantry_service_server::{
    GantryService, GantryServiceServer,
};
use axle_proto::viam::component::gantry::v1::*;
use std::sync::Arc;
use tonic::{Request, Response};

struct GantryApi<R>(Arc<R>);

pub(super) fn server<R: Resources>(r: Arc<R>) -> GantryServiceServer<impl GantryService> {
    GantryServiceServer::new(GantryApi(r))
}

#[tonic::async_trait]
impl<R: Resources> GantryService for GantryApi<R> {
    async fn get_position(&self, req: Request<GetPositionRequest>) -> Reply<GetPositionResponse> {
        let gantry = self.0.find::<Gantry>(&req.get_ref().name)?;
        let positions_mm = gantry.call(|g| g.position()).await?;
        Ok(Response::new(GetPositionResponse { positions_mm }))
    }

    async fn move_to_position(
        &self,
        req: Request<MoveToPositionRequest>,
    ) -> Reply<MoveToPositionResponse> {
        let r = req.into_inner();
        let to = validate::finite_all("positions_mm", r.positions_mm)?;
        let speeds = validate::finite_all("speeds_mm_per_sec", r.speeds_mm_per_sec)?;
        let gantry = self.0.find::<Gantry>(&r.name)?;
        gantry
            .run("MoveToPosition", move |g| g.move_to_position(to, speeds))
            .await?;
        Ok(Response::new(MoveToPositionResponse {}))
    }

    async fn home(&self, req: Request<HomeRequest>) -> Reply<HomeResponse> {
        let gantry = self.0.find::<Gantry>(&req.get_ref().name)?;
        gantry.run("Home", |g| g.home()).await?;
        Ok(Response::new(HomeResponse { homed: true }))
    }

    async fn get_lengths(&self, req: Request<GetLengthsRequest>) -> Reply<GetLengthsResponse> {
        let gantry = self.0.find::<Gantry>(&req.get_ref().name)?;
        let lengths_mm = gantry.call(|g| g.lengths()).await?;
        Ok(Response::new(GetLengthsResponse { lengths_mm }))
    }

    async fn stop(&self, req: Request<StopRequest>) -> Reply<StopResponse> {
        self.0
            .find::<Gantry>(&req.get_ref().name)?
            .stop("Stop")
            .await?;
        Ok(Response::new(StopResponse {}))
    }

    async fn is_moving(&self, req: Request<IsMovingRequest>) -> Reply<IsMovingResponse> {
        let is_moving = self
            .0
            .find::<Gantry>(&req.get_ref().name)?
            .is_moving()
            .await?;
        Ok(Response::new(IsMovingResponse { is_moving }))
    }

    async fn get_kinematics(
        &self,
        req: Request<common::GetKinematicsRequest>,
    ) -> Reply<common::GetKinematicsResponse> {
        let gantry = self.0.find::<Gantry>(&req.get_ref().name)?;
        super::kinematics_response(gantry.call(|g| g.kinematics()).await?)
    }

    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        super::do_command::<Gantry, R>(&self.0, req).await
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::get_status::<Gantry, R>(&self.0, req).await
    }

    async fn get_geometries(
        &self,
        req: Request<common::GetGeometriesRequest>,
    ) -> Reply<common::GetGeometriesResponse> {
        super::get_geometries::<Gantry, R>(&self.0, req)
    }
}
