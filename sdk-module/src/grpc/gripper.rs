//! `viam.component.gripper.v1.GripperService`.

use super::{Reply, Resources};
use crate::host::kind::Gripper;
use crate::validate;
use axle_proto::common;
use axle_proto::viam::component::gripper::v1::gripper_service_server::{
    GripperService, GripperServiceServer,
};
use axle_proto::viam::component::gripper::v1::*;
use std::sync::Arc;
use tonic::{Request, Response};

struct GripperApi<R>(Arc<R>);

pub(super) fn server<R: Resources>(r: Arc<R>) -> GripperServiceServer<impl GripperService> {
    GripperServiceServer::new(GripperApi(r))
}

#[tonic::async_trait]
impl<R: Resources> GripperService for GripperApi<R> {
    async fn open(&self, req: Request<OpenRequest>) -> Reply<OpenResponse> {
        let gripper = self.0.find::<Gripper>(&req.get_ref().name)?;
        gripper.run("Open", |g| g.open()).await?;
        Ok(Response::new(OpenResponse {}))
    }

    async fn grab(&self, req: Request<GrabRequest>) -> Reply<GrabResponse> {
        let gripper = self.0.find::<Gripper>(&req.get_ref().name)?;
        gripper.run("Grab", |g| g.grab()).await?;
        let success = gripper.call(|g| g.is_holding_something()).await?;
        Ok(Response::new(GrabResponse {
            success,
            extra: None,
        }))
    }

    async fn stop(&self, req: Request<StopRequest>) -> Reply<StopResponse> {
        self.0
            .find::<Gripper>(&req.get_ref().name)?
            .stop("Stop")
            .await?;
        Ok(Response::new(StopResponse {}))
    }

    async fn is_moving(&self, req: Request<IsMovingRequest>) -> Reply<IsMovingResponse> {
        let is_moving = self
            .0
            .find::<Gripper>(&req.get_ref().name)?
            .is_moving()
            .await?;
        Ok(Response::new(IsMovingResponse { is_moving }))
    }

    async fn is_holding_something(
        &self,
        req: Request<IsHoldingSomethingRequest>,
    ) -> Reply<IsHoldingSomethingResponse> {
        let gripper = self.0.find::<Gripper>(&req.get_ref().name)?;
        let is_holding_something = gripper.call(|g| g.is_holding_something()).await?;
        Ok(Response::new(IsHoldingSomethingResponse {
            is_holding_something,
            meta: None,
        }))
    }

    async fn get_current_inputs(
        &self,
        req: Request<GetCurrentInputsRequest>,
    ) -> Reply<GetCurrentInputsResponse> {
        let gripper = self.0.find::<Gripper>(&req.get_ref().name)?;
        let values = gripper.call(|g| g.current_inputs()).await?;
        Ok(Response::new(GetCurrentInputsResponse { values }))
    }

    async fn go_to_inputs(&self, req: Request<GoToInputsRequest>) -> Reply<GoToInputsResponse> {
        let r = req.into_inner();
        let values = validate::finite_all("values", r.values)?;
        let gripper = self.0.find::<Gripper>(&r.name)?;
        gripper
            .run("GoToInputs", move |g| g.go_to_inputs(values))
            .await?;
        Ok(Response::new(GoToInputsResponse {}))
    }

    async fn get_kinematics(
        &self,
        req: Request<common::GetKinematicsRequest>,
    ) -> Reply<common::GetKinematicsResponse> {
        let gripper = self.0.find::<Gripper>(&req.get_ref().name)?;
        super::kinematics_response(gripper.call(|g| g.kinematics()).await?)
    }

    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        super::do_command::<Gripper, R>(&self.0, req).await
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::get_status::<Gripper, R>(&self.0, req).await
    }

    async fn get_geometries(
        &self,
        req: Request<common::GetGeometriesRequest>,
    ) -> Reply<common::GetGeometriesResponse> {
        super::get_geometries::<Gripper, R>(&self.0, req)
    }
}
