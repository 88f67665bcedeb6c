//! Advertising the part on the LAN: `_rpc._tcp.local`, so a client that
//! dials the robot's name without a port finds its address and port.
//!
//! Instances are named after `network.fqdn` (else the machine's host name),
//! and again with dots turned to dashes, as upstream does; TXT says `grpc`
//! and `webrtc`. A query for the service is answered with PTR, SRV, TXT and
//! A records in one packet, which is what the Python client needs.

use mdns_sd::{ServiceDaemon, ServiceInfo};
use std::net::SocketAddr;
use tracing::{info, warn};

const SERVICE: &str = "_rpc._tcp.local.";

/// The advertisement; dropping it withdraws it.
pub struct Advertiser {
    daemon: ServiceDaemon,
}

impl Advertiser {
    /// Advertises `listening` under `fqdn`'s names. Failing to advertise is
    /// logged and the robot runs on, reachable by address.
    pub fn start(fqdn: Option<&str>, listening: SocketAddr, webrtc: bool) -> Option<Self> {
        let name = match fqdn {
            Some(f) => f.to_owned(),
            None => host_name()?,
        };
        let daemon = match ServiceDaemon::new() {
            Ok(d) => d,
            Err(e) => {
                warn!(error = %e, "mDNS: cannot start; clients must dial this robot by address");
                return None;
            }
        };
        let txt: &[(&str, &str)] = if webrtc {
            &[("grpc", ""), ("webrtc", "")]
        } else {
            &[("grpc", "")]
        };
        let host = format!("{}.local.", name.replace('.', "-"));
        let mut names = vec![name.clone()];
        if name.contains('.') {
            names.push(name.replace('.', "-"));
        }
        for instance in &names {
            let ip = listening.ip();
            let info = if ip.is_unspecified() {
                ServiceInfo::new(SERVICE, instance, &host, (), listening.port(), txt)
                    .map(ServiceInfo::enable_addr_auto)
            } else {
                ServiceInfo::new(SERVICE, instance, &host, ip, listening.port(), txt)
            };
            if let Err(e) = info.and_then(|i| daemon.register(i)) {
                warn!(instance, error = %e, "mDNS: cannot advertise");
                return None;
            }
        }
        info!(names = ?names, port = listening.port(), "mDNS: advertising _rpc._tcp");
        Some(Self { daemon })
    }
}

impl Drop for Advertiser {
    fn drop(&mut self) {
        let _ = self.daemon.shutdown();
    }
}

fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}
