//! Data capture and sync benchmark. The figures need SeaweedFS and boto3
//! from the test venv, so this runs `runtime/benches/data_python.py` with the
//! release `axle`:
//!
//! - the capture rate one collector sustains, and axle's CPU per 1000
//!   readings/s, against the CPU per 1000 GetPosition calls/s from a client;
//! - sync throughput to SeaweedFS in MB/s, against boto3 uploading the same
//!   files with as many threads;
//! - axle's RSS with 10 000 files pending, against none.
//!
//! Run: `cargo bench -p axle-runtime --bench data` (about 2 minutes).

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join("target/venv/bin/python");
    if !python.exists() {
        println!("no target/venv: run tests/run_all.sh once (it installs SeaweedFS and boto3)");
        return;
    }
    let status = std::process::Command::new(python)
        .arg(root.join("runtime/benches/data_python.py"))
        .env("AXLE_BIN", env!("CARGO_BIN_EXE_axle"))
        .status();
    if !status.is_ok_and(|s| s.success()) {
        println!("\nthe data benchmark failed");
        std::process::exit(1);
    }
}
