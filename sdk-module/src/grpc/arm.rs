//! `viam.component.arm.v1.ArmService`.

use super::{Reply, Resources, convert};
use crate::host::kind::Arm;
use crate::{Pose, ResourceError, validate};
use axle_proto::common;
use axle_proto::viam::component::arm::v1::arm_service_server::{ArmService, ArmServiceServer};
use axle_proto::viam::component::arm::v1::*;
use std::pin::Pin;
use std::sync::Arc;
use tonic::{Request, Response, Status, Streaming};

struct ArmApi<R>(Arc<R>);

pub(super) fn server<R: Resources>(r: Arc<R>) -> ArmServiceServer<impl ArmService> {
    ArmServiceServer::new(ArmApi(r))
}

fn joints(what: &str, p: Option<JointPositions>) -> Result<Vec<f64>, ResourceError> {
    let p = p.ok_or_else(|| ResourceError::invalid(format!("{what} is missing")))?;
    validate::finite_all(&format!("{what}.values"), p.values)
}

fn pose(p: Option<common::Pose>) -> Result<Pose, ResourceError> {
    let p = p.ok_or_else(|| ResourceError::invalid("to (the pose to move to) is missing"))?;
    let pose = convert::pose(Some(p));
    for (what, v) in [
        ("to.x", pose.x),
        ("to.y", pose.y),
        ("to.z", pose.z),
        ("to.o_x", pose.o_x),
        ("to.o_y", pose.o_y),
        ("to.o_z", pose.o_z),
        ("to.theta", pose.theta),
    ] {
        validate::finite(what, v)?;
    }
    Ok(pose)
}

type AckStream = Pin<
    Box<
        dyn futures::Stream<Item = Result<MoveThroughJointPositionsStreamedResponse, Status>>
            + Send,
    >,
>;

#[tonic::async_trait]
impl<R: Resources> ArmService for ArmApi<R> {
    async fn get_end_position(
        &self,
        req: Request<GetEndPositionRequest>,
    ) -> Reply<GetEndPositionResponse> {
        let arm = self.0.find::<Arm>(&req.get_ref().name)?;
        let pose = arm.call(|a| a.end_position()).await?;
        Ok(Response::new(GetEndPositionResponse {
            pose: Some(convert::to_pose(pose)),
        }))
    }

    async fn move_to_position(
        &self,
        req: Request<MoveToPositionRequest>,
    ) -> Reply<MoveToPositionResponse> {
        let r = req.into_inner();
        let to = pose(r.to)?;
        let arm = self.0.find::<Arm>(&r.name)?;
        arm.run("MoveToPosition", move |a| a.move_to_position(to))
            .await?;
        Ok(Response::new(MoveToPositionResponse {}))
    }

    async fn get_joint_positions(
        &self,
        req: Request<GetJointPositionsRequest>,
    ) -> Reply<GetJointPositionsResponse> {
        let arm = self.0.find::<Arm>(&req.get_ref().name)?;
        let values = arm.call(|a| a.joint_positions()).await?;
        Ok(Response::new(GetJointPositionsResponse {
            positions: Some(JointPositions { values }),
        }))
    }

    async fn move_to_joint_positions(
        &self,
        req: Request<MoveToJointPositionsRequest>,
    ) -> Reply<MoveToJointPositionsResponse> {
        let r = req.into_inner();
        let to = joints("positions", r.positions)?;
        let arm = self.0.find::<Arm>(&r.name)?;
        arm.run("MoveToJointPositions", move |a| {
            a.move_to_joint_positions(to)
        })
        .await?;
        Ok(Response::new(MoveToJointPositionsResponse {}))
    }

    async fn move_through_joint_positions(
        &self,
        req: Request<MoveThroughJointPositionsRequest>,
    ) -> Reply<MoveThroughJointPositionsResponse> {
        let r = req.into_inner();
        let path = r
            .positions
            .into_iter()
            .enumerate()
            .map(|(i, p)| joints(&format!("positions[{i}]"), Some(p)))
            .collect::<Result<Vec<_>, _>>()?;
        let arm = self.0.find::<Arm>(&r.name)?;
        arm.run("MoveThroughJointPositions", move |a| {
            a.move_through_joint_positions(path)
        })
        .await?;
        Ok(Response::new(MoveThroughJointPositionsResponse {}))
    }

    type MoveThroughJointPositionsStreamedStream = AckStream;

    async fn move_through_joint_positions_streamed(
        &self,
        _: Request<Streaming<MoveThroughJointPositionsStreamedRequest>>,
    ) -> Reply<AckStream> {
        Err(Status::unimplemented(
            "streamed trajectories are not supported by axle's arms; use MoveThroughJointPositions",
        ))
    }

    async fn stop(&self, req: Request<StopRequest>) -> Reply<StopResponse> {
        self.0
            .find::<Arm>(&req.get_ref().name)?
            .stop("Stop")
            .await?;
        Ok(Response::new(StopResponse {}))
    }

    async fn is_moving(&self, req: Request<IsMovingRequest>) -> Reply<IsMovingResponse> {
        let is_moving = self.0.find::<Arm>(&req.get_ref().name)?.is_moving().await?;
        Ok(Response::new(IsMovingResponse { is_moving }))
    }

    async fn get_kinematics(
        &self,
        req: Request<common::GetKinematicsRequest>,
    ) -> Reply<common::GetKinematicsResponse> {
        let arm = self.0.find::<Arm>(&req.get_ref().name)?;
        super::kinematics_response(arm.call(|a| a.kinematics()).await?)
    }

    async fn get3_d_models(
        &self,
        req: Request<common::Get3DModelsRequest>,
    ) -> Reply<common::Get3DModelsResponse> {
        self.0.find::<Arm>(&req.get_ref().name)?;
        Ok(Response::new(common::Get3DModelsResponse::default()))
    }

    async fn set_manual_mode(
        &self,
        req: Request<SetManualModeRequest>,
    ) -> Reply<SetManualModeResponse> {
        self.0.find::<Arm>(&req.get_ref().name)?;
        Err(Status::unimplemented("this arm has no manual mode"))
    }

    async fn get_manual_mode(
        &self,
        req: Request<GetManualModeRequest>,
    ) -> Reply<GetManualModeResponse> {
        self.0.find::<Arm>(&req.get_ref().name)?;
        Ok(Response::new(GetManualModeResponse { manual_mode: false }))
    }

    async fn get_properties(
        &self,
        req: Request<GetPropertiesRequest>,
    ) -> Reply<GetPropertiesResponse> {
        self.0.find::<Arm>(&req.get_ref().name)?;
        Ok(Response::new(GetPropertiesResponse {
            support_manual_mode: false,
            support_cartesian_commands: true,
        }))
    }

    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        super::do_command::<Arm, R>(&self.0, req).await
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::get_status::<Arm, R>(&self.0, req).await
    }

    async fn get_geometries(
        &self,
        req: Request<common::GetGeometriesRequest>,
    ) -> Reply<common::GetGeometriesResponse> {
        super::get_geometries::<Arm, R>(&self.0, req)
    }
}
