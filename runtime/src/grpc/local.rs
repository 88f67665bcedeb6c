//! The robot's own API, called from inside the process: services that read
//! other resources (data capture) make the same call a client would, by
//! resource name, and reach a built-in resource, a module's or a sub-part's
//! alike. The calls skip authentication and sessions, which guard the
//! robot's clients, not its own services.

use super::route::RouteLayer;
use crate::robot::Robot;
use crate::webrtc::CallService;
use bytes::{Buf, BufMut, Bytes};
use std::sync::Arc;
use std::time::Duration;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::service::Routes;
use tower::Layer;
use tower::util::BoxCloneSyncService;

/// A channel to the robot's services, in process.
#[derive(Clone)]
pub struct LocalCalls {
    service: CallService,
}

impl LocalCalls {
    /// Calls on `robot`.
    pub fn new(robot: Arc<Robot>) -> Self {
        let routes = axle_sdk_module::grpc::add_services(Routes::default(), robot.clone());
        let service = RouteLayer::new(robot).layer(routes);
        Self {
            service: BoxCloneSyncService::new(service),
        }
    }

    /// One unary call of `path` (`/package.Service/Method`) with an encoded
    /// request, answered or failed within `timeout`. The answer comes back
    /// encoded, for the caller to read with the type it knows.
    pub async fn unary_raw(
        &self,
        path: &str,
        request: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, Status> {
        let mut grpc = tonic::client::Grpc::new(self.service.clone());
        let path = http::uri::PathAndQuery::try_from(path)
            .map_err(|e| Status::internal(format!("bad path {path:?}: {e}")))?;
        let call = async move {
            grpc.ready()
                .await
                .map_err(|e| Status::unavailable(format!("the robot's services: {e}")))?;
            grpc.unary(tonic::Request::new(request), path, RawCodec)
                .await
        };
        tokio::time::timeout(timeout, call)
            .await
            .map_err(|_| Status::deadline_exceeded(format!("no answer within {timeout:?}")))?
            .map(tonic::Response::into_inner)
    }
}

/// Messages as bytes, neither encoded nor decoded.
#[derive(Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = Self;
    type Decoder = Self;

    fn encoder(&mut self) -> Self {
        Self
    }

    fn decoder(&mut self) -> Self {
        Self
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}
