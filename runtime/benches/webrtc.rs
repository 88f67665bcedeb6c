//! WebRTC benchmark: what a peer connection costs against direct h2c, in
//! the same run, on loopback.
//!
//! - Dial: `RobotClient::connect` to its first ResourceNames answered,
//!   direct vs over WebRTC (signaling at the robot, then ICE, DTLS, SCTP).
//! - GetPosition round trips on a connected client, interleaved rounds.
//! - The Python viam-sdk's own figures beside them, if `target/venv` has it.
//!
//! The bench runs in a network namespace of its own (it re-executes itself
//! under `unshare --net`), as WebRTC tests must: nothing leaves the machine.
//!
//! Run: `cargo bench -p axle-runtime --bench webrtc`

mod bench_support;

use axle_proto::motor::GetPositionRequest;
use axle_proto::motor::motor_service_client::MotorServiceClient;
use axle_sdk_module::client::{Options, RobotClient};
use bench_support::{bench_dir, client_runtime, median, percentile, start_axle_tcp};
use std::time::{Duration, Instant};

const DIALS: usize = 30;
const ROUNDS: usize = 20;
const CALLS_PER_ROUND: usize = 200;

const ROBOT: &str = r#"{"network": {"mdns": false},
  "components": [{"name": "left", "api": "rdk:component:motor", "model": "fake"}]}"#;

fn main() {
    if std::env::var("AXLE_NETNS").as_deref() != Ok("1") {
        return bench_support::in_netns();
    }
    let cleanup = bench_dir("webrtc");
    let dir = cleanup.0.clone();
    let (_axle, address) = start_axle_tcp(&dir, "robot", ROBOT);
    let rt = client_runtime();
    rt.block_on(dials(&address));
    rt.block_on(latency(&address));
    python(&address);
}

fn options(webrtc: bool) -> Options {
    Options {
        webrtc,
        disable_sessions: true,
        dial_timeout: Duration::from_secs(10),
        ..Options::default()
    }
}

async fn dials(address: &str) {
    let mut direct = Vec::new();
    let mut webrtc = Vec::new();
    for _ in 0..DIALS {
        for (over, samples) in [(false, &mut direct), (true, &mut webrtc)] {
            let started = Instant::now();
            let robot = RobotClient::connect(address, options(over))
                .await
                .expect("dial");
            samples.push(started.elapsed().as_secs_f64() * 1e3);
            assert_eq!(robot.is_webrtc(), over);
            drop(robot);
            // Let the peer close before the next dial.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    println!("dial to first ResourceNames answered, Rust client ({DIALS} dials each):");
    println!("| route | p50 ms | p90 ms | max ms | p50 / direct |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let base = median(&direct);
    for (name, s) in [("direct h2c (baseline)", &direct), ("WebRTC", &webrtc)] {
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {:.2}× |",
            median(s),
            percentile(s, 90.0),
            percentile(s, 100.0),
            median(s) / base
        );
    }
}

async fn latency(address: &str) {
    let mut clients = Vec::new();
    for over in [false, true] {
        let robot = RobotClient::connect(address, options(over))
            .await
            .expect("dial");
        clients.push((MotorServiceClient::new(robot.channel()), Vec::new(), robot));
    }
    let call = |c: &mut MotorServiceClient<_>| {
        let mut c = c.clone();
        async move {
            c.get_position(GetPositionRequest {
                name: "left".into(),
                extra: None,
            })
            .await
            .expect("GetPosition")
        }
    };
    for (client, _, _) in &mut clients {
        for _ in 0..300 {
            call(client).await;
        }
    }
    for _ in 0..ROUNDS {
        for (client, samples, _) in &mut clients {
            for _ in 0..CALLS_PER_ROUND {
                let started = Instant::now();
                call(client).await;
                samples.push(started.elapsed().as_secs_f64() * 1e6);
            }
        }
    }
    println!(
        "\nGetPosition round trip, Rust client ({} calls each, interleaved rounds):",
        ROUNDS * CALLS_PER_ROUND
    );
    println!("| route | p50 µs | p99 µs | p50 / h2c | p99 / h2c |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let (b50, b99) = (median(&clients[0].1), percentile(&clients[0].1, 99.0));
    for (name, (_, s, _)) in ["direct h2c (baseline)", "WebRTC data channel"]
        .iter()
        .zip(&clients)
    {
        let (p50, p99) = (median(s), percentile(s, 99.0));
        println!(
            "| {name} | {p50:.1} | {p99:.1} | {:.2}× | {:.2}× |",
            p50 / b50,
            p99 / b99
        );
    }
}

/// The Python client's figures, if the test venv is there.
fn python(address: &str) {
    bench_support::python_script("webrtc_python.py", &[address], false);
}
