//! Reconfigure benchmark: how long an edit of the config file takes to be
//! served, against restarting axle to apply the same edit.
//!
//! The robot: 20 fake motors, and a module (`fakes`) serving one more.
//! Each sample changes `max_rpm` of one built-in motor:
//! - live: the file is replaced (write + rename, as editors do), and the
//!   time until GetMachineStatus reports the new revision is measured. It
//!   includes the watcher's 20 ms quiet time. The reconfigurer's own
//!   `took_ms` (diff and apply) is read from the log.
//! - restart (the baseline, in the same run): a fresh axle is started on
//!   the edited config, and the time until it answers ResourceNames with the
//!   module's motor in it is measured.
//!
//! Run: `cargo bench -p axle-runtime --bench reconfigure`

mod bench_support;

use axle_proto::robot::robot_service_client::RobotServiceClient;
use axle_proto::robot::{GetMachineStatusRequest, ResourceNamesRequest};
use axle_runtime::config::revision_of;
use bench_support::{
    Axle, axle_command, bench_dir, build_module, client_runtime, median, percentile,
    spawn_listening, unix_channel,
};
use std::path::Path;
use std::time::{Duration, Instant};

const SAMPLES: usize = 20;
const MOTORS: usize = 20;

fn config(exe: &Path, rpm: usize) -> String {
    let mut components: Vec<String> = (0..MOTORS)
        .map(|i| {
            let rpm = if i == 0 { rpm } else { 100 };
            format!(
                r#"{{"name": "m{i}", "api": "rdk:component:motor", "model": "fake", "attributes": {{"max_rpm": {rpm}}}}}"#
            )
        })
        .collect();
    components
        .push(r#"{"name": "mm", "api": "rdk:component:motor", "model": "axle:fake:motor"}"#.into());
    format!(
        r#"{{"modules": [{{"name": "fm", "executable_path": "{}"}}], "components": [{}]}}"#,
        exe.display(),
        components.join(",")
    )
}

type Client = RobotServiceClient<tonic::transport::Channel>;

async fn revision(client: &mut Client) -> String {
    let status = client
        .get_machine_status(GetMachineStatusRequest {})
        .await
        .expect("GetMachineStatus")
        .into_inner();
    status.config.map(|c| c.revision).unwrap_or_default()
}

fn main() {
    let cleanup = bench_dir("reconfigure");
    let dir = cleanup.0.clone();
    let rt = client_runtime();
    let exe = build_module();
    let path = dir.join("live.json");
    std::fs::write(&path, config(&exe, 100)).expect("config");
    let mut cmd = axle_command(&dir.join("live.sock"), 0);
    cmd.arg("--config").arg(&path);
    let log = dir.join("live.log");
    let _live = Axle(spawn_listening(cmd, Some(log.clone())).0);

    let (mut live, mut restart) = (Vec::new(), Vec::new());
    rt.block_on(async {
        let mut client = RobotServiceClient::new(unix_channel(&dir.join("live.sock")).await);
        for i in 0..SAMPLES {
            live.push(edit(&path, &mut client, config(&exe, 101 + i)).await);
            restart.push(fresh(&dir, i, config(&exe, 200 + i)).await);
        }
    });
    let applies = took_ms(&log);
    let (l, r, a) = (median(&live), median(&restart), median(&applies));
    println!("reconfigure: change one motor's max_rpm; {SAMPLES} samples each, interleaved");
    println!(
        "  live reload, write to served: p50 {l:7.1} ms  p90 {:7.1} ms  (includes the 20 ms quiet time)",
        percentile(&live, 90.0)
    );
    println!(
        "  of which diff + apply:        p50 {a:7.2} ms  p90 {:7.2} ms",
        percentile(&applies, 90.0)
    );
    println!(
        "  restart (baseline):           p50 {r:7.1} ms  p90 {:7.1} ms",
        percentile(&restart, 90.0)
    );
    println!(
        "  ratio live / restart: {:.3}x;  apply / restart: {:.4}x",
        l / r,
        a / r
    );
}

/// Replaces the live config with `text`; ms until served.
async fn edit(path: &Path, client: &mut Client, text: String) -> f64 {
    let want = revision_of(text.as_bytes());
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, &text).expect("write");
    let began = Instant::now();
    std::fs::rename(&tmp, path).expect("rename");
    while revision(client).await != want {
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "edit not applied"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    began.elapsed().as_secs_f64() * 1e3
}

/// Starts a fresh axle on config `text`; ms until it serves everything.
async fn fresh(dir: &Path, i: usize, text: String) -> f64 {
    let path = dir.join(format!("fresh-{i}.json"));
    std::fs::write(&path, text).expect("config");
    let sock = dir.join(format!("fresh-{i}.sock"));
    let mut cmd = axle_command(&sock, 0);
    cmd.arg("--config").arg(&path);
    let began = Instant::now();
    let _axle = Axle(spawn_listening(cmd, None).0);
    let mut client = RobotServiceClient::new(unix_channel(&sock).await);
    let names = client
        .resource_names(ResourceNamesRequest {})
        .await
        .expect("ResourceNames")
        .into_inner();
    assert!(names.resources.iter().any(|n| n.name == "mm"));
    began.elapsed().as_secs_f64() * 1e3
}

/// The reconfigurer's `took_ms` of every apply after the first.
fn took_ms(log: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(log).expect("log");
    text.lines()
        .filter(|l| l.contains("config applied"))
        .skip(1)
        .filter_map(|l| {
            l.split("took_ms=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect()
}
