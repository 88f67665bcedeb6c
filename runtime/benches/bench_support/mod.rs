//! What the benchmarks share: starting servers and reading their address,
//! dialing them, and summarising samples.

#![allow(dead_code)] // each bench uses its own subset

pub mod h2_floor;
pub mod raw_h2;

use hyper_util::rt::TokioIo;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint, Uri};

/// Starts `cmd` and waits for its "listening address=..." log line; returns
/// the process and the TCP address. The rest of the log goes to `log` (or
/// is drained), so the server never blocks on a full pipe.
pub fn spawn_listening(mut cmd: Command, log: Option<PathBuf>) -> (Child, String) {
    let mut child = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn server");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut early = Vec::new();
    let tcp = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .expect("read");
        early.push(line.clone());
        if let Some(rest) = line.split("listening address=").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
        }
    };
    std::thread::spawn(move || {
        use std::io::Write;
        let mut file = log.map(|p| std::fs::File::create(p).expect("log file"));
        for line in early.into_iter().chain(lines.map_while(Result::ok)) {
            if let Some(f) = file.as_mut() {
                let _ = writeln!(f, "{line}");
            }
        }
    });
    (child, tcp)
}

/// The `axle` binary of this build, serving on a free TCP port and `socket`.
pub fn axle_command(socket: &Path, io_threads: usize) -> Command {
    // `AXLE_BENCH_BIN` runs another build of axle (another profile, say).
    let bin =
        std::env::var_os("AXLE_BENCH_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_axle").into());
    let mut c = Command::new(bin);
    c.args([
        "--bind",
        "127.0.0.1:0",
        "--log-level",
        "info",
        "--io-threads",
        &io_threads.to_string(),
        "--socket",
    ])
    .arg(socket);
    c
}

pub async fn tcp_channel(addr: &str) -> Channel {
    Endpoint::try_from(format!("http://{addr}"))
        .expect("uri")
        .tcp_nodelay(true)
        .connect()
        .await
        .expect("tcp connect")
}

pub async fn unix_channel(path: &Path) -> Channel {
    let path = path.to_path_buf();
    Endpoint::try_from("http://[::]:50051")
        .expect("uri")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let path = path.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(path).await?)) }
        }))
        .await
        .expect("unix connect")
}

/// A running axle, shut down with SIGTERM when dropped (also when a sample
/// panics), so that it stops its modules and removes its sockets.
pub struct Axle(pub std::process::Child);

impl Drop for Axle {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.0.wait();
    }
}

/// Starts axle `name` in `dir` with `config`, serving on `<name>.sock` and
/// logging to `<name>.log`.
pub fn start_axle(dir: &Path, name: &str, config: &str) -> Axle {
    start_axle_tcp(dir, name, config).0
}

/// As [`start_axle`]; also answers its TCP address.
pub fn start_axle_tcp(dir: &Path, name: &str, config: &str) -> (Axle, String) {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, config).expect("config");
    let mut cmd = axle_command(&dir.join(format!("{name}.sock")), 0);
    cmd.arg("--config").arg(&path);
    let (child, tcp) = spawn_listening(cmd, Some(dir.join(format!("{name}.log"))));
    (Axle(child), tcp)
}

/// The module binary, built in this profile beside `axle`: cargo builds only
/// the bench's own package.
pub fn build_module() -> PathBuf {
    let axle = PathBuf::from(env!("CARGO_BIN_EXE_axle"));
    let profile_dir = axle.parent().expect("target dir");
    let release = profile_dir.ends_with("release");
    let mut cargo =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.args(["build", "-q", "-p", "axle-fakes"]);
    if release {
        cargo.arg("--release");
    }
    let status = cargo.status().expect("run cargo");
    assert!(status.success(), "cannot build the fakes module");
    profile_dir.join("fakes")
}

/// GetPosition of motor `name`: the call every latency bench measures.
pub async fn position(
    client: &mut axle_proto::motor::motor_service_client::MotorServiceClient<Channel>,
    name: &str,
) -> Result<f64, tonic::Status> {
    let req = axle_proto::motor::GetPositionRequest {
        name: name.into(),
        extra: None,
    };
    client
        .get_position(req)
        .await
        .map(|r| r.into_inner().position)
}

/// A fresh directory for bench `name`, removed when the guard drops.
pub fn bench_dir(name: &str) -> Cleanup {
    let dir = std::env::temp_dir().join(format!("axle-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench dir");
    Cleanup(dir)
}

/// The single-threaded runtime the benches' clients run on.
pub fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Removes a bench's directory, also when a sample panics.
pub struct Cleanup(pub PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn median(v: &[f64]) -> f64 {
    percentile(v, 50.0)
}

/// The `p`th percentile (nearest rank) of unsorted samples.
pub fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// Runs this bench again inside `unshare --net`, with loopback up: benches
/// whose clients look up public STUN hosts must not reach any.
pub fn in_netns() {
    let exe = std::env::current_exe().expect("own path");
    let status = std::process::Command::new("unshare")
        .args([
            "--net",
            "--",
            "bash",
            "-c",
            "ip link set lo up && AXLE_NETNS=1 exec \"$@\"",
            "netns",
        ])
        .arg(exe)
        .args(std::env::args().skip(1))
        .status()
        .expect("unshare (needs root)");
    std::process::exit(status.code().unwrap_or(1));
}

/// Runs `runtime/benches/<script>` with the test venv's Python, passing
/// `args` and this bench's `axle` as `AXLE_BIN`; inside a network namespace
/// of its own (`tests/netns.sh`) if `netns`. Answers whether it succeeded,
/// or None (and says so) when `tests/run_all.sh` has not made the venv.
pub fn python_script(script: &str, args: &[&str], netns: bool) -> Option<bool> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join("target/venv/bin/python");
    if !python.exists() {
        println!("\n(no target/venv: run tests/run_all.sh once for the Python figures)");
        return None;
    }
    let mut cmd = if netns {
        let mut c = Command::new(root.join("tests/netns.sh"));
        c.arg(python);
        c
    } else {
        Command::new(python)
    };
    let status = cmd
        .arg(root.join("runtime/benches").join(script))
        .args(args)
        .env("AXLE_BIN", env!("CARGO_BIN_EXE_axle"))
        .status();
    let ok = status.is_ok_and(|s| s.success());
    if !ok {
        println!("\n{script} failed");
    }
    Some(ok)
}
