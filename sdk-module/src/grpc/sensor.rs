//! `viam.component.sensor.v1.SensorService`.

use super::{Reply, Resources};
use crate::host::kind::Sensor;
use axle_proto::common;
use axle_proto::viam::component::sensor::v1::sensor_service_server::{
    SensorService, SensorServiceServer,
};
use std::sync::Arc;
use tonic::Request;

struct SensorApi<R>(Arc<R>);

pub(super) fn server<R: Resources>(r: Arc<R>) -> SensorServiceServer<impl SensorService> {
    SensorServiceServer::new(SensorApi(r))
}

#[tonic::async_trait]
impl<R: Resources> SensorService for SensorApi<R> {
    async fn get_readings(
        &self,
        req: Request<common::GetReadingsRequest>,
    ) -> Reply<common::GetReadingsResponse> {
        let sensor = self.0.find::<Sensor>(&req.get_ref().name)?;
        super::readings_response(sensor.call(|s| s.readings()).await?)
    }

    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        super::do_command::<Sensor, R>(&self.0, req).await
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::get_status::<Sensor, R>(&self.0, req).await
    }

    async fn get_geometries(
        &self,
        req: Request<common::GetGeometriesRequest>,
    ) -> Reply<common::GetGeometriesResponse> {
        super::get_geometries::<Sensor, R>(&self.0, req)
    }
}
