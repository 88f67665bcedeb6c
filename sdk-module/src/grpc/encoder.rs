//! `viam.component.encoder.v1.EncoderService`.

use super::{Reply, Resources};
use crate::PositionType as Unit;
use crate::host::kind::Encoder;
use axle_proto::common;
use axle_proto::viam::component::encoder::v1::encoder_service_server::{
    EncoderService, EncoderServiceServer,
};
use axle_proto::viam::component::encoder::v1::*;
use std::sync::Arc;
use tonic::{Request, Response, Status};

struct EncoderApi<R>(Arc<R>);

pub(super) fn server<R: Resources>(r: Arc<R>) -> EncoderServiceServer<impl EncoderService> {
    EncoderServiceServer::new(EncoderApi(r))
}

fn unit(p: Option<i32>) -> Result<Unit, Status> {
    match p.map(PositionType::try_from) {
        None | Some(Ok(PositionType::Unspecified)) => Ok(Unit::Unspecified),
        Some(Ok(PositionType::TicksCount)) => Ok(Unit::Ticks),
        Some(Ok(PositionType::AngleDegrees)) => Ok(Unit::Degrees),
        Some(Err(e)) => Err(Status::invalid_argument(format!(
            "position_type: {e}; use POSITION_TYPE_TICKS_COUNT or POSITION_TYPE_ANGLE_DEGREES"
        ))),
    }
}

#[tonic::async_trait]
impl<R: Resources> EncoderService for EncoderApi<R> {
    async fn get_position(&self, req: Request<GetPositionRequest>) -> Reply<GetPositionResponse> {
        let r = req.into_inner();
        let wanted = unit(r.position_type)?;
        let encoder = self.0.find::<Encoder>(&r.name)?;
        let p = encoder.call(move |e| e.position(wanted)).await?;
        let position_type = match p.unit {
            Unit::Unspecified => PositionType::Unspecified,
            Unit::Ticks => PositionType::TicksCount,
            Unit::Degrees => PositionType::AngleDegrees,
        };
        Ok(Response::new(GetPositionResponse {
            value: p.value as f32,
            position_type: position_type as i32,
        }))
    }

    async fn reset_position(
        &self,
        req: Request<ResetPositionRequest>,
    ) -> Reply<ResetPositionResponse> {
        let encoder = self.0.find::<Encoder>(&req.get_ref().name)?;
        encoder.call(|e| e.reset_position()).await?;
        Ok(Response::new(ResetPositionResponse {}))
    }

    async fn get_properties(
        &self,
        req: Request<GetPropertiesRequest>,
    ) -> Reply<GetPropertiesResponse> {
        let encoder = self.0.find::<Encoder>(&req.get_ref().name)?;
        let (ticks, degrees) = encoder.call(|e| e.properties()).await?;
        Ok(Response::new(GetPropertiesResponse {
            ticks_count_supported: ticks,
            angle_degrees_supported: degrees,
        }))
    }

    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        super::do_command::<Encoder, R>(&self.0, req).await
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::get_status::<Encoder, R>(&self.0, req).await
    }

    async fn get_geometries(
        &self,
        req: Request<common::GetGeometriesRequest>,
    ) -> Reply<common::GetGeometriesResponse> {
        super::get_geometries::<Encoder, R>(&self.0, req)
    }
}
