//! Browser benchmark: the control page's load in Chromium, to its first
//! resource list; and a grpc-web GetPosition against the same call over
//! h2c, both from one Python process on this machine. Runs
//! `runtime/benches/browser_python.py` in a network namespace of its own
//! (needs root, Chromium and the browser tools that `tests/run_all.sh`
//! installs under `target/`).
//!
//! Run: `cargo bench -p axle-runtime --bench browser` (under a minute).

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join("target/venv/bin/python");
    if !python.exists() || !root.join("target/browser/driver.mjs").exists() {
        println!("run tests/run_all.sh once first: it installs the venv and the browser tools");
        return;
    }
    let status = std::process::Command::new(root.join("tests/netns.sh"))
        .arg(python)
        .arg(root.join("runtime/benches/browser_python.py"))
        .env("AXLE_BIN", env!("CARGO_BIN_EXE_axle"))
        .status();
    if !status.is_ok_and(|s| s.success()) {
        println!("\nthe browser benchmark failed");
        std::process::exit(1);
    }
}
