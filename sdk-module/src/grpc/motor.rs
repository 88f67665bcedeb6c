//! `viam.component.motor.v1.MotorService`.

use super::Resources;
use crate::host::kind;
use axle_proto::common;
use axle_proto::motor::motor_service_server::MotorService;
use axle_proto::motor::*;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Serves every motor of the robot.
pub struct MotorApi<R>(pub Arc<R>);

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl<R: Resources> MotorService for MotorApi<R> {
    async fn set_power(&self, req: Request<SetPowerRequest>) -> Reply<SetPowerResponse> {
        let r = req.into_inner();
        self.0.motor(&r.name)?.set_power(r.power_pct).await?;
        Ok(Response::new(SetPowerResponse {}))
    }

    async fn go_for(&self, req: Request<GoForRequest>) -> Reply<GoForResponse> {
        let r = req.into_inner();
        self.0.motor(&r.name)?.go_for(r.rpm, r.revolutions).await?;
        Ok(Response::new(GoForResponse {}))
    }

    async fn go_to(&self, req: Request<GoToRequest>) -> Reply<GoToResponse> {
        let r = req.into_inner();
        self.0
            .motor(&r.name)?
            .go_to(r.rpm, r.position_revolutions)
            .await?;
        Ok(Response::new(GoToResponse {}))
    }

    async fn set_rpm(&self, req: Request<SetRpmRequest>) -> Reply<SetRpmResponse> {
        let r = req.into_inner();
        self.0.motor(&r.name)?.set_rpm(r.rpm).await?;
        Ok(Response::new(SetRpmResponse {}))
    }

    async fn reset_zero_position(
        &self,
        req: Request<ResetZeroPositionRequest>,
    ) -> Reply<ResetZeroPositionResponse> {
        let r = req.into_inner();
        self.0.motor(&r.name)?.reset_zero_position(r.offset).await?;
        Ok(Response::new(ResetZeroPositionResponse {}))
    }

    async fn get_position(&self, req: Request<GetPositionRequest>) -> Reply<GetPositionResponse> {
        let position = self.0.motor(&req.get_ref().name)?.position().await?;
        Ok(Response::new(GetPositionResponse { position }))
    }

    async fn get_properties(
        &self,
        req: Request<GetPropertiesRequest>,
    ) -> Reply<GetPropertiesResponse> {
        let p = self.0.motor(&req.get_ref().name)?.properties().await?;
        Ok(Response::new(GetPropertiesResponse {
            position_reporting: p.position_reporting,
        }))
    }

    async fn stop(&self, req: Request<StopRequest>) -> Reply<StopResponse> {
        self.0.motor(&req.get_ref().name)?.stop("Stop").await?;
        Ok(Response::new(StopResponse {}))
    }

    async fn is_powered(&self, req: Request<IsPoweredRequest>) -> Reply<IsPoweredResponse> {
        let (is_on, power_pct) = self.0.motor(&req.get_ref().name)?.is_powered().await?;
        Ok(Response::new(IsPoweredResponse { is_on, power_pct }))
    }

    async fn is_moving(&self, req: Request<IsMovingRequest>) -> Reply<IsMovingResponse> {
        let is_moving = self.0.motor(&req.get_ref().name)?.is_moving().await?;
        Ok(Response::new(IsMovingResponse { is_moving }))
    }

    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        super::do_command::<kind::Motor, R>(&self.0, req).await
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::get_status::<kind::Motor, R>(&self.0, req).await
    }

    async fn get_geometries(
        &self,
        req: Request<common::GetGeometriesRequest>,
    ) -> Reply<common::GetGeometriesResponse> {
        super::get_geometries::<kind::Motor, R>(&self.0, req)
    }
}
