//! Advertising the part on the LAN: `_rpc._tcp.local`, so a client that
//! dials the robot's name without a port finds its address and port.
//!
//! Instances are named after `network.fqdn` (else the machine's host name),
//! and again with dots turned to dashes, as upstream does; TXT says `grpc`
//! and `webrtc`. Every query for the service is answered at once with PTR,
//! SRV, TXT and A records in one packet: the Python client asks once per
//! name it tries, four times a second, and gives up after 1.5 s, so a
//! responder that spaces its answers a second apart (as RFC 6762 §6 asks,
//! and as mdns-sd does) loses the race. libmdns answers every query.

use libmdns::{Responder, Service};
use std::net::SocketAddr;
use tracing::{info, warn};

const SERVICE: &str = "_rpc._tcp";

/// The advertisement; dropping it withdraws it.
pub struct Advertiser {
    _services: Vec<Service>,
    _responder: Responder,
}

impl Advertiser {
    /// Advertises `listening` under `fqdn`'s names. Failing to advertise is
    /// logged and the robot runs on, reachable by address.
    pub fn start(fqdn: Option<&str>, listening: SocketAddr, webrtc: bool) -> Option<Self> {
        let name = match fqdn {
            Some(f) => f.to_owned(),
            None => crate::webrtc::machine_name()?,
        };
        let ips = match listening.ip() {
            ip if ip.is_unspecified() => Vec::new(),
            ip => vec![ip],
        };
        let dashed = name.replace('.', "-");
        let responder = match Responder::new_with_ip_list(ips) {
            Ok(r) => r,
            Err(e) => {
                warn!(error = %e, "mDNS: cannot start; clients must dial this robot by address");
                return None;
            }
        };
        let txt: &[&str] = if webrtc {
            &["grpc", "webrtc"]
        } else {
            &["grpc"]
        };
        // The client matches the first instance of an answer against the
        // dashed name first: it goes first.
        let mut names = vec![dashed];
        if name.contains('.') {
            names.push(name);
        }
        let services = names
            .iter()
            .map(|n| responder.register(SERVICE, n, listening.port(), txt))
            .collect();
        info!(names = ?names, port = listening.port(), "mDNS: advertising _rpc._tcp");
        Some(Self {
            _services: services,
            _responder: responder,
        })
    }
}
