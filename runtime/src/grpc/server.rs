//! Serving the robot: over TCP (h2c, or TLS), on Unix sockets, and to
//! modules on the parent socket. Every listener gets the same stack: its
//! gate (authentication), the session layer, then the router to proxied
//! resources, then axle's own services.

use super::operations::{Operations, OperationsLayer};
use super::robot::RobotApi;
use super::route::RouteLayer;
use crate::browser::{OriginLayer, Origins, PageLayer};
use crate::config::ConfigState;
use crate::modules::Directory;
use crate::robot::Robot;
use crate::sessions::{HeartbeatLayer, SessionLayer, Sessions};
use crate::webrtc::{CallService, LinkStatus, Signaling};
use axle_proto::robot::robot_service_server::RobotServiceServer;
use axle_proto::rpc::auth_service_server::AuthServiceServer;
use axle_proto::webrtc::signaling_service_server::SignalingServiceServer;
use axle_wire::auth::service::AuthApi;
use axle_wire::auth::{AuthLayer, Authenticator, Gate};
use axle_wire::connections::Tracked;
use axle_wire::malformed::MalformedLayer;
use futures::future::join_all;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::{TcpListener, UnixListener};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::{TcpListenerStream, UnixListenerStream};
use tonic::service::Routes;
use tonic::transport::server::Router;
use tonic::transport::{Server, ServerTlsConfig};
use tonic_web::GrpcWebLayer;
use tower::Layer;
use tower::layer::util::{Identity, Stack};
use tower::util::BoxCloneSyncService;
use tracing::warn;

/// Where the robot is served: bound sockets, ready to accept.
pub struct Listeners {
    /// A TCP listener.
    pub tcp: Option<TcpListener>,
    /// TLS for the TCP listener.
    pub tls: Option<ServerTlsConfig>,
    /// Unix socket listeners, and their paths (unlinked when serving ends).
    pub unix: Vec<(UnixListener, PathBuf)>,
    /// Who these listeners let in.
    pub gate: Gate,
}

/// What every listener serves: the robot, its sessions and its modules.
#[derive(Clone)]
pub struct Served {
    /// The robot's resources.
    pub robot: Arc<Robot>,
    /// The session supervisor.
    pub sessions: Sessions,
    /// The modules' states.
    pub modules: Arc<Directory>,
    /// The config revision in use, and the last refusal.
    pub config: Arc<ConfigState>,
    /// API keys and tokens, if auth is configured.
    pub auth: Option<Arc<Authenticator>>,
    /// The WebRTC answerer, if WebRTC is on.
    pub signaling: Option<Arc<Signaling>>,
    /// The link to a rendezvous, if `network.signaling` is set.
    pub uplink: LinkStatus,
    /// How often to ping an idle client connection; one that does not answer
    /// within as long again is closed (half the heartbeat window, so a frozen
    /// client's connection ends within 1.5 windows).
    pub keepalive: std::time::Duration,
    /// The web pages that may call besides the robot's own.
    pub origins: Origins,
    /// Where RobotService/Shutdown asks the runtime to shut down.
    pub shutdown: ShutdownSwitch,
    /// The unary resource calls in flight.
    pub operations: Arc<Operations>,
}

/// RobotService/Shutdown's way to the runtime: whether the call is served,
/// and the signal the runtime waits on beside SIGTERM.
#[derive(Clone, Default)]
pub struct ShutdownSwitch {
    /// With API keys configured, or `network.shutdown_without_auth`.
    pub allowed: bool,
    requested: Arc<tokio::sync::Notify>,
}

impl ShutdownSwitch {
    /// A switch that serves Shutdown if `allowed`.
    pub fn new(allowed: bool) -> Self {
        Self {
            allowed,
            requested: Arc::default(),
        }
    }

    /// Asks the runtime to shut down.
    pub fn request(&self) {
        self.requested.notify_one();
    }

    /// Returns once a shutdown has been asked for.
    pub async fn requested(&self) {
        self.requested.notified().await;
    }
}

type Layers = Stack<
    RouteLayer,
    Stack<
        OperationsLayer,
        Stack<
            SessionLayer,
            Stack<
                HeartbeatLayer,
                Stack<
                    AuthLayer,
                    Stack<
                        MalformedLayer,
                        Stack<GrpcWebLayer, Stack<PageLayer, Stack<OriginLayer, Identity>>>,
                    >,
                >,
            >,
        >,
    >,
>;

/// The services, behind the layers every listener has: browsers' origins
/// checked, the page, grpc-web translated to gRPC, the malformed-request
/// answer, the gate, heartbeats (answered there), sessions, operations,
/// the module router.
fn layers(s: &Served, gate: &Gate) -> Layers {
    tower::ServiceBuilder::new()
        .layer(OriginLayer(s.origins.clone()))
        .layer(PageLayer)
        .layer(GrpcWebLayer::new())
        .layer(MalformedLayer)
        .layer(AuthLayer(gate.clone()))
        .layer(HeartbeatLayer(s.sessions.table.clone()))
        .layer(SessionLayer::new(s.robot.clone(), s.sessions.table.clone()))
        .layer(OperationsLayer(s.operations.clone()))
        .layer(RouteLayer::new(s.robot.clone()))
        .into_inner()
}

/// Axle's own services; with `signaling`, WebRTC calls are answered too.
fn routes(s: &Served) -> Routes {
    let robot = Routes::new(RobotServiceServer::new(RobotApi::new(s))).add_service(
        super::last_users::LastUsers::server(s.sessions.table.clone()),
    );
    axle_sdk_module::grpc::add_services(robot, s.robot.clone())
}

fn router(
    s: &Served,
    gate: &Gate,
    tls: Option<ServerTlsConfig>,
) -> Result<Router<Stack<Layers, Identity>>, String> {
    // Browsers speak HTTP/1.1 to a server without TLS: grpc-web and the page.
    let mut server = Server::builder()
        .accept_http1(true)
        .http2_keepalive_interval(Some(s.keepalive))
        .http2_keepalive_timeout(Some(
            s.keepalive.max(std::time::Duration::from_millis(100)) * 2,
        ));
    if let Some(tls) = tls {
        server = server
            .tls_config(tls)
            .map_err(|e| format!("cannot use the TLS certificate: {e}"))?;
    }
    let mut routes = routes(s);
    if let Some(auth) = &s.auth {
        routes = routes.add_service(AuthServiceServer::new(AuthApi(auth.clone())));
    }
    // Modules reach the robot on the parent socket; peers are for clients.
    if let (Some(signaling), false) = (&s.signaling, matches!(gate, Gate::Modules)) {
        routes = routes.add_service(SignalingServiceServer::from_arc(signaling.clone()));
    }
    if !matches!(gate, Gate::Modules) {
        routes = routes.add_service(super::reflection::service(s.auth.is_some())?);
    }
    Ok(server.layer(layers(s, gate)).add_routes(routes))
}

/// The stack a WebRTC peer's calls go through: the same as a listener's,
/// behind a gate that trusts the identity settled at signaling.
pub fn call_service(s: &Served) -> CallService {
    let mut routes = routes(s);
    // Browsers read the monitored methods by reflection over their peer
    // connection (grpc-web cannot carry its bidi stream).
    match super::reflection::service(s.auth.is_some()) {
        Ok(reflection) => routes = routes.add_service(reflection),
        Err(e) => warn!(error = %e, "no server reflection for WebRTC peers"),
    }
    let service = layers(s, &Gate::Signaled).layer(routes);
    BoxCloneSyncService::new(service)
}

/// Serves on every listener until `shutdown` resolves. Fails at once if
/// the TLS certificate cannot be used.
pub async fn serve(
    served: Served,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let mut servers = Vec::new();
    if let Some(tcp) = listeners.tcp {
        // Nagle's algorithm would hold small replies back for tens of ms.
        let tcp = TcpListenerStream::new(tcp).map(|s| {
            s.map(|s| {
                let _ = s.set_nodelay(true);
                Tracked::new(s)
            })
        });
        let router = router(&served, &listeners.gate, listeners.tls)?;
        servers.push(tokio::spawn(
            router.serve_with_incoming_shutdown(tcp, stopped()),
        ));
    }
    let mut paths = Vec::new();
    for (listener, path) in listeners.unix {
        let incoming = UnixListenerStream::new(listener).map(|s| s.map(Tracked::new));
        let router = router(&served, &listeners.gate, None)?;
        servers.push(tokio::spawn(
            router.serve_with_incoming_shutdown(incoming, stopped()),
        ));
        paths.push(path);
    }
    shutdown.await;
    let _ = stop_tx.send(true);
    // Open streams (StreamEvents) would hold a graceful shutdown forever.
    match tokio::time::timeout(std::time::Duration::from_secs(2), join_all(servers)).await {
        Ok(results) => {
            for r in results {
                match r {
                    Ok(Err(e)) => warn!(error = %e, "gRPC server ended with an error"),
                    Err(e) => warn!(error = %e, "gRPC server task failed"),
                    Ok(Ok(())) => {}
                }
            }
        }
        Err(_) => warn!("open calls or streams did not end within 2 s; closing them"),
    }
    for path in paths {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}
