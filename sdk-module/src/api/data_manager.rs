use crate::{Resource, ResourceError};
use futures::future::BoxFuture;

/// A sync pass in progress: it resolves when the pass has finished, so the
/// driver's actor is free while files upload.
pub type SyncPass = BoxFuture<'static, Result<(), ResourceError>>;

/// The `rdk:service:data_manager` API: captures readings to disk and syncs
/// them to a store.
pub trait DataManager: Resource {
    /// Sync: starts a pass now. The returned future ends with the pass.
    fn sync(&mut self) -> SyncPass;
}
