//! `viam.component.servo.v1.ServoService`.

use super::{Reply, Resources};
use crate::host::kind::Servo;
use axle_proto::common;
use axle_proto::viam::component::servo::v1::servo_service_server::{
    ServoService, ServoServiceServer,
};
use axle_proto::viam::component::servo::v1::*;
use std::sync::Arc;
use tonic::{Request, Response};

struct ServoApi<R>(Arc<R>);

pub(super) fn server<R: Resources>(r: Arc<R>) -> ServoServiceServer<impl ServoService> {
    ServoServiceServer::new(ServoApi(r))
}

#[tonic::async_trait]
impl<R: Resources> ServoService for ServoApi<R> {
    async fn r#move(&self, req: Request<MoveRequest>) -> Reply<MoveResponse> {
        let r = req.into_inner();
        let angle = r.angle_deg;
        let servo = self.0.find::<Servo>(&r.name)?;
        servo.run("Move", move |s| s.move_to(angle)).await?;
        Ok(Response::new(MoveResponse {}))
    }

    async fn get_position(&self, req: Request<GetPositionRequest>) -> Reply<GetPositionResponse> {
        let servo = self.0.find::<Servo>(&req.get_ref().name)?;
        let position_deg = servo.call(|s| s.position()).await?;
        Ok(Response::new(GetPositionResponse { position_deg }))
    }

    async fn stop(&self, req: Request<StopRequest>) -> Reply<StopResponse> {
        self.0
            .find::<Servo>(&req.get_ref().name)?
            .stop("Stop")
            .await?;
        Ok(Response::new(StopResponse {}))
    }

    async fn is_moving(&self, req: Request<IsMovingRequest>) -> Reply<IsMovingResponse> {
        let is_moving = self
            .0
            .find::<Servo>(&req.get_ref().name)?
            .is_moving()
            .await?;
        Ok(Response::new(IsMovingResponse { is_moving }))
    }

    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        super::do_command::<Servo, R>(&self.0, req).await
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::get_status::<Servo, R>(&self.0, req).await
    }

    async fn get_geometries(
        &self,
        req: Request<common::GetGeometriesRequest>,
    ) -> Reply<common::GetGeometriesResponse> {
        super::get_geometries::<Servo, R>(&self.0, req)
    }
}
