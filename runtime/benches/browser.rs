//! Browser benchmark: the control page's load in Chromium, to its first
//! resource list; and a grpc-web GetPosition against the same call over
//! h2c, both from one Python process on this machine. Runs
//! `runtime/benches/browser_python.py` in a network namespace of its own
//! (needs root, Chromium and the browser tools that `tests/run_all.sh`
//! installs under `target/`).
//!
//! Run: `cargo bench -p axle-runtime --bench browser` (under a minute).

mod bench_support;

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if !root.join("target/browser/driver.mjs").exists() {
        println!("run tests/run_all.sh once first: it installs the browser tools");
        return;
    }
    if bench_support::python_script("browser_python.py", &[], true) == Some(false) {
        std::process::exit(1);
    }
}
