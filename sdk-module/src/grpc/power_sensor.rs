//! `viam.component.powersensor.v1.PowerSensorService`.

use super::{Reply, Resources};
use crate::host::kind::PowerSensor;
use axle_proto::common;
use axle_proto::viam::component::powersensor::v1::power_sensor_service_server::{
    PowerSensorService, PowerSensorServiceServer,
};
use axle_proto::viam::component::powersensor::v1::*;
use serde_json::json;
use std::sync::Arc;
use tonic::{Request, Response};

struct PowerSensorApi<R>(Arc<R>);

pub(super) fn server<R: Resources>(r: Arc<R>) -> PowerSensorServiceServer<impl PowerSensorService> {
    PowerSensorServiceServer::new(PowerSensorApi(r))
}

#[tonic::async_trait]
impl<R: Resources> PowerSensorService for PowerSensorApi<R> {
    async fn get_voltage(&self, req: Request<GetVoltageRequest>) -> Reply<GetVoltageResponse> {
        let sensor = self.0.find::<PowerSensor>(&req.get_ref().name)?;
        let (volts, is_ac) = sensor.call(|s| s.voltage()).await?;
        Ok(Response::new(GetVoltageResponse { volts, is_ac }))
    }

    async fn get_current(&self, req: Request<GetCurrentRequest>) -> Reply<GetCurrentResponse> {
        let sensor = self.0.find::<PowerSensor>(&req.get_ref().name)?;
        let (amperes, is_ac) = sensor.call(|s| s.current()).await?;
        Ok(Response::new(GetCurrentResponse { amperes, is_ac }))
    }

    async fn get_power(&self, req: Request<GetPowerRequest>) -> Reply<GetPowerResponse> {
        let sensor = self.0.find::<PowerSensor>(&req.get_ref().name)?;
        let watts = sensor.call(|s| s.power()).await?;
        Ok(Response::new(GetPowerResponse { watts }))
    }

    /// As upstream: voltage, current and power under their names.
    async fn get_readings(
        &self,
        req: Request<common::GetReadingsRequest>,
    ) -> Reply<common::GetReadingsResponse> {
        let sensor = self.0.find::<PowerSensor>(&req.get_ref().name)?;
        let (volts, amps, watts, is_ac) = sensor
            .call(|s| Ok((s.voltage()?, s.current()?, s.power()?)))
            .await
            .map(|(v, a, w)| (v.0, a.0, w, v.1))?;
        let readings = json!({"volts": volts, "amps": amps, "watts": watts, "is_ac": is_ac});
        super::readings_response(readings.as_object().cloned().unwrap_or_default())
    }

    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        super::do_command::<PowerSensor, R>(&self.0, req).await
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::get_status::<PowerSensor, R>(&self.0, req).await
    }
}
