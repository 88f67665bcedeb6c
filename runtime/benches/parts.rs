//! Parts benchmark: what a part hop costs, and how fast a restarted
//! sub-part is served again.
//!
//! Three axle processes on Unix sockets: `leaf` (a fake motor `left`), `mid`
//! (remote `leaf`), `top` (remote `mid`). GetPosition on the same motor:
//! directly on `leaf`, through one hop (`leaf:left` on `mid`) and through two
//! (`mid:leaf:left` on `top`). Calls alternate in rounds so noise hits all.
//! Then `leaf` is restarted, and the time until `mid` serves `leaf:left`
//! again is measured from the moment `leaf` listens.
//!
//! Run: `cargo bench -p axle-runtime --bench parts`

mod bench_support;

use axle_proto::motor::motor_service_client::MotorServiceClient;
use bench_support::{
    Axle, bench_dir, client_runtime, median, percentile, position, start_axle, unix_channel,
};
use std::path::Path;
use std::time::{Duration, Instant};

const ROUNDS: usize = 20;
const CALLS_PER_ROUND: usize = 200;
const RESTARTS: usize = 5;

fn remote(dir: &Path, name: &str) -> String {
    format!(
        r#"{{"remotes": [{{"name": "{name}", "address": "{}", "connection_check_interval": "200ms"}}]}}"#,
        dir.join(format!("{name}.sock")).display()
    )
}

const LEAF: &str =
    r#"{"components": [{"name": "left", "api": "rdk:component:motor", "model": "fake"}]}"#;

fn main() {
    let cleanup = bench_dir("parts");
    let dir = cleanup.0.clone();
    let rt = client_runtime();
    let leaf = start_axle(&dir, "leaf", LEAF);
    let _mid = start_axle(&dir, "mid", &remote(&dir, "leaf"));
    let _top = start_axle(&dir, "top", &remote(&dir, "mid"));
    rt.block_on(latency(&dir));
    rt.block_on(restarts(&dir, leaf));
}

async fn latency(dir: &Path) {
    let mut clients = Vec::new();
    for (part, name) in [
        ("leaf", "left"),
        ("mid", "leaf:left"),
        ("top", "mid:leaf:left"),
    ] {
        let channel = unix_channel(&dir.join(format!("{part}.sock"))).await;
        clients.push((MotorServiceClient::new(channel), name, Vec::new()));
    }
    for _ in 0..500 {
        for (client, name, _) in &mut clients {
            position(client, name).await.expect("warm-up call");
        }
    }
    for _ in 0..ROUNDS {
        for (client, name, samples) in &mut clients {
            for _ in 0..CALLS_PER_ROUND {
                let t = Instant::now();
                position(client, name).await.expect("call");
                samples.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
    }
    let direct = median(&clients[0].2);
    println!(
        "GetPosition over Unix sockets, {} calls each (µs):",
        clients[0].2.len()
    );
    for (label, (_, name, samples)) in ["direct on the leaf", "one hop", "two hops"]
        .iter()
        .zip(&clients)
    {
        let m = median(samples);
        println!(
            "  {label:<20} {name:<15} p50 {m:7.1}  p99 {:7.1}  ratio {:.2}",
            percentile(samples, 99.0),
            m / direct
        );
    }
    let (one, two) = (median(&clients[1].2), median(&clients[2].2));
    println!(
        "  each hop adds at p50: first {:.1} µs, second {:.1} µs",
        one - direct,
        two - one
    );
}

async fn restarts(dir: &Path, leaf: Axle) {
    let mut mid = MotorServiceClient::new(unix_channel(&dir.join("mid.sock")).await);
    let mut leaf = Some(leaf);
    let mut samples = Vec::new();
    for _ in 0..RESTARTS {
        drop(leaf.take());
        // The restarted leaf listens on the same socket; time from then on.
        let restarted = start_axle(dir, "leaf", LEAF);
        let listening = Instant::now();
        loop {
            if position(&mut mid, "leaf:left").await.is_ok() {
                break;
            }
            assert!(
                listening.elapsed() < Duration::from_secs(10),
                "not served again"
            );
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
        samples.push(listening.elapsed().as_secs_f64() * 1e3);
        leaf = Some(restarted);
    }
    println!(
        "a restarted sub-part served again by the main part ({RESTARTS} restarts, ms after it listens):"
    );
    println!(
        "  p50 {:6.1}  max {:6.1}",
        median(&samples),
        percentile(&samples, 100.0)
    );
}
