//! What a module process serves on its socket: `ModuleService` (Ready and
//! the resource lifecycle) and the resource APIs of the resources it hosts.

use super::dependencies::Dependencies;
use super::logs::LogSink;
use super::{Registration, ResourceConfig};
use crate::client::{Options, RobotClient, SID_HEADER};
use crate::grpc::Resources;
use crate::grpc::convert::from_struct;
use crate::host::{Kind, ResourceHandle, caller, stop_together};
use crate::{Api, Attributes, Model, validate_name};
use actix::Arbiter;
use axle_proto::app::ComponentConfig;
use axle_proto::common::ResourceName;
use axle_proto::module::module_service_server::{ModuleService, ModuleServiceServer};
use axle_proto::module::*;
use axle_proto::robot::ResourceRpcSubtype;
use futures::future::BoxFuture;
use http::{Request, Response};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::UnixListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Mutex;
use tokio_stream::wrappers::UnixListenerStream;
use tonic::body::Body;
use tonic::transport::Server;
use tonic::{Request as GrpcRequest, Response as GrpcResponse, Status};
use tower::{Layer, Service};
use tracing::{info, warn};

/// Serves the module on `socket` until SIGTERM or SIGINT.
pub(super) async fn serve(
    socket: PathBuf,
    models: Vec<(Api, Model, Registration)>,
    logs: LogSink,
) -> Result<(), String> {
    let _ = std::fs::remove_file(&socket);
    let listener = UnixListener::bind(&socket)
        .map_err(|e| format!("cannot listen on {}: {e}", socket.display()))?;
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600));
    }
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let table = Arc::new(Table::default());
    let module = ModuleApi {
        models,
        table: table.clone(),
        parent: Mutex::new(None),
        logs,
        io: tokio::runtime::Handle::current(),
    };
    info!(socket = %socket.display(), "module serving");
    let routes = crate::grpc::add_services(
        tonic::service::Routes::new(ModuleServiceServer::new(module)),
        table.clone(),
    );
    let served = Server::builder()
        .layer(CallerLayer)
        .add_routes(routes)
        .serve_with_incoming_shutdown(UnixListenerStream::new(listener), async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
        .await;
    info!("module shutting down: stopping every resource");
    let all = table.take(&table.names());
    Table::retire(all, "module shutting down").await;
    let _ = std::fs::remove_file(&socket);
    served.map_err(|e| format!("serving failed: {e}"))
}

/// One resource the module hosts. A driver that may block runs on a thread
/// of its own, so that it cannot stall the module's I/O.
struct Hosted {
    handle: ResourceHandle,
    arbiter: Option<Arbiter>,
}

/// The module's resources by short name.
#[derive(Default)]
struct Table(RwLock<HashMap<String, Hosted>>);

impl Table {
    fn get(&self, name: &str) -> Option<ResourceHandle> {
        let table = self.0.read().unwrap_or_else(|e| e.into_inner());
        table.get(name).map(|h| h.handle.clone())
    }

    fn names(&self) -> Vec<String> {
        let table = self.0.read().unwrap_or_else(|e| e.into_inner());
        table.keys().cloned().collect()
    }

    fn insert(&self, name: String, hosted: Hosted) -> Result<(), Box<Hosted>> {
        let mut table = self.0.write().unwrap_or_else(|e| e.into_inner());
        if table.contains_key(&name) {
            return Err(Box::new(hosted));
        }
        table.insert(name, hosted);
        Ok(())
    }

    /// Takes `names` out of the table; those it had.
    fn take(&self, names: &[String]) -> Vec<Hosted> {
        let mut table = self.0.write().unwrap_or_else(|e| e.into_inner());
        names.iter().filter_map(|n| table.remove(n)).collect()
    }

    /// Stops `hosted` together (a hung driver holds no other), then ends
    /// their threads.
    async fn retire(hosted: Vec<Hosted>, cause: &'static str) {
        let actuators = hosted.iter().filter_map(|h| h.handle.stoppable());
        let report = stop_together(actuators, cause).await;
        if !report.all_stopped() {
            warn!(cause, failed = %report.failures(), "resources did not confirm Stop");
        }
        for a in hosted.into_iter().filter_map(|h| h.arbiter) {
            a.stop();
        }
    }

    /// Stops and removes resource `name`; whether there was one.
    async fn remove(&self, name: &str) -> bool {
        let hosted = self.take(&[name.to_string()]);
        let had = !hosted.is_empty();
        Self::retire(hosted, "removed").await;
        had
    }

    fn missing(name: &str, api: &str) -> Status {
        Status::not_found(format!("this module serves no {api} named {name:?}"))
    }
}

impl Resources for Table {
    fn find<K: Kind>(&self, name: &str) -> Result<K::Handle, Status> {
        self.get(name)
            .and_then(|h| h.get::<K>())
            .ok_or_else(|| Self::missing(name, &K::SUBTYPE.replace('_', " ")))
    }
}

struct ModuleApi {
    models: Vec<(Api, Model, Registration)>,
    table: Arc<Table>,
    parent: Mutex<Option<RobotClient>>,
    logs: LogSink,
    io: tokio::runtime::Handle,
}

impl ModuleApi {
    fn registration(&self, c: &ResourceConfig) -> Result<&Registration, Status> {
        self.models
            .iter()
            .find(|(api, model, _)| *api == c.api && *model == c.model)
            .map(|(_, _, r)| r)
            .ok_or_else(|| {
                Status::invalid_argument(format!(
                    "this module does not serve model {} for {}",
                    c.model, c.api
                ))
            })
    }

    /// The handler map: per API, the models this module serves.
    fn handlers(&self) -> HandlerMap {
        let mut handlers: Vec<HandlerDefinition> = Vec::new();
        for (api, model, _) in &self.models {
            let service = crate::grpc::SERVED_APIS
                .iter()
                .find(|(kind, subtype, _)| *kind == api.kind && *subtype == api.subtype)
                .map_or("", |(_, _, service)| *service);
            let subtype = ResourceName {
                namespace: api.namespace.clone(),
                r#type: api.kind.clone(),
                subtype: api.subtype.clone(),
                name: String::new(),
            };
            match handlers
                .iter_mut()
                .find(|h| h.subtype.as_ref().and_then(|s| s.subtype.as_ref()) == Some(&subtype))
            {
                Some(h) => h.models.push(model.to_string()),
                None => handlers.push(HandlerDefinition {
                    subtype: Some(ResourceRpcSubtype {
                        subtype: Some(subtype),
                        proto_service: service.into(),
                    }),
                    models: vec![model.to_string()],
                }),
            }
        }
        HandlerMap { handlers }
    }

    async fn add(
        &self,
        config: Option<ComponentConfig>,
        dependencies: Vec<String>,
    ) -> Result<(), Status> {
        let config = resource_config(config)?;
        let registration = self.registration(&config)?;
        (registration.validate)(&config).map_err(|e| {
            Status::invalid_argument(format!("attributes.{}: {}", e.field, e.problem))
        })?;
        let parent = self.parent.lock().await.clone();
        let deps = Dependencies::new(parent, dependencies, self.io.clone());
        let (construct, blocking) = (registration.construct.clone(), registration.blocking);
        let c = config.clone();
        // A constructor may call its dependencies, which wait on this runtime.
        let built = tokio::task::spawn_blocking(move || construct.build(&c, &deps))
            .await
            .map_err(|e| {
                Status::internal(format!("the constructor of {} panicked: {e}", config.name))
            })??;
        let arbiter = blocking(&config.attributes).then(Arbiter::new);
        let full = format!("{}/{}", config.api, config.name);
        // This handler runs in a connection task, outside the actor thread's
        // local set: start the actor through an arbiter's handle.
        let on = match &arbiter {
            Some(a) => a.handle(),
            None => actix::System::current().arbiter().clone(),
        };
        let handle = ResourceHandle::start(full.as_str().into(), built, Some(&on));
        if let Err(dup) = self
            .table
            .insert(config.name.clone(), Hosted { handle, arbiter })
        {
            if let Some(a) = dup.arbiter {
                a.stop();
            }
            return Err(Status::already_exists(format!(
                "this module already serves {full}"
            )));
        }
        info!(resource = %full, model = %config.model, "resource added");
        Ok(())
    }
}

#[tonic::async_trait]
impl ModuleService for ModuleApi {
    async fn ready(
        &self,
        req: GrpcRequest<ReadyRequest>,
    ) -> Result<GrpcResponse<ReadyResponse>, Status> {
        let r = req.into_inner();
        let address = if r.parent_address.is_empty() {
            r.raw_parent_address
        } else {
            r.parent_address
        };
        let mut parent = self.parent.lock().await;
        if parent.is_none() {
            // The module's own calls carry the sessions of the clients it
            // serves, never one of its own.
            let options = Options {
                dial_timeout: Duration::from_secs(10),
                disable_sessions: true,
                api_key: None,
                webrtc: false,
            };
            let client = RobotClient::connect(&address, options)
                .await
                .map_err(|e| Status::unavailable(format!("cannot reach the parent: {e}")))?;
            let host = std::env::var("VIAM_MODULE_NAME").unwrap_or_default();
            self.logs.connect(client.robot(), host);
            *parent = Some(client);
        }
        Ok(GrpcResponse::new(ReadyResponse {
            ready: true,
            handlermap: Some(self.handlers()),
            webrtc_answer: String::new(),
        }))
    }

    async fn add_resource(
        &self,
        req: GrpcRequest<AddResourceRequest>,
    ) -> Result<GrpcResponse<AddResourceResponse>, Status> {
        let r = req.into_inner();
        self.add(r.config, r.dependencies).await?;
        Ok(GrpcResponse::new(AddResourceResponse {}))
    }

    async fn reconfigure_resource(
        &self,
        req: GrpcRequest<ReconfigureResourceRequest>,
    ) -> Result<GrpcResponse<ReconfigureResourceResponse>, Status> {
        let r = req.into_inner();
        let name = r
            .config
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default();
        self.table.remove(&name).await;
        self.add(r.config, r.dependencies).await?;
        Ok(GrpcResponse::new(ReconfigureResourceResponse {}))
    }

    async fn remove_resource(
        &self,
        req: GrpcRequest<RemoveResourceRequest>,
    ) -> Result<GrpcResponse<RemoveResourceResponse>, Status> {
        let full = req.into_inner().name;
        let short = full.rsplit_once('/').map_or(full.as_str(), |(_, n)| n);
        if !self.table.remove(short).await {
            return Err(Status::not_found(format!(
                "this module serves no resource {full:?}"
            )));
        }
        info!(resource = %full, "resource removed");
        Ok(GrpcResponse::new(RemoveResourceResponse {}))
    }

    async fn validate_config(
        &self,
        req: GrpcRequest<ValidateConfigRequest>,
    ) -> Result<GrpcResponse<ValidateConfigResponse>, Status> {
        let config = resource_config(req.into_inner().config)?;
        let registration = self.registration(&config)?;
        let dependencies = (registration.validate)(&config).map_err(|e| {
            Status::invalid_argument(format!("attributes.{}: {}", e.field, e.problem))
        })?;
        Ok(GrpcResponse::new(ValidateConfigResponse {
            dependencies,
            optional_dependencies: Vec::new(),
        }))
    }
}

/// A component config from the parent, checked.
fn resource_config(config: Option<ComponentConfig>) -> Result<ResourceConfig, Status> {
    let c = config.ok_or_else(|| Status::invalid_argument("the request has no config"))?;
    validate_name(&c.name)
        .map_err(|e| Status::invalid_argument(format!("name {:?}: {e}", c.name)))?;
    let api = if c.api.is_empty() {
        Api {
            namespace: if c.namespace.is_empty() {
                "rdk".into()
            } else {
                c.namespace
            },
            kind: "component".into(),
            subtype: c.r#type,
        }
    } else {
        c.api
            .parse()
            .map_err(|e| Status::invalid_argument(format!("api {:?}: {e}", c.api)))?
    };
    let model = c
        .model
        .parse()
        .map_err(|e| Status::invalid_argument(format!("model {:?}: {e}", c.model)))?;
    Ok(ResourceConfig {
        name: c.name,
        api,
        model,
        attributes: Attributes::new(from_struct(c.attributes)),
    })
}

/// Puts each request's `viam-sid` where the drivers serving it find it
/// ([`caller::session`]).
#[derive(Clone)]
struct CallerLayer;

impl<S> Layer<S> for CallerLayer {
    type Service = CallerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CallerService(inner)
    }
}

#[derive(Clone)]
struct CallerService<S>(S);

impl<S> Service<Request<Body>> for CallerService<S>
where
    S: Service<Request<Body>, Response = Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let session = req
            .headers()
            .get(SID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(Arc::from);
        Box::pin(caller::serve_under(session, self.0.call(req)))
    }
}
