//! Serving a rendezvous (`axle signal`): `AuthService` and
//! `SignalingService` on one listener, h2c or TLS, every call but
//! Authenticate behind a token.
//!
//! HTTP/2 keepalives find a robot whose uplink died within
//! [`KEEPALIVE`] × 2, so its workers stop counting as online and callers
//! get NOT_FOUND (and fall back) instead of waiting for a dead answerer.

use crate::admission::{Admission, RendezvousAuth};
use crate::config::RendezvousConfig;
use crate::queue::MemoryQueue;
use crate::server::Rendezvous;
use axle_proto::rpc::auth_service_server::AuthServiceServer;
use axle_proto::webrtc::signaling_service_server::SignalingServiceServer;
use axle_wire::auth::{AuthLayer, Gate};
use axle_wire::malformed::MalformedLayer;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;
use tracing::{info, warn};

/// How often an idle connection is pinged, and how long a ping may take.
pub const KEEPALIVE: Duration = Duration::from_secs(5);

/// Serves `config`'s rendezvous on `listener` until `shutdown` resolves.
pub async fn serve(
    config: &RendezvousConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let open_files = raise_open_file_limit();
    let admission = Arc::new(
        Admission::new(config).map_err(|_| "cannot draw a random token-signing key from the OS")?,
    );
    let signaling = Rendezvous::new(
        Arc::new(MemoryQueue::default()),
        admission.clone(),
        config.ice_servers.clone(),
        config.turn.clone(),
    );
    let mut server = Server::builder()
        .http2_keepalive_interval(Some(KEEPALIVE))
        .http2_keepalive_timeout(Some(KEEPALIVE));
    if let Some(files) = &config.tls {
        let tls = axle_wire::settings::load_tls(files)?;
        server = server
            .tls_config(tls)
            .map_err(|e| format!("cannot use the TLS certificate: {e}"))?;
    } else {
        warn!(
            "the rendezvous is not encrypted: keys, secrets and tokens cross the network in the clear; set network.tls_cert_file and network.tls_key_file"
        );
    }
    let gate = Gate::Tokens(admission.authenticator());
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let incoming = TcpListenerStream::new(listener).map(|s| {
        if let Ok(s) = &s {
            let _ = s.set_nodelay(true);
        }
        s
    });
    info!(
        %address,
        hosts = ?config.hosts.keys().collect::<Vec<_>>(),
        turn = config.turn.is_some(),
        open_files,
        "rendezvous listening"
    );
    server
        .layer(MalformedLayer)
        .layer(AuthLayer(gate))
        .add_service(AuthServiceServer::new(RendezvousAuth(admission)))
        .add_service(SignalingServiceServer::new(signaling))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
        .map_err(|e| format!("the rendezvous stopped: {e}"))
}

/// Raises this process's open-file limit to its hard limit: every robot
/// holds a connection open, and the usual soft limit (1024) would cap a
/// rendezvous below a thousand robots. Answers the limit in force.
pub fn raise_open_file_limit() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return 0;
    };
    if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        return hard;
    }
    soft
}
