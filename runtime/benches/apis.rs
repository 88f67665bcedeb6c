//! Forwarding any API: GetImages of a camera served by an unmodified Python
//! module (`tests/python/modules/py_things.py`), 100 KiB and 3 MiB images,
//! called directly on the module's socket (the baseline, same run), through
//! axle (the module's parent), and through a main part (module on a
//! sub-part).
//!
//! Needs the test venv (`target/venv`, made by `tests/run_all.sh`).
//!
//! Run: `cargo bench -p axle-runtime --bench apis`

mod bench_support;

use axle_proto::camera::GetImagesRequest;
use axle_proto::camera::camera_service_client::CameraServiceClient;
use bench_support::{
    bench_dir, client_runtime, median, percentile, start_axle_tcp, tcp_channel, unix_channel,
};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tonic::transport::Channel;

const SIZES: [(&str, usize, usize); 2] =
    [("100 KiB", 100 * 1024, 300), ("3 MiB", 3 * 1024 * 1024, 40)];

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join("target/venv/bin/python");
    if !python.exists() {
        println!("no target/venv: run tests/run_all.sh once first");
        return;
    }
    let cleanup = bench_dir("apis");
    let dir = cleanup.0.clone();
    let wrapper = dir.join("py-things");
    let script = root.join("tests/python/modules/py_things.py");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec {} {} \"$@\"\n",
            python.display(),
            script.display()
        ),
    )
    .expect("wrapper");
    set_executable(&wrapper);
    let cameras: Vec<String> = SIZES
        .iter()
        .map(|(_, bytes, _)| {
            format!(
                r#"{{"name": "cam{bytes}", "api": "rdk:component:camera", "model": "acme:test:pycamera", "attributes": {{"image_bytes": {bytes}}}}}"#
            )
        })
        .collect();
    let sub_config = format!(
        r#"{{"modules": [{{"name": "py-things", "executable_path": "{}"}}], "components": [{}]}}"#,
        wrapper.display(),
        cameras.join(",")
    );
    let (sub, sub_address) = start_axle_tcp(&dir, "sub", &sub_config);
    let main_config = format!(r#"{{"remotes": [{{"name": "sub", "address": "{sub_address}"}}]}}"#);
    let (_main, main_address) = start_axle_tcp(&dir, "main", &main_config);
    let socket = module_socket(&dir.join("sub.log"));
    let rt = client_runtime();
    rt.block_on(async {
        let routes = [
            (
                "directly on the module's socket (baseline)",
                unix_channel(&socket).await,
                "",
            ),
            (
                "through axle (the module's parent)",
                tcp_channel(&sub_address).await,
                "",
            ),
            (
                "through a main part (module on a sub-part)",
                tcp_channel(&main_address).await,
                "sub:",
            ),
        ];
        println!("GetImages of a camera in a Python module, interleaved rounds:");
        println!("| image | route | p50 ms | p90 ms | p50 / direct |");
        println!("| --- | --- | ---: | ---: | ---: |");
        for (label, bytes, calls) in SIZES {
            let mut samples = vec![Vec::new(); routes.len()];
            for round in 0..calls + 5 {
                for (i, (_, channel, prefix)) in routes.iter().enumerate() {
                    let took = get_images(channel, &format!("{prefix}cam{bytes}"), bytes).await;
                    if round >= 5 {
                        samples[i].push(took);
                    }
                }
            }
            let base = median(&samples[0]);
            for ((route, _, _), s) in routes.iter().zip(&samples) {
                println!(
                    "| {label} | {route} | {:.2} | {:.2} | {:.2}× |",
                    median(s),
                    percentile(s, 90.0),
                    median(s) / base
                );
            }
        }
    });
    drop(sub);
}

async fn get_images(channel: &Channel, name: &str, bytes: usize) -> f64 {
    let mut client = CameraServiceClient::new(channel.clone()).max_decoding_message_size(64 << 20);
    let started = Instant::now();
    let reply = client
        .get_images(GetImagesRequest {
            name: name.into(),
            ..Default::default()
        })
        .await
        .expect("GetImages");
    let took = started.elapsed().as_secs_f64() * 1e3;
    assert_eq!(reply.into_inner().images[0].image.len(), bytes);
    took
}

/// The module's socket: the last argument of its process, whose pid the
/// parent logged.
fn module_socket(log: &Path) -> PathBuf {
    let text = std::fs::read_to_string(log).expect("log");
    let pid = text
        .lines()
        .rev()
        .find_map(|l| l.split("module started module=py-things pid=").nth(1))
        .and_then(|p| p.split_whitespace().next())
        .expect("module pid in the log");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("cmdline");
    let last = cmdline
        .split(|b| *b == 0)
        .rev()
        .find(|a| !a.is_empty())
        .expect("an argument");
    PathBuf::from(String::from_utf8_lossy(last).into_owned())
}

fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut p = std::fs::metadata(path).expect("meta").permissions();
    p.set_mode(0o755);
    std::fs::set_permissions(path, p).expect("chmod");
}
