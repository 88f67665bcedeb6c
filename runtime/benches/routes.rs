//! Routes benchmark: the rendezvous (`axle signal`) under many robots, and
//! connecting through it for each ICE pair type.
//!
//! - A rendezvous with 1 and then 1000 registered robots, simulated here:
//!   each has a connection of its own, authenticates with its host's
//!   secret and keeps two Answer streams open, answering at once. Reported:
//!   the rendezvous's memory and CPU (from /proc), and the time from `Call`
//!   to the robot's answer, at 1000 robots against 1 robot.
//! - The Python client through the rendezvous, in the namespace internet of
//!   the routes tests (`runtime/benches/routes_python.py`): connect time per
//!   pair type (LAN host, server-reflexive, relayed) against direct h2c on
//!   the LAN, and the time from an uplink drop to the remote client's motor
//!   stopping.
//!
//! The bench runs in a network namespace of its own (it re-executes itself
//! under `unshare --net`): nothing leaves the machine.
//!
//! Run: `cargo bench -p axle-runtime --bench routes` (about 5 minutes;
//! `AXLE_BENCH_RUST_ONLY=1` skips the Python half).

mod bench_support;

use axle_proto::rpc::auth_service_client::AuthServiceClient;
use axle_proto::rpc::{AuthenticateRequest, Credentials};
use axle_proto::webrtc::signaling_service_client::SignalingServiceClient;
use axle_proto::webrtc::{
    AnswerResponse, AnswerResponseDoneStage, AnswerResponseInitStage, CallRequest,
    CallUpdateRequest, answer_request, answer_response, call_update_request,
};
use bench_support::{bench_dir, median, percentile, spawn_listening};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, Endpoint};

const ROBOTS: usize = 1000;
const CALLS: usize = 200;
const IDLE: Duration = Duration::from_secs(30);

fn main() {
    if std::env::var("AXLE_NETNS").as_deref() != Ok("1") {
        return bench_support::in_netns();
    }
    // A thousand simulated robots hold a thousand connections here too.
    axle_rendezvous::serve::raise_open_file_limit();
    let cleanup = bench_dir("routes");
    let dir = cleanup.0.clone();
    let config = dir.join("rendezvous.json");
    std::fs::write(&config, rendezvous_config()).expect("config");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_axle"));
    cmd.args([
        "signal",
        "--log-level",
        "warn,axle_rendezvous::serve=info",
        "--config",
    ])
    .arg(&config);
    let (rendezvous, address) = spawn_listening(cmd, Some(dir.join("rendezvous.log")));
    let pid = rendezvous.id();
    let _guard = bench_support::Axle(rendezvous);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(many_robots(&address, pid));
    drop(rt);
    if std::env::var_os("AXLE_BENCH_RUST_ONLY").is_none() {
        python();
    }
}

fn rendezvous_config() -> String {
    let hosts: Vec<String> = (0..ROBOTS)
        .map(|i| {
            format!(
                r#""{}": {{"secret": "secret-{i}", "api_keys": ["bench"]}}"#,
                host(i)
            )
        })
        .collect();
    format!(
        r#"{{"network": {{"bind_address": "127.0.0.1:0"}},
  "auth": {{"handlers": [{{"type": "api-key", "config": {{"bench": "bench-key"}}}}]}},
  "hosts": {{{}}}}}"#,
        hosts.join(",\n")
    )
}

fn host(i: usize) -> String {
    format!("robot-{i:04}.axle")
}

async fn many_robots(address: &str, pid: u32) {
    let idle = Usage::of(pid);
    let caller = connect(address).await;
    let token = authenticate(&caller, "bench", "api-key", "bench-key").await;
    let mut robots = Vec::new();
    robots.push(robot(address, 0).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let one = Usage::of(pid);
    calls(&caller, &token, 1).await; // warm-up
    let with_one = calls(&caller, &token, 1).await;
    let started = Instant::now();
    for i in 1..ROBOTS {
        robots.push(robot(address, i).await);
    }
    let registering = started.elapsed();
    eprintln!("registered {ROBOTS} robots in {registering:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let all = Usage::of(pid);
    tokio::time::sleep(IDLE).await;
    let after_idle = Usage::of(pid);
    let with_all = calls(&caller, &token, ROBOTS).await;
    let per_robot_kib = (all.rss_kib - one.rss_kib) as f64 / (ROBOTS - 1) as f64;
    println!("rendezvous with simulated robots (2 Answer streams each, one connection each):");
    println!("| state | RSS MiB | CPU |");
    println!("| --- | ---: | ---: |");
    println!(
        "| started, no robot | {:.1} | |",
        idle.rss_kib as f64 / 1024.0
    );
    println!("| 1 robot | {:.1} | |", one.rss_kib as f64 / 1024.0);
    println!(
        "| {ROBOTS} robots | {:.1} | {:.2} % of a core while idle for {} s (heartbeats, keepalives) |",
        all.rss_kib as f64 / 1024.0,
        100.0 * (after_idle.cpu_s - all.cpu_s) / IDLE.as_secs_f64(),
        IDLE.as_secs()
    );
    println!(
        "\n{per_robot_kib:.1} KiB per registered robot; {ROBOTS} robots registered in {:.2} s",
        registering.as_secs_f64()
    );
    println!("\nCall to the robot's answer ({CALLS} calls, to random hosts):");
    println!("| robots registered | p50 ms | p99 ms | p50 / 1 robot | p99 / 1 robot |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    let (b50, b99) = (median(&with_one), percentile(&with_one, 99.0));
    for (n, s) in [(1, &with_one), (ROBOTS, &with_all)] {
        let (p50, p99) = (median(s), percentile(s, 99.0));
        println!(
            "| {n} | {p50:.2} | {p99:.2} | {:.2}× | {:.2}× |",
            p50 / b50,
            p99 / b99
        );
    }
    drop(robots);
}

/// Memory and CPU time of a process, from /proc.
struct Usage {
    rss_kib: u64,
    cpu_s: f64,
}

impl Usage {
    fn of(pid: u32) -> Self {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
        let rss_kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("VmRSS");
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
        // Fields after the command's closing parenthesis; utime and stime
        // are the 14th and 15th fields of the whole line.
        let rest = stat.rsplit_once(')').expect("stat").1;
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0);
        // /proc counts in USER_HZ, which Linux fixes at 100.
        Self {
            rss_kib,
            cpu_s: ticks as f64 / 100.0,
        }
    }
}

async fn connect(address: &str) -> Channel {
    Endpoint::from_shared(format!("http://{address}"))
        .expect("uri")
        .tcp_nodelay(true)
        .connect()
        .await
        .expect("connect to the rendezvous")
}

async fn authenticate(channel: &Channel, entity: &str, kind: &str, secret: &str) -> String {
    let req = AuthenticateRequest {
        entity: entity.into(),
        credentials: Some(Credentials {
            r#type: kind.into(),
            payload: secret.into(),
        }),
    };
    AuthServiceClient::new(channel.clone())
        .authenticate(req)
        .await
        .expect("authenticate")
        .into_inner()
        .access_token
}

fn request<T>(message: T, host: &str, token: &str) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    let meta = req.metadata_mut();
    meta.insert("rpc-host", host.parse().expect("host"));
    meta.insert(
        "authorization",
        format!("Bearer {token}").parse().expect("token"),
    );
    req
}

/// Simulated robot `i`: its own connection, two workers; each answers any
/// offer at once (answer, done) and opens its next stream.
async fn robot(address: &str, i: usize) -> tokio::task::JoinHandle<()> {
    let channel = connect(address).await;
    let token = authenticate(&channel, &host(i), "robot-secret", &format!("secret-{i}")).await;
    let mut streams = Vec::new();
    for _ in 0..2 {
        streams.push(open(&channel, i, &token).await);
    }
    tokio::spawn(async move {
        let workers = streams.into_iter().map(|first| {
            let (channel, token) = (channel.clone(), token.clone());
            async move {
                let mut stream = first;
                loop {
                    answer_one(stream).await;
                    stream = open(&channel, i, &token).await;
                }
            }
        });
        futures::future::join_all(workers).await;
    })
}

type AnswerStream = (
    mpsc::Sender<AnswerResponse>,
    tonic::Streaming<axle_proto::webrtc::AnswerRequest>,
);

async fn open(channel: &Channel, i: usize, token: &str) -> AnswerStream {
    let (tx, rx) = mpsc::channel(4);
    let mut req = request(ReceiverStream::new(rx), &host(i), token);
    req.metadata_mut()
        .insert("heartbeats-allowed", "true".parse().expect("value"));
    let stream = SignalingServiceClient::new(channel.clone())
        .answer(req)
        .await
        .expect("Answer")
        .into_inner();
    (tx, stream)
}

/// Waits for an offer on the stream; answers it at once on a task of its
/// own (which keeps the stream until the rendezvous ends it, as a robot
/// does), and returns to have the next stream opened.
async fn answer_one((tx, mut stream): AnswerStream) {
    while let Ok(Some(r)) = stream.message().await {
        if let Some(answer_request::Stage::Init(_)) = r.stage {
            tokio::spawn(async move {
                for stage in [
                    answer_response::Stage::Init(AnswerResponseInitStage {
                        sdp: "answer".into(),
                    }),
                    answer_response::Stage::Done(AnswerResponseDoneStage {}),
                ] {
                    let response = AnswerResponse {
                        uuid: r.uuid.clone(),
                        stage: Some(stage),
                    };
                    if tx.send(response).await.is_err() {
                        return;
                    }
                }
                while let Ok(Some(_)) = stream.message().await {}
            });
            return;
        }
    }
}

/// `CALLS` calls to hosts among the first `robots`; each sample is the
/// time from `Call` to the robot's answer.
async fn calls(channel: &Channel, token: &str, robots: usize) -> Vec<f64> {
    let mut client = SignalingServiceClient::new(channel.clone());
    let mut samples = Vec::new();
    for n in 0..CALLS {
        let target = host(n * 7919 % robots);
        let offer = CallRequest {
            sdp: "offer".into(),
            disable_trickle: false,
        };
        let started = Instant::now();
        let mut stream = client
            .call(request(offer, &target, token))
            .await
            .expect("Call")
            .into_inner();
        let uuid = match stream.message().await {
            Ok(Some(answer)) => {
                samples.push(started.elapsed().as_secs_f64() * 1e3);
                answer.uuid
            }
            other => {
                eprintln!(
                    "call {n} to {target} failed after {:?}: {other:?}",
                    started.elapsed()
                );
                continue;
            }
        };
        while let Ok(Some(_)) = stream.message().await {}
        // The caller is done too: the call ends on both sides.
        let done = CallUpdateRequest {
            uuid: uuid.clone(),
            update: Some(call_update_request::Update::Done(true)),
        };
        client
            .call_update(request(done, &target, token))
            .await
            .expect("CallUpdate");
        // Let the robot's worker open its next stream.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    samples
}

/// The Python client's figures in the namespace internet, if the test
/// venv is there.
fn python() {
    bench_support::python_script("routes_python.py", &[], false);
}
