//! h2load (Debian's `nghttp2-client`) flooding axle with one unary gRPC
//! call, for the tests and benches that need axle saturated.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One flood: `path` called with `message`, over `connections` connections
/// of `streams` concurrent streams each.
pub struct Spec<'a> {
    pub name: &'a str,
    pub path: String,
    pub message: &'a [u8],
    pub connections: u32,
    pub streams: u32,
}

/// A running h2load; killed and reaped on drop.
pub struct Flood {
    child: Child,
    out: PathBuf,
}

impl Flood {
    /// Starts flooding `addr` for `secs`; its figures go to `dir`.
    pub fn start(dir: &Path, addr: &str, spec: &Spec, secs: u64) -> std::io::Result<Self> {
        let mut body = vec![0];
        body.extend_from_slice(&(spec.message.len() as u32).to_be_bytes());
        body.extend_from_slice(spec.message);
        let file = dir.join(format!("{}.bin", spec.name));
        std::fs::write(&file, body)?;
        let out = dir.join(format!("{}.out", spec.name));
        // Niced: the flood needs only enough CPU to keep axle saturated, and
        // must not starve the clients whose heartbeats the tests time.
        let child = Command::new("nice")
            .args(["-n", "10", "h2load"])
            .arg("-c")
            .arg(spec.connections.to_string())
            .arg("-m")
            .arg(spec.streams.to_string())
            .arg("-D")
            .arg(secs.to_string())
            .arg("-d")
            .arg(&file)
            .args(["-H", "content-type: application/grpc", "-H", "te: trailers"])
            .arg(format!("http://{addr}{}", spec.path))
            .stdout(std::fs::File::create(&out)?)
            .stderr(Stdio::null())
            .spawn()?;
        Ok(Self { child, out })
    }

    /// Waits up to `timeout` for h2load to end by itself; its summary.
    pub fn summary(mut self, timeout: Duration) -> String {
        for _ in 0..timeout.as_millis() / 50 {
            if self.child.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = std::fs::read_to_string(&self.out).unwrap_or_default();
        let line = |p: &str| {
            out.lines()
                .find(|l| l.starts_with(p))
                .unwrap_or("")
                .to_owned()
        };
        format!("{} ({})", line("finished in"), line("requests:"))
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The flood that saturates axle in "heartbeats first": GetPosition of the
/// built-in motor `flood` (4 connections of 4 streams), and DoCommand
/// answers of 1 MB from `modmotor`, a module's fake motor, forwarded by
/// axle (2 of 2). The robot must have both motors.
///
/// 16 GetPosition streams keep axle's thread busy all the time. Deeper
/// queues add their own wait: the runtime runs ready calls in turn, so a
/// heartbeat waits behind every call in flight (128 streams of a debug
/// build: 60–80 ms at times, near a 100 ms window).
pub fn saturate(dir: &Path, addr: &str, secs: u64) -> std::io::Result<[Flood; 2]> {
    use prost::Message;
    let position = axle_proto::motor::GetPositionRequest {
        name: "flood".into(),
        extra: None,
    }
    .encode_to_vec();
    let mut fill = axle_sdk_module::Document::new();
    fill.insert("fill".into(), 1_000_000.into());
    let command = axle_proto::common::DoCommandRequest {
        name: "modmotor".into(),
        command: Some(axle_sdk_module::grpc::convert::to_struct(fill)),
    }
    .encode_to_vec();
    let motors = "/viam.component.motor.v1.MotorService";
    let spec = |name, method, message, connections, streams| Spec {
        name,
        path: format!("{motors}/{method}"),
        message,
        connections,
        streams,
    };
    Ok([
        Flood::start(
            dir,
            addr,
            &spec("position", "GetPosition", &position, 4, 4),
            secs,
        )?,
        Flood::start(
            dir,
            addr,
            &spec("docommand", "DoCommand", &command, 2, 2),
            secs,
        )?,
    ])
}
