//! `viam.component.base.v1.BaseService`.

use super::convert::vector;

use super::Resources;
use crate::host::kind;
use axle_proto::base::base_service_server::BaseService;
use axle_proto::base::*;
use axle_proto::common;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Serves every base of the robot.
pub struct BaseApi<R>(pub Arc<R>);

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl<R: Resources> BaseService for BaseApi<R> {
    async fn move_straight(
        &self,
        req: Request<MoveStraightRequest>,
    ) -> Reply<MoveStraightResponse> {
        let r = req.into_inner();
        self.0
            .base(&r.name)?
            .move_straight(r.distance_mm, r.mm_per_sec)
            .await?;
        Ok(Response::new(MoveStraightResponse {}))
    }

    async fn spin(&self, req: Request<SpinRequest>) -> Reply<SpinResponse> {
        let r = req.into_inner();
        self.0
            .base(&r.name)?
            .spin(r.angle_deg, r.degs_per_sec)
            .await?;
        Ok(Response::new(SpinResponse {}))
    }

    async fn set_power(&self, req: Request<SetPowerRequest>) -> Reply<SetPowerResponse> {
        let r = req.into_inner();
        self.0
            .base(&r.name)?
            .set_power(vector(r.linear), vector(r.angular))
            .await?;
        Ok(Response::new(SetPowerResponse {}))
    }

    async fn set_velocity(&self, req: Request<SetVelocityRequest>) -> Reply<SetVelocityResponse> {
        let r = req.into_inner();
        self.0
            .base(&r.name)?
            .set_velocity(vector(r.linear), vector(r.angular))
            .await?;
        Ok(Response::new(SetVelocityResponse {}))
    }

    async fn stop(&self, req: Request<StopRequest>) -> Reply<StopResponse> {
        self.0.base(&req.get_ref().name)?.stop("Stop").await?;
        Ok(Response::new(StopResponse {}))
    }

    async fn is_moving(&self, req: Request<IsMovingRequest>) -> Reply<IsMovingResponse> {
        let is_moving = self.0.base(&req.get_ref().name)?.is_moving().await?;
        Ok(Response::new(IsMovingResponse { is_moving }))
    }

    async fn get_properties(
        &self,
        req: Request<GetPropertiesRequest>,
    ) -> Reply<GetPropertiesResponse> {
        let p = self.0.base(&req.get_ref().name)?.properties().await?;
        Ok(Response::new(GetPropertiesResponse {
            width_meters: p.width_meters,
            turning_radius_meters: p.turning_radius_meters,
            wheel_circumference_meters: p.wheel_circumference_meters,
        }))
    }

    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        super::do_command::<kind::Base, R>(&self.0, req).await
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::get_status::<kind::Base, R>(&self.0, req).await
    }

    async fn get_geometries(
        &self,
        req: Request<common::GetGeometriesRequest>,
    ) -> Reply<common::GetGeometriesResponse> {
        super::get_geometries::<kind::Base, R>(&self.0, req)
    }
}
