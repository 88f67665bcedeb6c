//! Serving the robot over TCP (h2c) and, on request, a Unix socket.

use super::base::BaseApi;
use super::input_controller::InputControllerApi;
use super::motor::MotorApi;
use super::robot::RobotApi;
use crate::robot::Robot;
use crate::sessions::{SessionLayer, SessionSupervisor};
use actix::Addr;
use axle_proto::base::base_service_server::BaseServiceServer;
use axle_proto::inputcontroller::input_controller_service_server::InputControllerServiceServer;
use axle_proto::motor::motor_service_server::MotorServiceServer;
use axle_proto::robot::robot_service_server::RobotServiceServer;
use futures::future::join_all;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::{TcpListener, UnixListener};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::{TcpListenerStream, UnixListenerStream};
use tonic::transport::Server;
use tonic::transport::server::Router;
use tracing::warn;

/// Where the robot is served: bound sockets, ready to accept.
pub struct Listeners {
    /// The TCP listener.
    pub tcp: TcpListener,
    /// A Unix socket listener, and its path (unlinked when serving ends).
    pub unix: Option<(UnixListener, PathBuf)>,
}

fn router(robot: &Arc<Robot>, sessions: &Addr<SessionSupervisor>) -> Router<SessionStack> {
    Server::builder()
        .layer(SessionLayer::new(robot.clone(), sessions.clone()))
        .add_service(RobotServiceServer::new(RobotApi::new(
            robot.clone(),
            sessions.clone(),
        )))
        .add_service(MotorServiceServer::new(MotorApi(robot.clone())))
        .add_service(BaseServiceServer::new(BaseApi(robot.clone())))
        .add_service(InputControllerServiceServer::new(InputControllerApi(
            robot.clone(),
        )))
}

type SessionStack = tower::layer::util::Stack<SessionLayer, tower::layer::util::Identity>;

/// Serves `robot`, with sessions kept by `sessions`, on every listener until
/// `shutdown` resolves.
pub async fn serve(
    robot: Arc<Robot>,
    sessions: Addr<SessionSupervisor>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    // Nagle's algorithm would hold small replies back for tens of ms.
    let tcp = TcpListenerStream::new(listeners.tcp).map(|s| {
        if let Ok(s) = &s {
            let _ = s.set_nodelay(true);
        }
        s
    });
    let mut servers = vec![tokio::spawn(
        router(&robot, &sessions).serve_with_incoming_shutdown(tcp, stopped()),
    )];
    let socket_path = listeners.unix.map(|(listener, path)| {
        let incoming = UnixListenerStream::new(listener);
        servers.push(tokio::spawn(
            router(&robot, &sessions).serve_with_incoming_shutdown(incoming, stopped()),
        ));
        path
    });
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
    if let Some(path) = socket_path {
        let _ = std::fs::remove_file(path);
    }
}
