//! `viam.component.camera.v1.CameraService`.

use super::{Reply, Resources};
use crate::host::kind::Camera;
use axle_proto::common;
use axle_proto::viam::component::camera::v1::camera_service_server::{
    CameraService, CameraServiceServer,
};
use axle_proto::viam::component::camera::v1::*;
use std::sync::Arc;
use std::time::SystemTime;
use tonic::{Request, Response, Status};

struct CameraApi<R>(Arc<R>);

pub(super) fn server<R: Resources>(r: Arc<R>) -> CameraServiceServer<impl CameraService> {
    CameraServiceServer::new(CameraApi(r))
}

#[tonic::async_trait]
impl<R: Resources> CameraService for CameraApi<R> {
    async fn get_images(&self, req: Request<GetImagesRequest>) -> Reply<GetImagesResponse> {
        let r = req.into_inner();
        let camera = self.0.find::<Camera>(&r.name)?;
        let sources = r.filter_source_names;
        let images = camera.call(move |c| c.images(&sources)).await?;
        Ok(Response::new(GetImagesResponse {
            images: images
                .into_iter()
                .map(|i| Image {
                    source_name: i.source_name,
                    image: i.bytes,
                    mime_type: i.mime_type,
                    ..Default::default()
                })
                .collect(),
            response_metadata: Some(common::ResponseMetadata {
                captured_at: Some(super::convert::timestamp(SystemTime::now())),
            }),
        }))
    }

    async fn get_point_cloud(
        &self,
        req: Request<GetPointCloudRequest>,
    ) -> Reply<GetPointCloudResponse> {
        self.0.find::<Camera>(&req.get_ref().name)?;
        Err(Status::unimplemented(
            "this camera has no point clouds (GetProperties says supports_pcd: false)",
        ))
    }

    async fn get_properties(
        &self,
        req: Request<GetPropertiesRequest>,
    ) -> Reply<GetPropertiesResponse> {
        let camera = self.0.find::<Camera>(&req.get_ref().name)?;
        let p = camera.call(|c| c.properties()).await?;
        Ok(Response::new(GetPropertiesResponse {
            supports_pcd: false,
            intrinsic_parameters: Some(IntrinsicParameters {
                width_px: p.width_px,
                height_px: p.height_px,
                focal_x_px: p.focal_px.0,
                focal_y_px: p.focal_px.1,
                center_x_px: p.center_px.0,
                center_y_px: p.center_px.1,
            }),
            mime_types: p.mime_types,
            frame_rate: p.frame_rate,
            ..Default::default()
        }))
    }

    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        super::do_command::<Camera, R>(&self.0, req).await
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::get_status::<Camera, R>(&self.0, req).await
    }

    async fn get_geometries(
        &self,
        req: Request<common::GetGeometriesRequest>,
    ) -> Reply<common::GetGeometriesResponse> {
        super::get_geometries::<Camera, R>(&self.0, req)
    }
}
