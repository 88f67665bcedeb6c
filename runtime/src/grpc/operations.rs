//! Operations: every unary resource call in flight, as RobotService's
//! GetOperations lists them, CancelOperation ends them and
//! BlockForOperation waits for them.
//!
//! `OperationsLayer` registers each call as it enters and removes it when it
//! ends, however it ends (answered, failed, its caller gone). Cancelling
//! drops the call's future, exactly as a caller hanging up does: a motion
//! whose caller is gone is stopped by the resource's own guard. The request
//! is kept as bytes and decoded only when GetOperations asks, so a call pays
//! for a table insert and remove, not for a decode.

use axle_wire::descriptors;
use axle_wire::frame;
use axle_wire::named::read_first;
use bytes::Bytes;
use futures::future::{AbortHandle, Abortable, BoxFuture, Either};
use http::{Request, Response};
use prost_reflect::{DynamicMessage, MethodDescriptor, SerializeOptions};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::SystemTime;
use tokio::sync::watch;
use tonic::Status;
use tonic::body::Body;
use tower::{Layer, Service};
use uuid::Uuid;

/// One call in flight, as GetOperations shows it.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Its id (a UUID).
    pub id: String,
    /// Its gRPC path, `/viam.component.motor.v1.MotorService/GoFor`.
    pub method: String,
    /// Its request, as JSON with the proto's field names.
    pub arguments: serde_json::Value,
    /// When it began.
    pub started: SystemTime,
    /// The session it runs under (`viam-sid`), if any.
    pub session: Option<String>,
}

struct Running {
    method: MethodDescriptor,
    request: Bytes,
    started: SystemTime,
    session: Option<String>,
    abort: AbortHandle,
    ended: watch::Receiver<bool>,
}

/// The calls in flight.
#[derive(Default)]
pub struct Operations {
    running: Mutex<HashMap<String, Running>>,
}

impl Operations {
    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every call in flight, oldest first.
    pub fn list(&self) -> Vec<Operation> {
        let mut ops: Vec<Operation> = self
            .table()
            .iter()
            .map(|(id, r)| Operation {
                id: id.clone(),
                method: format!(
                    "/{}/{}",
                    r.method.parent_service().full_name(),
                    r.method.name()
                ),
                arguments: arguments(&r.method, &r.request),
                started: r.started,
                session: r.session.clone(),
            })
            .collect();
        ops.sort_by_key(|o| o.started);
        ops
    }

    /// Ends call `id` as if its caller had gone; false if there is none.
    pub fn cancel(&self, id: &str) -> bool {
        self.table().get(id).map(|r| r.abort.abort()).is_some()
    }

    /// Returns once call `id` has ended (at once if there is none).
    pub async fn block_for(&self, id: &str) {
        let ended = self.table().get(id).map(|r| r.ended.clone());
        if let Some(mut ended) = ended {
            let _ = ended.wait_for(|done| *done).await;
        }
    }

    fn begin(self: &Arc<Self>, running: Running) -> Ending {
        let id = Uuid::new_v4().to_string();
        self.table().insert(id.clone(), running);
        Ending {
            operations: self.clone(),
            id,
        }
    }
}

/// Removes a call from the table when it ends, however it ends, and wakes
/// whoever blocks for it (dropping the sender does).
struct Ending {
    operations: Arc<Operations>,
    id: String,
}

impl Drop for Ending {
    fn drop(&mut self) {
        self.operations.table().remove(&self.id);
    }
}

/// The request as JSON, with the proto's field names; null if it does not
/// decode (it was refused as malformed then anyway).
fn arguments(method: &MethodDescriptor, request: &Bytes) -> serde_json::Value {
    let Some(message) = frame::uncompressed(request) else {
        return serde_json::Value::Null;
    };
    let Ok(decoded) = DynamicMessage::decode(method.input(), message.message) else {
        return serde_json::Value::Null;
    };
    let options = SerializeOptions::new().use_proto_field_name(true);
    decoded
        .serialize_with_options(serde_json::value::Serializer, &options)
        .unwrap_or_default()
}

/// A resource API's unary method, as our protos describe it.
fn unary_resource_method(path: &str) -> Option<MethodDescriptor> {
    if !(path.starts_with("/viam.component.") || path.starts_with("/viam.service.")) {
        return None;
    }
    descriptors::method(path).filter(|m| !m.is_client_streaming() && !m.is_server_streaming())
}

/// Registers every unary resource call in [`Operations`].
#[derive(Clone)]
pub struct OperationsLayer(pub Arc<Operations>);

impl<S> Layer<S> for OperationsLayer {
    type Service = OperationsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OperationsService {
            inner,
            operations: self.0.clone(),
        }
    }
}

/// The service [`OperationsLayer`] wraps.
#[derive(Clone)]
pub struct OperationsService<S> {
    inner: S,
    operations: Arc<Operations>,
}

impl<S> Service<Request<Body>> for OperationsService<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response<Body>, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let Some(method) = unary_resource_method(req.uri().path()) else {
            return Either::Left(self.inner.call(req));
        };
        let clone = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, clone);
        let operations = self.operations.clone();
        Either::Right(Box::pin(async move {
            let (parts, body) = req.into_parts();
            let opened = match read_first(body).await {
                Ok(opened) => opened,
                Err(status) => return Ok(status.into_http()),
            };
            let session = parts
                .headers
                .get(crate::sessions::layer::SID_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let (abort, registration) = AbortHandle::new_pair();
            let (ended_tx, ended) = watch::channel(false);
            let _ending = operations.begin(Running {
                method,
                request: opened.first.clone(),
                started: SystemTime::now(),
                session,
                abort,
                ended,
            });
            let call = ready.call(Request::from_parts(parts, opened.into_body()));
            let answer = match Abortable::new(call, registration).await {
                Ok(answer) => answer,
                Err(_) => Ok(
                    Status::cancelled("the operation was cancelled (CancelOperation)").into_http(),
                ),
            };
            let _ = ended_tx.send(true);
            answer
        }))
    }
}
