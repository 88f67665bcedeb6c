//! `cargo bench -p axle-runtime --bench sessions`
//!
//! Three figures for sessions, each against a baseline from the same run:
//!
//! 1. **Stop latency after the deadline**, in process: a real
//!    `SessionSupervisor`, 1000 sessions each driving its own probe actuator,
//!    expiring one by one; then 1000 expiring together. Latency is the time
//!    from a session's deadline to its probe receiving `Stop`. The deadline
//!    used is a lower bound (taken before the call that set it), so the
//!    figure errs high. Baseline: how late a bare tokio timer fires for the
//!    same deadlines.
//! 2. **Session layer overhead**: the real `axle` over a Unix socket; SetPower
//!    with `viam-sid` against SetPower without, interleaved rounds.
//! 3. **Heartbeat capacity**: the real `axle` (one thread, as shipped), 1k,
//!    5k and 10k sessions over TCP each heartbeating every window/5 (400 ms).
//!    Reports axle's CPU, the heartbeats refused and the expiries axle
//!    logged (both are false expiries: every client is alive). Baseline:
//!    the same schedule of GetVersion calls, which no session touches.

mod bench_support;

use actix::prelude::*;
use axle_proto::motor::SetPowerRequest;
use axle_proto::motor::motor_service_client::MotorServiceClient;
use axle_proto::robot::robot_service_client::RobotServiceClient;
use axle_proto::robot::{GetVersionRequest, SendSessionHeartbeatRequest, StartSessionRequest};
use axle_runtime::config::SessionsConfig;
use axle_runtime::resources::Stoppable;
use axle_runtime::resources::actor::Stop;
use axle_runtime::sessions::Owner;
use axle_runtime::sessions::supervisor::{MonitoredCall, SessionSupervisor, StartSession};
use axle_sdk_module::ResourceError;
use bench_support::{axle_command, median, percentile, spawn_listening, tcp_channel, unix_channel};
use std::path::Path;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tonic::transport::Channel;

fn main() {
    let dir = std::env::temp_dir().join(format!("axle-bench-sessions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut report = stop_latency();
    report += &layer_overhead(&dir);
    report += &heartbeat_capacity(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    print!("{report}");
}

// ---------------------------------------------------------------- 1. stops

const EXPIRIES: usize = 1000;
const LATENCY_WINDOW: Duration = Duration::from_millis(50);
const STAGGER: Duration = Duration::from_millis(3);

/// An actuator that notes when `Stop` arrives.
struct Probe {
    index: usize,
    stops: mpsc::UnboundedSender<(usize, Instant)>,
}

impl Actor for Probe {
    type Context = Context<Self>;
}

impl Handler<Stop> for Probe {
    type Result = Result<(), ResourceError>;

    fn handle(&mut self, _: Stop, _: &mut Context<Self>) -> Self::Result {
        let _ = self.stops.send((self.index, Instant::now()));
        Ok(())
    }
}

/// Starts a session that drives probe `index`; returns a lower bound of its deadline.
async fn session_driving_probe(
    supervisor: &Addr<SessionSupervisor>,
    index: usize,
    stops: &mpsc::UnboundedSender<(usize, Instant)>,
) -> Instant {
    let owner = Owner::default();
    let start = StartSession {
        resume: String::new(),
        owner: owner.clone(),
        peer: "bench".into(),
        via: None,
    };
    let started = supervisor
        .send(start)
        .await
        .expect("mailbox")
        .expect("start");
    let probe = Probe {
        index,
        stops: stops.clone(),
    }
    .start();
    let resource = Stoppable {
        name: format!("rdk:component:motor/probe{index}").into(),
        stopper: probe.recipient(),
    };
    let before = Instant::now();
    let call = MonitoredCall {
        sid: Some(started.id.to_string()),
        owner,
        via: None,
        resource: Some(resource),
    };
    supervisor.send(call).await.expect("mailbox").expect("call");
    before + LATENCY_WINDOW
}

async fn collect_stops(
    rx: &mut mpsc::UnboundedReceiver<(usize, Instant)>,
    deadlines: &[Instant],
) -> Vec<f64> {
    let mut late = vec![0.0; deadlines.len()];
    for _ in 0..deadlines.len() {
        let (i, at) = rx.recv().await.expect("stop");
        late[i] = at.saturating_duration_since(deadlines[i]).as_secs_f64() * 1e3;
    }
    late
}

/// How late bare tokio timers fire for the same schedule: the floor.
async fn timer_floor() -> Vec<f64> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    for _ in 0..EXPIRIES {
        let deadline = Instant::now() + LATENCY_WINDOW;
        let tx = tx.clone();
        actix::spawn(async move {
            tokio::time::sleep_until(deadline.into()).await;
            let _ = tx.send(
                Instant::now()
                    .saturating_duration_since(deadline)
                    .as_secs_f64()
                    * 1e3,
            );
        });
        tokio::time::sleep(STAGGER).await;
    }
    let mut late = Vec::new();
    for _ in 0..EXPIRIES {
        late.push(rx.recv().await.expect("timer"));
    }
    late
}

fn stop_latency() -> String {
    let system = actix::System::new();
    system.block_on(async {
        let supervisor = SessionSupervisor::new(SessionsConfig {
            heartbeat_window: LATENCY_WINDOW,
            max_sessions: 100_000,
        })
        .expect("supervisor")
        .start();
        let (tx, mut rx) = mpsc::unbounded_channel();
        // One by one: each session expires alone, others live around it.
        let mut deadlines = Vec::new();
        for i in 0..EXPIRIES {
            deadlines.push(session_driving_probe(&supervisor, i, &tx).await);
            tokio::time::sleep(STAGGER).await;
        }
        let late = collect_stops(&mut rx, &deadlines).await;
        let floor = timer_floor().await;
        // Together: a burst of sessions whose deadlines fall within a few ms.
        let mut deadlines = Vec::new();
        for i in 0..EXPIRIES {
            deadlines.push(session_driving_probe(&supervisor, i, &tx).await);
        }
        let spread = deadlines[EXPIRIES - 1] - deadlines[0];
        let burst = collect_stops(&mut rx, &deadlines).await;
        let last_deadline = deadlines[EXPIRIES - 1];
        let all_stopped = burst
            .iter()
            .zip(&deadlines)
            .map(|(ms, d)| *d + Duration::from_secs_f64(ms / 1e3))
            .max()
            .expect("stops");
        let after_last = all_stopped.saturating_duration_since(last_deadline);
        let row = |label: &str, v: &[f64]| {
            format!(
                "{label:<34} {:>8.3} {:>8.3} {:>8.3}\n",
                percentile(v, 50.0),
                percentile(v, 99.0),
                percentile(v, 100.0)
            )
        };
        format!(
            "1. Stop latency after the deadline ({EXPIRIES} expiries, window {LATENCY_WINDOW:?}, one every {STAGGER:?})\n\
             {:<34} {:>8} {:>8} {:>8}\n{}{}\
             ratio axle / timer floor: p50 {:.2}x, p99 {:.2}x\n\
             {EXPIRIES} sessions expiring together (deadlines spread over {:.2} ms): \
             all {EXPIRIES} probes had Stop {:.2} ms after the last deadline \
             ({:.2} ms after the first)\n\n",
            "", "p50 ms", "p99 ms", "max ms",
            row("session deadline -> Stop received", &late),
            row("floor: tokio timer lateness", &floor),
            percentile(&late, 50.0) / percentile(&floor, 50.0),
            percentile(&late, 99.0) / percentile(&floor, 99.0),
            spread.as_secs_f64() * 1e3,
            after_last.as_secs_f64() * 1e3,
            (all_stopped - deadlines[0]).as_secs_f64() * 1e3,
        )
    })
}

// ---------------------------------------------------------------- 2. layer

const ROUNDS: usize = 7;
const CALLS: usize = 2000;

struct Axle {
    child: Child,
    tcp: String,
}

impl Drop for Axle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_axle(dir: &Path, name: &str, config: &str) -> (Axle, std::path::PathBuf) {
    let config_path = dir.join(format!("{name}.json"));
    std::fs::write(&config_path, config).expect("config");
    let socket = dir.join(format!("{name}.sock"));
    let log = dir.join(format!("{name}.log"));
    let mut cmd = axle_command(&socket, 0);
    cmd.arg("--config").arg(&config_path);
    let (child, tcp) = spawn_listening(cmd, Some(log.clone()));
    (Axle { child, tcp }, log)
}

const ROBOT: &str = r#"{"network": {"sessions": {"heartbeat_window": "2s", "max_sessions": 20000}},
  "components": [{"name": "left", "api": "rdk:component:motor", "model": "fake"}]}"#;

async fn set_power_round(client: &mut MotorServiceClient<Channel>, sid: Option<&str>) -> f64 {
    let mut lat = Vec::with_capacity(CALLS);
    for i in 0..CALLS {
        let mut req = tonic::Request::new(SetPowerRequest {
            name: "left".into(),
            power_pct: if i % 2 == 0 { 0.5 } else { 0.25 },
            extra: None,
        });
        if let Some(sid) = sid {
            req.metadata_mut()
                .insert("viam-sid", sid.parse().expect("ascii"));
        }
        let t = Instant::now();
        client.set_power(req).await.expect("SetPower");
        lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    median(&lat)
}

fn layer_overhead(dir: &Path) -> String {
    let (_axle, _) = start_axle(dir, "overhead", ROBOT);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let channel = unix_channel(&dir.join("overhead.sock")).await;
        let mut robot = RobotServiceClient::new(channel.clone());
        let sid = robot
            .start_session(StartSessionRequest::default())
            .await
            .expect("session")
            .into_inner()
            .id;
        let mut motor = MotorServiceClient::new(channel);
        set_power_round(&mut motor, Some(&sid)).await;
        set_power_round(&mut motor, None).await;
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            with.push(set_power_round(&mut motor, Some(&sid)).await);
            without.push(set_power_round(&mut motor, None).await);
        }
        let (w, wo) = (median(&with), median(&without));
        format!(
            "2. Session layer overhead (SetPower over a Unix socket, {ROUNDS} interleaved rounds x {CALLS} calls)\n\
             with viam-sid    p50 {w:>7.1} us\n\
             without viam-sid p50 {wo:>7.1} us\n\
             ratio with / without: {:.3}x ({:+.1} us)\n\n",
            w / wo,
            w - wo
        )
    })
}

// ------------------------------------------------------------ 3. capacity

const LEVELS: [usize; 3] = [1000, 5000, 10_000];
const CHANNELS: usize = 16;
const INTERVAL: Duration = Duration::from_millis(400);
const MEASURE: Duration = Duration::from_secs(10);

/// CPU seconds used so far by process `pid` (user + system).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("stat format")
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 =
        fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    ticks / clock_ticks()
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn expiries_logged(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .map(|t| t.matches("session expired").count())
        .unwrap_or(0)
}

#[derive(Default)]
struct Counters {
    ok: AtomicU64,
    refused: AtomicU64,
    /// Largest gap between two answered heartbeats of one session, in µs.
    max_gap_us: AtomicU64,
}

/// What one level measured.
struct Level {
    axle_cpu: f64,
    bench_cpu: f64,
    rate: f64,
    refused: u64,
    logged: usize,
    max_gap: Duration,
}

/// Runs `sessions` clients on the schedule for MEASURE; `heartbeat` false
/// sends GetVersion instead (the baseline).
async fn level(axle: &Axle, log: &Path, sessions: usize, heartbeat: bool) -> Level {
    let mut channels = Vec::new();
    for _ in 0..CHANNELS {
        channels.push(tcp_channel(&axle.tcp).await);
    }
    let mut ids = Vec::with_capacity(sessions);
    for i in 0..sessions {
        let mut robot = RobotServiceClient::new(channels[i % CHANNELS].clone());
        let id = if heartbeat {
            let r = robot.start_session(StartSessionRequest::default()).await;
            r.expect("StartSession").into_inner().id
        } else {
            String::new()
        };
        ids.push(id);
    }
    let counters = Arc::new(Counters::default());
    let logged_before = expiries_logged(log);
    let mut tasks = Vec::with_capacity(sessions);
    for (i, id) in ids.into_iter().enumerate() {
        let mut robot = RobotServiceClient::new(channels[i % CHANNELS].clone());
        let counters = counters.clone();
        // Spread the phases so the load is even, as independent clients are.
        let phase = INTERVAL.mul_f64(i as f64 / sessions as f64);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(phase).await;
            let mut tick = tokio::time::interval(INTERVAL);
            let mut last = Instant::now();
            loop {
                tick.tick().await;
                let answered = if heartbeat {
                    let req = SendSessionHeartbeatRequest { id: id.clone() };
                    robot.send_session_heartbeat(req).await.map(drop)
                } else {
                    robot.get_version(GetVersionRequest {}).await.map(drop)
                };
                match answered {
                    Ok(()) => {
                        let now = Instant::now();
                        let gap = (now - last).as_micros() as u64;
                        counters.max_gap_us.fetch_max(gap, Ordering::Relaxed);
                        counters.ok.fetch_add(1, Ordering::Relaxed);
                        last = now;
                    }
                    Err(_) => {
                        counters.refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    // One interval to settle, then measure.
    tokio::time::sleep(INTERVAL * 2).await;
    counters.max_gap_us.store(0, Ordering::Relaxed);
    let ok_before = counters.ok.load(Ordering::Relaxed);
    let (axle_cpu0, bench_cpu0, t0) = (
        cpu_seconds(axle.child.id()),
        cpu_seconds(std::process::id()),
        Instant::now(),
    );
    tokio::time::sleep(MEASURE).await;
    let wall = t0.elapsed().as_secs_f64();
    let result = Level {
        axle_cpu: (cpu_seconds(axle.child.id()) - axle_cpu0) / wall,
        bench_cpu: (cpu_seconds(std::process::id()) - bench_cpu0) / wall,
        rate: (counters.ok.load(Ordering::Relaxed) - ok_before) as f64 / wall,
        refused: counters.refused.load(Ordering::Relaxed),
        logged: expiries_logged(log) - logged_before,
        max_gap: Duration::from_micros(counters.max_gap_us.load(Ordering::Relaxed)),
    };
    for t in tasks {
        t.abort();
    }
    if heartbeat {
        // Let this level's sessions expire before the next level counts.
        tokio::time::sleep(Duration::from_millis(2500)).await;
    }
    result
}

fn heartbeat_capacity(dir: &Path) -> String {
    let (axle, log) = start_axle(dir, "capacity", ROBOT);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut out = format!(
            "3. Heartbeat capacity (axle on one thread, window 2s, heartbeat every {INTERVAL:?}, {CHANNELS} TCP connections, {MEASURE:?} per level)\n\
             {:<26} {:>10} {:>10} {:>9} {:>8} {:>8} {:>11}\n",
            "load", "calls/s", "axle CPU", "bench CPU", "refused", "expired", "max gap ms"
        );
        let mut row = |label: String, l: &Level| {
            out += &format!(
                "{label:<26} {:>10.0} {:>9.1}% {:>8.1}% {:>8} {:>8} {:>11.1}\n",
                l.rate,
                l.axle_cpu * 100.0,
                l.bench_cpu * 100.0,
                l.refused,
                l.logged,
                l.max_gap.as_secs_f64() * 1e3
            );
        };
        let mut last = None;
        for n in LEVELS {
            let l = level(&axle, &log, n, true).await;
            row(format!("{n} sessions heartbeating"), &l);
            last = Some(l);
        }
        let base = level(&axle, &log, LEVELS[2], false).await;
        row(format!("baseline: {} GetVersion", LEVELS[2]), &base);
        if let Some(l) = last {
            out += &format!(
                "axle CPU per heartbeat / per GetVersion at 10k: {:.2}x\n",
                (l.axle_cpu / l.rate) / (base.axle_cpu / base.rate)
            );
        }
        out
    })
}
