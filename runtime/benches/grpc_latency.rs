//! `cargo bench -p axle-runtime --bench grpc_latency`
//!
//! Latency and rate of `MotorService/GetPosition` against the real `axle`
//! binary, over TCP and over a Unix socket, compared with a floor measured in
//! the same run: a bare tonic server (this binary, re-executed) that answers
//! GetPosition with a constant and has no actors. axle runs in both runtime
//! layouts (`--io-threads 0`: one thread; `--io-threads 2`: I/O threads beside
//! the actor thread). Rounds interleave the servers so machine noise spreads
//! over all of them; figures are medians over rounds, reported as ratios to
//! the floor.

use axle_proto::common;
use axle_proto::motor::motor_service_client::MotorServiceClient;
use axle_proto::motor::motor_service_server::{MotorService, MotorServiceServer};
use axle_proto::motor::*;
mod bench_support;

use bench_support::{axle_command, median, tcp_channel, unix_channel};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Instant;
use tokio::net::{TcpListener, UnixListener};
use tokio_stream::wrappers::{TcpListenerStream, UnixListenerStream};
use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

const ROUNDS: usize = 7;
const CALLS_PER_ROUND: usize = 2000;
const WARMUP: usize = 300;
const ROLE_ENV: &str = "AXLE_BENCH_FLOOR";

fn main() {
    if let Ok(sock) = std::env::var(ROLE_ENV) {
        return floor_server(PathBuf::from(sock));
    }
    let dir = std::env::temp_dir().join(format!("axle-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut servers = vec![
        Target::spawn(
            "floor (bare tonic)",
            floor_command(&dir.join("floor.sock")),
            &dir.join("floor.sock"),
        ),
        Target::spawn(
            "axle --io-threads 0",
            axle_command(&dir.join("a0.sock"), 0),
            &dir.join("a0.sock"),
        ),
        Target::spawn(
            "axle --io-threads 2",
            axle_command(&dir.join("a2.sock"), 2),
            &dir.join("a2.sock"),
        ),
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let report = rt.block_on(measure(&servers));
    for s in &mut servers {
        let _ = s.child.kill();
        let _ = s.child.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
    print!("{report}");
}

/// A server under test: its process, TCP address and socket.
struct Target {
    label: &'static str,
    child: Child,
    tcp: String,
    socket: PathBuf,
}

impl Target {
    fn spawn(label: &'static str, cmd: Command, socket: &Path) -> Self {
        let (child, tcp) = bench_support::spawn_listening(cmd, None);
        Self {
            label,
            child,
            tcp,
            socket: socket.to_path_buf(),
        }
    }
}

fn floor_command(socket: &Path) -> Command {
    let mut c = Command::new(std::env::current_exe().expect("own path"));
    c.env(ROLE_ENV, socket);
    c
}

/// Per-round medians and p99s, in microseconds.
#[derive(Default)]
struct Samples {
    p50: Vec<f64>,
    p99: Vec<f64>,
    rate: Vec<f64>,
}

async fn round(client: &mut MotorServiceClient<Channel>, calls: usize) -> (f64, f64, f64) {
    let mut lat = Vec::with_capacity(calls);
    let start = Instant::now();
    for _ in 0..calls {
        let t = Instant::now();
        let req = GetPositionRequest {
            name: "left".into(),
            extra: None,
        };
        client.get_position(req).await.expect("GetPosition");
        lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let rate = calls as f64 / start.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    (lat[calls / 2], lat[calls * 99 / 100], rate)
}

async fn measure(servers: &[Target]) -> String {
    let mut clients = Vec::new();
    for s in servers {
        for (transport, channel) in [
            ("tcp", tcp_channel(&s.tcp).await),
            ("unix", unix_channel(&s.socket).await),
        ] {
            let mut c = MotorServiceClient::new(channel);
            round(&mut c, WARMUP).await;
            clients.push((s.label, transport, c, Samples::default()));
        }
    }
    for _ in 0..ROUNDS {
        for (_, _, client, samples) in clients.iter_mut() {
            let (p50, p99, rate) = round(client, CALLS_PER_ROUND).await;
            samples.p50.push(p50);
            samples.p99.push(p99);
            samples.rate.push(rate);
        }
    }
    let mut out = format!(
        "GetPosition, sequential unary calls: {ROUNDS} interleaved rounds x {CALLS_PER_ROUND} calls per server and transport\n\
         {:<22} {:<5} {:>9} {:>9} {:>10} {:>12} {:>12}\n",
        "server", "via", "p50 us", "p99 us", "calls/s", "p50 / floor", "rate / floor"
    );
    for transport in ["tcp", "unix"] {
        let rows: Vec<_> = clients.iter().filter(|c| c.1 == transport).collect();
        let floor = &rows[0].3;
        let (f50, frate) = (median(&floor.p50), median(&floor.rate));
        for (label, _, _, s) in rows {
            let (p50, p99, rate) = (median(&s.p50), median(&s.p99), median(&s.rate));
            out += &format!(
                "{label:<22} {transport:<5} {p50:>9.1} {p99:>9.1} {rate:>10.0} {:>11.2}x {:>11.2}x\n",
                p50 / f50,
                rate / frate
            );
        }
    }
    out
}

/// The floor: a bare tonic MotorService on one thread, no actors.
fn floor_server(socket: PathBuf) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        eprintln!("listening address={}", tcp.local_addr().expect("addr"));
        let _ = std::fs::remove_file(&socket);
        let unix = UnixListener::bind(&socket).expect("bind unix");
        let tcp = tokio_stream::StreamExt::map(TcpListenerStream::new(tcp), |s| {
            if let Ok(s) = &s {
                let _ = s.set_nodelay(true);
            }
            s
        });
        let a = Server::builder()
            .add_service(MotorServiceServer::new(Floor))
            .serve_with_incoming(tcp);
        let b = Server::builder()
            .add_service(MotorServiceServer::new(Floor))
            .serve_with_incoming(UnixListenerStream::new(unix));
        let _ = tokio::join!(a, b);
    });
}

struct Floor;

type Reply<T> = Result<Response<T>, Status>;

fn no<T>() -> Reply<T> {
    Err(Status::unimplemented(
        "floor server answers GetPosition only",
    ))
}

#[tonic::async_trait]
impl MotorService for Floor {
    async fn get_position(&self, _: Request<GetPositionRequest>) -> Reply<GetPositionResponse> {
        Ok(Response::new(GetPositionResponse { position: 1.0 }))
    }
    async fn set_power(&self, _: Request<SetPowerRequest>) -> Reply<SetPowerResponse> {
        no()
    }
    async fn go_for(&self, _: Request<GoForRequest>) -> Reply<GoForResponse> {
        no()
    }
    async fn go_to(&self, _: Request<GoToRequest>) -> Reply<GoToResponse> {
        no()
    }
    async fn set_rpm(&self, _: Request<SetRpmRequest>) -> Reply<SetRpmResponse> {
        no()
    }
    async fn reset_zero_position(
        &self,
        _: Request<ResetZeroPositionRequest>,
    ) -> Reply<ResetZeroPositionResponse> {
        no()
    }
    async fn get_properties(
        &self,
        _: Request<GetPropertiesRequest>,
    ) -> Reply<GetPropertiesResponse> {
        no()
    }
    async fn stop(&self, _: Request<StopRequest>) -> Reply<StopResponse> {
        no()
    }
    async fn is_powered(&self, _: Request<IsPoweredRequest>) -> Reply<IsPoweredResponse> {
        no()
    }
    async fn is_moving(&self, _: Request<IsMovingRequest>) -> Reply<IsMovingResponse> {
        no()
    }
    async fn do_command(
        &self,
        _: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        no()
    }
    async fn get_status(
        &self,
        _: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        no()
    }
    async fn get_geometries(
        &self,
        _: Request<common::GetGeometriesRequest>,
    ) -> Reply<common::GetGeometriesResponse> {
        no()
    }
}
