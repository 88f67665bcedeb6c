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

mod bench_support;

fn main() {
    if bench_support::python_script("data_python.py", &[], false) == Some(false) {
        std::process::exit(1);
    }
}
