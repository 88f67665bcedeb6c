//! Which `rpc-host` values name this part. Clients send the authority they
//! dialed; a host that names another machine is refused with
//! `INVALID_ARGUMENT "host not preconfigured"`, as upstream, so the client
//! falls back to direct gRPC at once instead of waiting on a peer that will
//! never answer for that host.

use std::net::{IpAddr, UdpSocket};

/// The names and port of this part.
#[derive(Clone, Debug)]
pub struct Hosts {
    names: Vec<String>,
    port: u16,
}

impl Hosts {
    /// This part: `fqdn` if configured, and the machine's host name,
    /// listening on `port`.
    pub fn new(fqdn: Option<String>, port: u16) -> Self {
        let names = fqdn
            .into_iter()
            .chain(machine_name())
            .flat_map(|n| {
                let n = n.to_ascii_lowercase();
                [n.replace('.', "-"), n]
            })
            .chain(["localhost".to_owned()])
            .collect();
        Self { names, port }
    }

    /// Whether `rpc-host` (`host` or `host:port`) names this part: its
    /// fqdn or the machine's name (dotted or dashed, with or without
    /// `.local`), `localhost`, or an address of one of this machine's
    /// interfaces; with a port, our port.
    pub fn names_us(&self, rpc_host: &str) -> bool {
        let (host, port) = split_authority(rpc_host);
        if port.is_some_and(|p| p != self.port) {
            return false;
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let host = host.strip_suffix(".local").unwrap_or(&host);
        self.names.iter().any(|n| n == host) || host.parse::<IpAddr>().is_ok_and(is_local_address)
    }
}

/// This machine's host name, if it has one.
pub fn machine_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// `host:port`, `[v6]:port`, `v6` or `host` → host and port.
fn split_authority(authority: &str) -> (&str, Option<u16>) {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, tail) = rest.split_once(']').unwrap_or((rest, ""));
        return (host, tail.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, port.parse().ok().or(Some(0))),
        _ => (authority, None),
    }
}

/// An address is ours if we can bind to it (the kernel knows every
/// interface address, without a list to keep up to date).
fn is_local_address(ip: IpAddr) -> bool {
    ip.is_loopback() || ip.is_unspecified() || UdpSocket::bind((ip, 0)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_this_part() {
        let h = Hosts::new(Some("rover.axle".into()), 8080);
        for yes in [
            "127.0.0.1:8080",
            "127.0.0.1",
            "localhost:8080",
            "[::1]:8080",
            "rover.axle",
            "rover-axle:8080",
            "rover-axle.local",
            "ROVER.AXLE",
        ] {
            assert!(h.names_us(yes), "{yes}");
        }
        for no in [
            "127.0.0.1:9090",
            "other.example",
            "192.0.2.1:8080",
            "rover.axle:1",
            "127.0.0.1:x",
        ] {
            assert!(!h.names_us(no), "{no}");
        }
    }
}
