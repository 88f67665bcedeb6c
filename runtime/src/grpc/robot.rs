//! `viam.robot.v1.RobotService`: what the robot as a whole answers.

use crate::config::ConfigState;
use crate::grpc::operations::Operations;
use crate::grpc::{Served, ShutdownSwitch};
use crate::modules::Directory;
use crate::modules::directory::ModuleState;
use crate::robot::{ResourceState, Robot};
use crate::sessions::supervisor::StartSession;
use crate::sessions::{Sessions, supervisor_gone};
use crate::webrtc::LinkStatus;
use crate::webrtc::uplink::{LinkReport, LinkState};
use axle_proto::common::ResourceName;
use axle_proto::robot::robot_service_server::RobotService;
use axle_proto::robot::*;
use axle_sdk_module::grpc::convert::{duration, timestamp, to_struct};
use axle_wire::{Owner, Via, peer_of};
use std::sync::Arc;
use std::time::SystemTime;
use tonic::{Request, Response, Status};
use tracing::{debug, error, info, warn};

/// The Viam API version whose wire facts axle matches.
pub const API_VERSION: &str = "v0.1.601";

/// Serves the robot-wide API.
pub struct RobotApi {
    robot: Arc<Robot>,
    sessions: Sessions,
    modules: Arc<Directory>,
    config: Arc<ConfigState>,
    uplink: LinkStatus,
    shutdown: ShutdownSwitch,
    operations: Arc<Operations>,
}

/// The link to a rendezvous, shown as the pseudo-resource
/// `axle:network:signaling/<host>`: ready while registered, configuring
/// until first registered, unhealthy while retrying; the error is the
/// link's last failure.
fn uplink_status(r: LinkReport) -> ResourceStatus {
    let api = axle_sdk_module::Api {
        namespace: "axle".into(),
        kind: "network".into(),
        subtype: "signaling".into(),
    };
    let state = match r.state {
        LinkState::Connecting => resource_status::State::Configuring,
        LinkState::Online => resource_status::State::Ready,
        LinkState::Retrying => resource_status::State::Unhealthy,
    };
    let error = match r.last_error {
        Some(e) => format!("rendezvous {}: {e}", r.address),
        None => String::new(),
    };
    ResourceStatus {
        name: Some(proto_name(Some(&api), &r.host)),
        state: state.into(),
        last_updated: Some(timestamp(r.since)),
        error,
        ..Default::default()
    }
}

/// A refused config, shown as an unhealthy status of the pseudo-resource
/// `axle:config:file/robot`: GetMachineStatus has no other place for an
/// error that is not a resource's or a module's.
fn config_refusal(error: String, at: SystemTime, revision: &str) -> ResourceStatus {
    let api = axle_sdk_module::Api {
        namespace: "axle".into(),
        kind: "config".into(),
        subtype: "file".into(),
    };
    ResourceStatus {
        name: Some(proto_name(Some(&api), "robot")),
        state: resource_status::State::Unhealthy.into(),
        last_updated: Some(timestamp(at)),
        revision: revision.into(),
        error,
        ..Default::default()
    }
}

impl RobotApi {
    /// The robot-wide API of what `served` holds.
    pub fn new(served: &Served) -> Self {
        Self {
            robot: served.robot.clone(),
            sessions: served.sessions.clone(),
            modules: served.modules.clone(),
            config: served.config.clone(),
            uplink: served.uplink.clone(),
            shutdown: served.shutdown.clone(),
            operations: served.operations.clone(),
        }
    }
}

type Reply<T> = Result<Response<T>, Status>;

fn proto_name(api: Option<&axle_sdk_module::Api>, name: &str) -> ResourceName {
    let (namespace, kind, subtype) = api.map_or_else(Default::default, |a| {
        (a.namespace.clone(), a.kind.clone(), a.subtype.clone())
    });
    ResourceName {
        namespace,
        r#type: kind,
        subtype,
        name: name.into(),
    }
}

impl RobotApi {
    fn module_statuses(&self) -> Vec<ModuleStatus> {
        self.modules
            .all()
            .into_iter()
            .map(|(module_name, m)| ModuleStatus {
                module_name,
                state: match m.state {
                    ModuleState::Starting => module_status::State::Starting,
                    ModuleState::Ready => module_status::State::Ready,
                    ModuleState::Unhealthy => module_status::State::Unhealthy,
                    ModuleState::Closing => module_status::State::Closing,
                }
                .into(),
                last_updated: Some(timestamp(m.since)),
                error: m.error,
                consecutive_failures: m.failures,
            })
            .collect()
    }
}

/// The process id of a caller on a Unix socket.
fn peer_pid(extensions: &http::Extensions) -> Option<i32> {
    axle_wire::connections::uds_info(extensions)
        .and_then(|i| i.peer_cred)
        .and_then(|c| c.pid())
}

#[tonic::async_trait]
impl RobotService for RobotApi {
    async fn resource_names(
        &self,
        _: Request<ResourceNamesRequest>,
    ) -> Reply<ResourceNamesResponse> {
        let resources = self
            .robot
            .entries()
            .iter()
            .filter(|e| e.is_serving())
            .map(|e| proto_name(e.api.as_ref(), &e.name))
            .collect();
        Ok(Response::new(ResourceNamesResponse { resources }))
    }

    async fn resource_rpc_subtypes(
        &self,
        _: Request<ResourceRpcSubtypesRequest>,
    ) -> Reply<ResourceRpcSubtypesResponse> {
        let resource_rpc_subtypes = self
            .robot
            .services
            .all()
            .into_iter()
            .map(|(api, proto_service)| ResourceRpcSubtype {
                subtype: Some(proto_name(Some(&api), "")),
                proto_service,
            })
            .collect();
        Ok(Response::new(ResourceRpcSubtypesResponse {
            resource_rpc_subtypes,
        }))
    }

    async fn get_machine_status(
        &self,
        _: Request<GetMachineStatusRequest>,
    ) -> Reply<GetMachineStatusResponse> {
        let config = self.config.get();
        let mut resources: Vec<ResourceStatus> = self
            .robot
            .entries()
            .iter()
            .map(|e| {
                let (state, error) = match (&e.state, &e.problem) {
                    (ResourceState::Failed(err), _) | (_, Some(err)) => {
                        (resource_status::State::Unhealthy, err.clone())
                    }
                    _ => (resource_status::State::Ready, String::new()),
                };
                ResourceStatus {
                    name: Some(proto_name(e.api.as_ref(), &e.name)),
                    state: state.into(),
                    last_updated: Some(timestamp(e.since)),
                    revision: e.revision.to_string(),
                    error,
                    ..Default::default()
                }
            })
            .collect();
        if let Some((error, at)) = config.error {
            resources.push(config_refusal(error, at, &config.revision));
        }
        resources.extend(self.uplink.get().map(uplink_status));
        Ok(Response::new(GetMachineStatusResponse {
            resources,
            config: Some(ConfigStatus {
                revision: config.revision,
                last_updated: Some(timestamp(config.applied)),
            }),
            state: get_machine_status_response::State::Running.into(),
            modules: self.module_statuses(),
            ..Default::default()
        }))
    }

    async fn get_models_from_modules(
        &self,
        _: Request<GetModelsFromModulesRequest>,
    ) -> Reply<GetModelsFromModulesResponse> {
        let models = self
            .modules
            .all()
            .into_iter()
            .flat_map(|(module_name, info)| {
                info.models
                    .into_iter()
                    .map(move |(api, model)| ModuleModel {
                        module_name: module_name.clone(),
                        model: model.to_string(),
                        api: api.to_string(),
                        from_local_module: true,
                    })
            })
            .collect();
        Ok(Response::new(GetModelsFromModulesResponse { models }))
    }

    /// axle is no cloud's part: it has no organisation, location or machine
    /// ids to tell, and says so with empty ones rather than UNIMPLEMENTED.
    async fn get_cloud_metadata(
        &self,
        _: Request<GetCloudMetadataRequest>,
    ) -> Reply<GetCloudMetadataResponse> {
        Ok(Response::new(GetCloudMetadataResponse::default()))
    }

    async fn restart_module(
        &self,
        req: Request<RestartModuleRequest>,
    ) -> Reply<RestartModuleResponse> {
        use restart_module_request::IdOrName;
        let name = match req.into_inner().id_or_name {
            Some(IdOrName::ModuleName(name)) if !name.is_empty() => name,
            Some(IdOrName::ModuleId(id)) if !id.is_empty() => {
                return Err(Status::not_found(format!(
                    "no module has id {id:?}: axle's modules are local; restart one by its name"
                )));
            }
            _ => {
                return Err(Status::invalid_argument(
                    "give the name of the module to restart (module_name)",
                ));
            }
        };
        let actor = self.modules.actor(&name).ok_or_else(|| {
            let known: Vec<String> = self.modules.all().into_iter().map(|(n, _)| n).collect();
            Status::not_found(format!(
                "no module named {name:?}; the modules are {known:?}"
            ))
        })?;
        match actor.send(crate::modules::module::Restart).await {
            Ok(Ok(())) => Ok(Response::new(RestartModuleResponse {})),
            Ok(Err(why)) => Err(Status::unavailable(format!(
                "module {name:?} was restarted but is not serving: {why}"
            ))),
            Err(_) => Err(Status::unavailable(format!(
                "module {name:?} is being removed"
            ))),
        }
    }

    /// Stops the robot as SIGTERM does (every actuator first), after
    /// answering. Served only to a robot with API keys (a caller then holds
    /// one), or with `network.shutdown_without_auth`.
    async fn shutdown(&self, req: Request<ShutdownRequest>) -> Reply<ShutdownResponse> {
        if !self.shutdown.allowed {
            return Err(Status::permission_denied(
                "Shutdown is refused: this robot has no API keys, so anyone who can reach it could \
                 stop it; configure auth.handlers, or set network.shutdown_without_auth",
            ));
        }
        let owner = Owner::of(req.extensions());
        let peer = peer_of(req.extensions());
        warn!(entity = %owner.entity(), peer = %peer, "RobotService/Shutdown: shutting down");
        self.shutdown.request();
        Ok(Response::new(ShutdownResponse {}))
    }

    async fn get_version(&self, _: Request<GetVersionRequest>) -> Reply<GetVersionResponse> {
        Ok(Response::new(GetVersionResponse {
            platform: "axle".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            api_version: API_VERSION.into(),
        }))
    }

    async fn get_operations(
        &self,
        _: Request<GetOperationsRequest>,
    ) -> Reply<GetOperationsResponse> {
        let operations = self
            .operations
            .list()
            .into_iter()
            .map(|op| Operation {
                id: op.id,
                method: op.method,
                arguments: op.arguments.as_object().map(|o| to_struct(o.clone())),
                started: Some(timestamp(op.started)),
                session_id: op.session,
            })
            .collect();
        Ok(Response::new(GetOperationsResponse { operations }))
    }

    /// Ends the call as its caller hanging up would: a motion it started is
    /// stopped by its resource.
    async fn cancel_operation(
        &self,
        req: Request<CancelOperationRequest>,
    ) -> Reply<CancelOperationResponse> {
        let id = req.into_inner().id;
        if !self.operations.cancel(&id) {
            return Err(Status::not_found(format!(
                "no operation {id:?} is running (GetOperations lists them)"
            )));
        }
        info!(operation = %id, "operation cancelled by CancelOperation");
        Ok(Response::new(CancelOperationResponse {}))
    }

    async fn block_for_operation(
        &self,
        req: Request<BlockForOperationRequest>,
    ) -> Reply<BlockForOperationResponse> {
        self.operations.block_for(&req.into_inner().id).await;
        Ok(Response::new(BlockForOperationResponse {}))
    }

    async fn stop_all(&self, _: Request<StopAllRequest>) -> Reply<StopAllResponse> {
        let report = self.robot.stop_all("StopAll").await;
        if report.all_stopped() {
            return Ok(Response::new(StopAllResponse {}));
        }
        Err(Status::internal(format!(
            "some actuators did not stop: {}",
            report.failures()
        )))
    }

    async fn start_session(
        &self,
        req: Request<StartSessionRequest>,
    ) -> Reply<StartSessionResponse> {
        let start = StartSession {
            owner: Owner::of(req.extensions()),
            peer: peer_of(req.extensions()),
            via: Via::of(req.extensions()),
            resume: req.into_inner().resume,
        };
        let started = self
            .sessions
            .supervisor
            .send(start)
            .await
            .map_err(supervisor_gone)??;
        Ok(Response::new(StartSessionResponse {
            id: started.id.to_string(),
            heartbeat_window: Some(duration(started.window)),
        }))
    }

    async fn send_session_heartbeat(
        &self,
        req: Request<SendSessionHeartbeatRequest>,
    ) -> Reply<SendSessionHeartbeatResponse> {
        // Reached only by a heartbeat the HeartbeatLayer did not answer.
        let (_, extensions, request) = req.into_parts();
        crate::sessions::heartbeat::renew(&self.sessions.table, &request.id, &extensions)?;
        Ok(Response::new(SendSessionHeartbeatResponse {}))
    }

    async fn get_sessions(&self, req: Request<GetSessionsRequest>) -> Reply<GetSessionsResponse> {
        let live = self.sessions.table.list(&Owner::of(req.extensions()));
        let sessions = live
            .into_iter()
            .map(|s| Session {
                id: s.id.to_string(),
                peer_connection_info: Some(PeerConnectionInfo {
                    r#type: PeerConnectionType::Grpc.into(),
                    remote_address: Some(s.peer.to_string()),
                    local_address: None,
                }),
            })
            .collect();
        Ok(Response::new(GetSessionsResponse { sessions }))
    }

    /// Modules send their logs here, over the parent socket; each entry is
    /// tagged with the module whose process sent it.
    async fn log(&self, req: Request<LogRequest>) -> Reply<LogResponse> {
        let module = peer_pid(req.extensions())
            .and_then(|pid| self.modules.name_of(pid))
            .unwrap_or_default();
        for entry in req.into_inner().logs {
            let (logger, message) = (entry.logger_name, entry.message);
            match entry.level.to_ascii_lowercase().as_str() {
                "error" | "fatal" | "panic" | "dpanic" | "critical" => {
                    error!(module = %module, logger = %logger, "{message}")
                }
                "warn" | "warning" => warn!(module = %module, logger = %logger, "{message}"),
                "debug" => debug!(module = %module, logger = %logger, "{message}"),
                _ => info!(module = %module, logger = %logger, "{message}"),
            }
        }
        Ok(Response::new(LogResponse {}))
    }
}
