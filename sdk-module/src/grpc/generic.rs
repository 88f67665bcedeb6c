//! `viam.component.generic.v1.GenericService`,
//! `viam.service.generic.v1.GenericService` and
//! `viam.service.baseremotecontrol.v1.BaseRemoteControlService`: DoCommand
//! and GetStatus.

use super::{Reply, Resources};
use crate::host::kind::{BaseRemoteControl, Generic, GenericService};
use axle_proto::common;
use axle_proto::viam::component::generic::v1::generic_service_server as component;
use axle_proto::viam::service::baseremotecontrol::v1::base_remote_control_service_server as remote;
use axle_proto::viam::service::generic::v1::generic_service_server as service;
use std::sync::Arc;
use tonic::Request;

struct GenericApi<R>(Arc<R>);

pub(super) fn component_server<R: Resources>(
    r: Arc<R>,
) -> component::GenericServiceServer<impl component::GenericService> {
    component::GenericServiceServer::new(GenericApi(r))
}

pub(super) fn service_server<R: Resources>(
    r: Arc<R>,
) -> service::GenericServiceServer<impl service::GenericService> {
    service::GenericServiceServer::new(GenericApi(r))
}

pub(super) fn remote_control_server<R: Resources>(
    r: Arc<R>,
) -> remote::BaseRemoteControlServiceServer<impl remote::BaseRemoteControlService> {
    remote::BaseRemoteControlServiceServer::new(GenericApi(r))
}

#[tonic::async_trait]
impl<R: Resources> remote::BaseRemoteControlService for GenericApi<R> {
    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        super::do_command::<BaseRemoteControl, R>(&self.0, req).await
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::get_status::<BaseRemoteControl, R>(&self.0, req).await
    }
}

#[tonic::async_trait]
impl<R: Resources> component::GenericService for GenericApi<R> {
    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        super::do_command::<Generic, R>(&self.0, req).await
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::get_status::<Generic, R>(&self.0, req).await
    }

    async fn get_geometries(
        &self,
        req: Request<common::GetGeometriesRequest>,
    ) -> Reply<common::GetGeometriesResponse> {
        super::get_geometries::<Generic, R>(&self.0, req)
    }
}

#[tonic::async_trait]
impl<R: Resources> service::GenericService for GenericApi<R> {
    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        super::do_command::<GenericService, R>(&self.0, req).await
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::get_status::<GenericService, R>(&self.0, req).await
    }
}
