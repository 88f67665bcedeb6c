//! Modules benchmark: what a module costs and how fast one recovers.
//!
//! 1. GetPosition on a motor served by a module (client -> axle -> module ->
//!    back) against the same call on a built-in motor, over axle's Unix
//!    socket. Both motors run the same driver (`FakeMotor`): the module is
//!    `modules/fakes`. Calls alternate in rounds so noise hits both.
//! 2. Module start-up: from spawning the module to its Ready answer, as
//!    axle logs it.
//! 3. Crash to serving again: `kill -9` the module, then call GetPosition
//!    until it answers. Each sample runs in a fresh axle, so each crash is a
//!    first crash (later ones in a row back off: 10 ms, 20 ms, ...).
//!
//! Run: `cargo bench -p axle-runtime --bench modules`

mod bench_support;

use axle_proto::motor::motor_service_client::MotorServiceClient;
use bench_support::{
    bench_dir, build_module, client_runtime, median, percentile, position, start_axle, unix_channel,
};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ROUNDS: usize = 20;
const CALLS_PER_ROUND: usize = 200;
const CRASH_SAMPLES: usize = 10;

fn main() {
    let module = build_module();
    let cleanup = bench_dir("modules");
    let dir = cleanup.0.clone();
    let config = format!(
        r#"{{"modules": [{{"name": "fakes", "executable_path": "{}"}}],
                "components": [
                  {{"name": "builtin", "api": "rdk:component:motor", "model": "fake"}},
                  {{"name": "modular", "api": "rdk:component:motor", "model": "axle:fake:motor"}}]}}"#,
        module.display()
    );
    let rt = client_runtime();
    rt.block_on(latency(&dir, &config));
    rt.block_on(recovery(&dir, &config));
}

async fn latency(dir: &Path, config: &str) {
    let axle = start_axle(dir, "latency", config);
    let socket = dir.join("latency.sock");
    let mut client = MotorServiceClient::new(unix_channel(&socket).await);
    let log = read_log(&dir.join("latency.log"), "module serving");
    let module_socket = log
        .lines()
        .find_map(|l| l.split("module serving socket=").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .map(PathBuf::from)
        .expect("the module's socket in the log");
    let mut direct = MotorServiceClient::new(unix_channel(&module_socket).await);
    for _ in 0..500 {
        position(&mut client, "builtin").await.expect("builtin");
        position(&mut client, "modular").await.expect("modular");
        position(&mut direct, "modular").await.expect("direct");
    }
    let (mut builtin, mut modular, mut straight) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        for (via_axle, name, samples) in [
            (true, "builtin", &mut builtin),
            (true, "modular", &mut modular),
            (false, "modular", &mut straight),
        ] {
            let c = if via_axle { &mut client } else { &mut direct };
            for _ in 0..CALLS_PER_ROUND {
                let t = Instant::now();
                position(c, name).await.expect("call");
                samples.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
    }
    drop(axle);
    let (b, m) = (median(&builtin), median(&modular));
    println!(
        "GetPosition over axle's Unix socket, {} calls each (µs):",
        builtin.len()
    );
    println!(
        "  built-in motor      p50 {b:7.1}  p99 {:7.1}",
        percentile(&builtin, 99.0)
    );
    println!(
        "  modular motor       p50 {m:7.1}  p99 {:7.1}",
        percentile(&modular, 99.0)
    );
    println!(
        "  the module, direct  p50 {:7.1}  p99 {:7.1}  (its own socket, without axle)",
        median(&straight),
        percentile(&straight, 99.0)
    );
    println!(
        "  ratio modular/built-in (p50) {:.2}; the module hop adds {:.1} µs at p50",
        m / b,
        m - b
    );
}

async fn recovery(dir: &Path, config: &str) {
    let (mut startups, mut recoveries) = (Vec::new(), Vec::new());
    for i in 0..CRASH_SAMPLES {
        let name = format!("crash-{i}");
        let axle = start_axle(dir, &name, config);
        let socket = dir.join(format!("{name}.sock"));
        let mut client = MotorServiceClient::new(unix_channel(&socket).await);
        position(&mut client, "modular").await.expect("modular");
        let log = read_log(&dir.join(format!("{name}.log")), "module ready");
        startups.push(field(&log, "module ready", "took_ms=").expect("startup time in the log"));
        let pid: i32 = field(&log, "module started", "pid=").expect("module pid") as i32;
        let killed = Instant::now();
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        let mut failed = false;
        loop {
            match position(&mut client, "modular").await {
                Ok(_) if failed => break,
                Ok(_) => {}
                Err(_) => failed = true,
            }
            assert!(
                killed.elapsed() < Duration::from_secs(10),
                "the module did not come back"
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        recoveries.push(killed.elapsed().as_secs_f64() * 1e3);
        drop(axle);
    }
    println!("module start-up, spawn to Ready answered ({CRASH_SAMPLES} starts, ms):");
    println!(
        "  p50 {:6.1}  max {:6.1}",
        median(&startups),
        percentile(&startups, 100.0)
    );
    println!("kill -9 to the modular motor answering again ({CRASH_SAMPLES} first crashes, ms):");
    println!(
        "  p50 {:6.1}  max {:6.1}",
        median(&recoveries),
        percentile(&recoveries, 100.0)
    );
}

/// The log file, once it holds `marker`: the thread writing it may lag.
fn read_log(path: &Path, marker: &str) -> String {
    let mut log = String::new();
    for _ in 0..200 {
        log = std::fs::read_to_string(path).unwrap_or_default();
        if log.contains(marker) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    log
}

/// The number after `key` on the first log line containing `marker`.
fn field(log: &str, marker: &str, key: &str) -> Option<f64> {
    let line = log.lines().find(|l| l.contains(marker))?;
    let rest = line.split(key).nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}
