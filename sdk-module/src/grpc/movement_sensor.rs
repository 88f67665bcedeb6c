//! `viam.component.movementsensor.v1.MovementSensorService`.

use super::{Reply, Resources, convert};
use crate::host::kind::MovementSensor;
use axle_proto::common;
use axle_proto::viam::component::movementsensor::v1::movement_sensor_service_server::{
    MovementSensorService, MovementSensorServiceServer,
};
use axle_proto::viam::component::movementsensor::v1::*;
use serde_json::{Value, json};
use std::sync::Arc;
use tonic::{Request, Response};

struct MovementSensorApi<R>(Arc<R>);

pub(super) fn server<R: Resources>(
    r: Arc<R>,
) -> MovementSensorServiceServer<impl MovementSensorService> {
    MovementSensorServiceServer::new(MovementSensorApi(r))
}

fn vector(v: crate::Vector3) -> Value {
    json!({"x": v.x, "y": v.y, "z": v.z})
}

#[tonic::async_trait]
impl<R: Resources> MovementSensorService for MovementSensorApi<R> {
    async fn get_linear_velocity(
        &self,
        req: Request<GetLinearVelocityRequest>,
    ) -> Reply<GetLinearVelocityResponse> {
        let s = self.0.find::<MovementSensor>(&req.get_ref().name)?;
        let v = s.call(|s| s.linear_velocity()).await?;
        Ok(Response::new(GetLinearVelocityResponse {
            linear_velocity: Some(convert::to_vector(v)),
        }))
    }

    async fn get_angular_velocity(
        &self,
        req: Request<GetAngularVelocityRequest>,
    ) -> Reply<GetAngularVelocityResponse> {
        let s = self.0.find::<MovementSensor>(&req.get_ref().name)?;
        let v = s.call(|s| s.angular_velocity()).await?;
        Ok(Response::new(GetAngularVelocityResponse {
            angular_velocity: Some(convert::to_vector(v)),
        }))
    }

    async fn get_linear_acceleration(
        &self,
        req: Request<GetLinearAccelerationRequest>,
    ) -> Reply<GetLinearAccelerationResponse> {
        let s = self.0.find::<MovementSensor>(&req.get_ref().name)?;
        let v = s.call(|s| s.linear_acceleration()).await?;
        Ok(Response::new(GetLinearAccelerationResponse {
            linear_acceleration: Some(convert::to_vector(v)),
        }))
    }

    async fn get_compass_heading(
        &self,
        req: Request<GetCompassHeadingRequest>,
    ) -> Reply<GetCompassHeadingResponse> {
        let s = self.0.find::<MovementSensor>(&req.get_ref().name)?;
        let value = s.call(|s| s.compass_heading()).await?;
        Ok(Response::new(GetCompassHeadingResponse { value }))
    }

    async fn get_orientation(
        &self,
        req: Request<GetOrientationRequest>,
    ) -> Reply<GetOrientationResponse> {
        let s = self.0.find::<MovementSensor>(&req.get_ref().name)?;
        let o = s.call(|s| s.orientation()).await?;
        Ok(Response::new(GetOrientationResponse {
            orientation: Some(convert::to_orientation(o)),
        }))
    }

    async fn get_position(&self, req: Request<GetPositionRequest>) -> Reply<GetPositionResponse> {
        let s = self.0.find::<MovementSensor>(&req.get_ref().name)?;
        let (point, altitude) = s.call(|s| s.position()).await?;
        Ok(Response::new(GetPositionResponse {
            coordinate: Some(convert::to_geo_point(point)),
            altitude_m: altitude as f32,
        }))
    }

    async fn get_properties(
        &self,
        req: Request<GetPropertiesRequest>,
    ) -> Reply<GetPropertiesResponse> {
        let s = self.0.find::<MovementSensor>(&req.get_ref().name)?;
        let p = s.call(|s| s.properties()).await?;
        Ok(Response::new(GetPropertiesResponse {
            linear_velocity_supported: p.linear_velocity,
            angular_velocity_supported: p.angular_velocity,
            orientation_supported: p.orientation,
            position_supported: p.position,
            compass_heading_supported: p.compass_heading,
            linear_acceleration_supported: p.linear_acceleration,
        }))
    }

    async fn get_accuracy(&self, req: Request<GetAccuracyRequest>) -> Reply<GetAccuracyResponse> {
        let s = self.0.find::<MovementSensor>(&req.get_ref().name)?;
        let accuracy = s
            .call(|s| s.accuracy())
            .await?
            .into_iter()
            .filter_map(|(k, v)| v.as_f64().map(|v| (k, v as f32)))
            .collect();
        Ok(Response::new(GetAccuracyResponse {
            accuracy,
            ..Default::default()
        }))
    }

    /// As upstream: every supported reading under its Python SDK name.
    async fn get_readings(
        &self,
        req: Request<common::GetReadingsRequest>,
    ) -> Reply<common::GetReadingsResponse> {
        let s = self.0.find::<MovementSensor>(&req.get_ref().name)?;
        let readings = s
            .call(|s| {
                let p = s.properties()?;
                let mut r = serde_json::Map::new();
                if p.position {
                    let (at, altitude) = s.position()?;
                    r.insert(
                        "position".into(),
                        json!({"latitude": at.latitude, "longitude": at.longitude}),
                    );
                    r.insert("altitude".into(), json!(altitude));
                }
                if p.linear_velocity {
                    r.insert("linear_velocity".into(), vector(s.linear_velocity()?));
                }
                if p.angular_velocity {
                    r.insert("angular_velocity".into(), vector(s.angular_velocity()?));
                }
                if p.linear_acceleration {
                    r.insert(
                        "linear_acceleration".into(),
                        vector(s.linear_acceleration()?),
                    );
                }
                if p.compass_heading {
                    r.insert("compass".into(), json!(s.compass_heading()?));
                }
                if p.orientation {
                    let o = s.orientation()?;
                    r.insert(
                        "orientation".into(),
                        json!({"o_x": o.o_x, "o_y": o.o_y, "o_z": o.o_z, "theta": o.theta}),
                    );
                }
                Ok(r)
            })
            .await?;
        super::readings_response(readings)
    }

    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        super::do_command::<MovementSensor, R>(&self.0, req).await
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::get_status::<MovementSensor, R>(&self.0, req).await
    }

    async fn get_geometries(
        &self,
        req: Request<common::GetGeometriesRequest>,
    ) -> Reply<common::GetGeometriesResponse> {
        super::get_geometries::<MovementSensor, R>(&self.0, req)
    }
}
