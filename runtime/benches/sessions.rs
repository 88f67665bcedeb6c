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
//!    10k and 50k sessions over TCP each heartbeating every window/5
//!    (400 ms), sent as pre-encoded HTTP/2 frames (`raw_h2`) so that the
//!    generator costs little beside axle. Reports axle's CPU and the
//!    generator's, the heartbeats refused and the expiries axle logged
//!    (both are false expiries: every client is alive), round trips and the
//!    longest gap between two answered heartbeats of one session.
//!    Baseline: the same schedule of GetVersion calls, which no session
//!    touches. Floors: the same schedule against bare `h2`, hyper and tonic
//!    servers that answer every call and do nothing else (`h2_floor`), each
//!    in its own process: what the HTTP/2 stack costs before axle's code.
//! 4. **Heartbeats under a flood**: h2load floods axle with GetPosition and
//!    1 MB DoCommand answers forwarded from a module; 20 sessions heartbeat
//!    every 20 ms (window 100 ms) beside 20 clients calling GetVersion on
//!    the same schedule. Round-trip p50/p99 of both, idle and flooded, and
//!    the sessions that expired (false expiries: every client is alive).

mod bench_support;
#[allow(dead_code)] // the test reads h2load's summary; this bench only floods
#[path = "../tests/support/h2load.rs"]
mod h2load;

use actix::prelude::*;
use axle_proto::motor::SetPowerRequest;
use axle_proto::motor::motor_service_client::MotorServiceClient;
use axle_proto::robot::robot_service_client::RobotServiceClient;
use axle_proto::robot::{GetVersionRequest, SendSessionHeartbeatRequest, StartSessionRequest};
use axle_runtime::config::SessionsConfig;
use axle_runtime::internals::{MonitoredCall, SessionSupervisor, StartSession};
use axle_sdk_module::ResourceError;
use axle_sdk_module::host::Stoppable;
use axle_sdk_module::host::actor::Stop;
use axle_wire::Owner;
use bench_support::{
    axle_command, h2_floor, h2_floor::Floor, median, percentile, raw_h2, spawn_listening,
    tcp_channel, unix_channel,
};
use futures::future::join_all;
use prost::Message;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tonic::transport::Channel;

fn main() {
    if let Some(role) = std::env::var_os(h2_floor::ROLE) {
        return h2_floor::serve(&role);
    }
    let dir = std::env::temp_dir().join(format!("axle-bench-sessions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // `AXLE_BENCH_PARTS=3` runs only part 3, for instance (to profile it).
    let parts = std::env::var("AXLE_BENCH_PARTS").unwrap_or_else(|_| "1234".into());
    let mut report = String::new();
    if parts.contains('1') {
        report += &stop_latency();
    }
    if parts.contains('2') {
        report += &layer_overhead(&dir);
    }
    if parts.contains('3') {
        report += &heartbeat_capacity(&dir);
    }
    if parts.contains('4') {
        report += &under_a_flood(&dir);
    }
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
        via: Default::default(),
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
        via: Default::default(),
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

/// A server process (axle, or the h2 floor), killed when dropped.
struct Server {
    child: Child,
    tcp: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_axle(dir: &Path, name: &str, config: &str) -> (Server, std::path::PathBuf) {
    let config_path = dir.join(format!("{name}.json"));
    std::fs::write(&config_path, config).expect("config");
    let socket = dir.join(format!("{name}.sock"));
    let log = dir.join(format!("{name}.log"));
    let mut cmd = axle_command(&socket, 0);
    cmd.arg("--config").arg(&config_path);
    let (child, tcp) = spawn_listening(cmd, Some(log.clone()));
    (Server { child, tcp }, log)
}

const ROBOT: &str = r#"{"network": {"sessions": {"heartbeat_window": "2s", "max_sessions": 60000}},
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

const LEVELS: [usize; 3] = [1000, 10_000, 50_000];
const CONNECTIONS: usize = 16;
const WINDOW: Duration = Duration::from_secs(2);
const INTERVAL: Duration = Duration::from_millis(400);
const MEASURE: Duration = Duration::from_secs(10);
const HEARTBEAT: &str = "/viam.robot.v1.RobotService/SendSessionHeartbeat";
const GET_VERSION: &str = "/viam.robot.v1.RobotService/GetVersion";

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

/// What one level measured.
struct Level {
    /// The server's CPU (axle's, or a floor's), in cores.
    server_cpu: f64,
    bench_cpu: f64,
    rate: f64,
    report: raw_h2::Report,
    logged: usize,
}

/// `n` new sessions, started over a few connections at once.
async fn start_sessions(axle: &Server, n: usize) -> Vec<String> {
    let mut channels = Vec::new();
    for _ in 0..CONNECTIONS {
        channels.push(tcp_channel(&axle.tcp).await);
    }
    // Four callers per connection: 50 000 sessions start well within the
    // first heartbeat's grace.
    let callers = CONNECTIONS * 4;
    let starts = (0..callers).map(|i| {
        let ch = channels[i % CONNECTIONS].clone();
        async move {
            let mut robot = RobotServiceClient::new(ch);
            let here = n / callers + usize::from(i < n % callers);
            let mut ids = Vec::with_capacity(here);
            for _ in 0..here {
                let r = robot.start_session(StartSessionRequest::default()).await;
                ids.push(r.expect("StartSession").into_inner().id);
            }
            ids
        }
    });
    join_all(starts).await.into_iter().flatten().collect()
}

/// `sessions` clients heartbeating on `server` on the schedule for MEASURE;
/// with `heartbeat` false, the same schedule of GetVersion (the baseline,
/// and what the floors answer).
async fn level(server: &Server, log: &Path, sessions: usize, heartbeat: bool) -> Level {
    let began = Instant::now();
    let messages: Vec<Vec<u8>> = if heartbeat {
        let ids = start_sessions(server, sessions).await;
        eprintln!(
            "started {sessions} sessions in {:.2} s",
            began.elapsed().as_secs_f64()
        );
        ids.into_iter()
            .map(|id| SendSessionHeartbeatRequest { id }.encode_to_vec())
            .collect()
    } else {
        vec![GetVersionRequest {}.encode_to_vec(); sessions]
    };
    let path = if heartbeat { HEARTBEAT } else { GET_VERSION };
    let settle = INTERVAL * 2;
    let logged_before = expiries_logged(log);
    let load = raw_h2::run(
        server.tcp.clone(),
        path,
        messages,
        CONNECTIONS,
        INTERVAL,
        settle,
        MEASURE,
    );
    let load = tokio::spawn(load);
    tokio::time::sleep(settle).await;
    let (server_cpu0, bench_cpu0, t0) = (
        cpu_seconds(server.child.id()),
        cpu_seconds(std::process::id()),
        Instant::now(),
    );
    let report = load.await.expect("load");
    let wall = t0.elapsed().as_secs_f64();
    let result = Level {
        server_cpu: (cpu_seconds(server.child.id()) - server_cpu0) / wall,
        bench_cpu: (cpu_seconds(std::process::id()) - bench_cpu0) / wall,
        rate: report.ok as f64 / MEASURE.as_secs_f64(),
        logged: expiries_logged(log) - logged_before,
        report,
    };
    if heartbeat {
        // Let this level's sessions expire before the next level counts.
        tokio::time::sleep(WINDOW + Duration::from_millis(1500)).await;
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
            "3. Heartbeat capacity (axle on one thread, window {WINDOW:?}, a call every {INTERVAL:?} per client, \
             pre-encoded HTTP/2 frames over {CONNECTIONS} TCP connections, {MEASURE:?} per level)\n\
             {:<26} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>7}\n",
            "load", "calls/s", "srv CPU", "gen CPU", "refused", "unsent", "expired", "p50 ms", "p99 ms", "max gap", "closed"
        );
        let mut row = |label: String, l: &Level| {
            out += &format!(
                "{label:<26} {:>9.0} {:>8.1}% {:>8.1}% {:>8} {:>8} {:>8} {:>8.2} {:>8.2} {:>7.0}ms {:>7}\n",
                l.rate,
                l.server_cpu * 100.0,
                l.bench_cpu * 100.0,
                l.report.refused,
                l.report.unsent,
                l.logged,
                percentile(&l.report.latencies_ms, 50.0),
                percentile(&l.report.latencies_ms, 99.0),
                l.report.max_gap.as_secs_f64() * 1e3,
                l.report.closed
            );
        };
        let mut at_10k = None;
        for n in LEVELS {
            let l = level(&axle, &log, n, true).await;
            row(format!("{n} sessions heartbeating"), &l);
            if n == 10_000 {
                at_10k = Some(l);
            }
        }
        let base = level(&axle, &log, 10_000, false).await;
        row("baseline: 10000 GetVersion".into(), &base);
        let mut floors = Vec::new();
        for floor in Floor::ALL {
            let (child, tcp) = h2_floor::start(floor);
            let l = level(&Server { child, tcp }, &log, 10_000, false).await;
            row(format!("floor: bare {floor:?}, 10000"), &l);
            floors.push(l);
        }
        if let Some(l) = at_10k {
            let per_call = |l: &Level| l.server_cpu / l.rate;
            out += &format!(
                "axle CPU per heartbeat at 10k / per GetVersion: {:.2}x; / per call of bare h2: {:.2}x, \
                 of bare hyper: {:.2}x, of bare tonic: {:.2}x\n",
                per_call(&l) / per_call(&base),
                per_call(&l) / per_call(&floors[0]),
                per_call(&l) / per_call(&floors[1]),
                per_call(&l) / per_call(&floors[2]),
            );
        }
        out
    })
}

// ------------------------------------------------------ 4. under a flood

const FLOOD_CLIENTS: usize = 20;
const FLOOD_INTERVAL: Duration = Duration::from_millis(20);
const FLOOD_MEASURE: Duration = Duration::from_secs(10);

fn flood_robot(module: &Path) -> String {
    format!(
        r#"{{"network": {{"sessions": {{"heartbeat_window": "100ms"}}}},
            "modules": [{{"name": "fakes", "executable_path": "{}"}}],
            "components": [
              {{"name": "flood", "api": "rdk:component:motor", "model": "fake"}},
              {{"name": "modmotor", "api": "rdk:component:motor", "model": "axle:fake:motor"}}]}}"#,
        module.display()
    )
}

/// Heartbeats of 20 sessions and GetVersion of 20 clients, side by side,
/// each every 20 ms: their round trips, in ms.
async fn round_trips(axle_tcp: &str) -> (raw_h2::Report, raw_h2::Report) {
    let ids = {
        let mut robot = RobotServiceClient::new(tcp_channel(axle_tcp).await);
        let mut ids = Vec::new();
        for _ in 0..FLOOD_CLIENTS {
            let r = robot.start_session(StartSessionRequest::default()).await;
            ids.push(r.expect("StartSession").into_inner().id);
        }
        ids
    };
    let heartbeats = ids
        .into_iter()
        .map(|id| SendSessionHeartbeatRequest { id }.encode_to_vec())
        .collect();
    let versions = vec![GetVersionRequest {}.encode_to_vec(); FLOOD_CLIENTS];
    let settle = Duration::from_millis(500);
    let run = |path, messages| {
        raw_h2::run(
            axle_tcp.to_owned(),
            path,
            messages,
            4,
            FLOOD_INTERVAL,
            settle,
            FLOOD_MEASURE,
        )
    };
    tokio::join!(run(HEARTBEAT, heartbeats), run(GET_VERSION, versions))
}

fn under_a_flood(dir: &Path) -> String {
    if std::process::Command::new("h2load")
        .arg("--version")
        .output()
        .is_err()
    {
        return "4. Heartbeats under a flood: skipped (h2load, Debian's nghttp2-client, is not installed)\n".into();
    }
    let module = bench_support::build_module();
    let (axle, log) = start_axle(dir, "flood", &flood_robot(&module));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // Let the module come up before the flood asks for its motor.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let idle = round_trips(&axle.tcp).await;
        let floods = h2load::saturate(dir, &axle.tcp, 600).expect("h2load");

        // The idle run's sessions have expired by now; count from here.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let before = expiries_logged(&log);
        let cpu0 = (cpu_seconds(axle.child.id()), Instant::now());
        let flooded = round_trips(&axle.tcp).await;
        let axle_cpu = (cpu_seconds(axle.child.id()) - cpu0.0) / cpu0.1.elapsed().as_secs_f64();
        // Before this run's own sessions, now silent, expire.
        let logged = expiries_logged(&log) - before;
        drop(floods);
        let row = |label: &str, r: &raw_h2::Report| {
            format!(
                "{label:<34} {:>8.3} {:>8.3} {:>8.3} {:>8}\n",
                percentile(&r.latencies_ms, 50.0),
                percentile(&r.latencies_ms, 99.0),
                percentile(&r.latencies_ms, 100.0),
                r.refused
            )
        };
        format!(
            "4. Heartbeat round trips, idle and under a flood (h2load: GetPosition 4x4 streams, DoCommand of 1 MB \
             from a module 2x2; axle at {:.0}% CPU), {FLOOD_CLIENTS} sessions heartbeating and {FLOOD_CLIENTS} clients \
             calling GetVersion, each every {FLOOD_INTERVAL:?}, {FLOOD_MEASURE:?}\n\
             {:<34} {:>8} {:>8} {:>8} {:>8}\n{}{}{}{}\
             ratio heartbeat / GetVersion p99: idle {:.2}x, flooded {:.2}x; sessions expired under the flood (window 100 ms): {logged}\n",
            axle_cpu * 100.0,
            "", "p50 ms", "p99 ms", "max ms", "refused",
            row("idle: heartbeat", &idle.0),
            row("idle: GetVersion", &idle.1),
            row("flooded: heartbeat", &flooded.0),
            row("flooded: GetVersion", &flooded.1),
            percentile(&idle.0.latencies_ms, 99.0) / percentile(&idle.1.latencies_ms, 99.0),
            percentile(&flooded.0.latencies_ms, 99.0) / percentile(&flooded.1.latencies_ms, 99.0),
        )
    })
}
