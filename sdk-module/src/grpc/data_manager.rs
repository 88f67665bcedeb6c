//! `viam.service.datamanager.v1.DataManagerService`.

use super::{Reply, Resources};
use crate::host::kind::DataManager;
use axle_proto::common;
use axle_proto::viam::service::datamanager::v1 as dm;
use dm::data_manager_service_server::{DataManagerService, DataManagerServiceServer};
use std::sync::Arc;
use tonic::{Request, Response, Status};

struct DataManagerApi<R>(Arc<R>);

pub(super) fn server<R: Resources>(r: Arc<R>) -> DataManagerServiceServer<impl DataManagerService> {
    DataManagerServiceServer::new(DataManagerApi(r))
}

#[tonic::async_trait]
impl<R: Resources> DataManagerService for DataManagerApi<R> {
    /// Answers when the pass has finished (upstream answers once files are
    /// queued), so a caller knows what it asked for has been tried.
    async fn sync(&self, req: Request<dm::SyncRequest>) -> Reply<dm::SyncResponse> {
        let manager = self.0.find::<DataManager>(&req.get_ref().name)?;
        manager.call(|d| Ok(d.sync())).await?.await?;
        Ok(Response::new(dm::SyncResponse {}))
    }

    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        super::do_command::<DataManager, R>(&self.0, req).await
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::get_status::<DataManager, R>(&self.0, req).await
    }

    async fn upload_binary_data_to_datasets(
        &self,
        _req: Request<dm::UploadBinaryDataToDatasetsRequest>,
    ) -> Reply<dm::UploadBinaryDataToDatasetsResponse> {
        Err(Status::unimplemented(
            "UploadBinaryDataToDatasets adds to datasets in Viam's cloud, which axle does not use; \
             capture the data with a capture method and it syncs to the configured sync_target",
        ))
    }
}
