//! Compiles `viam/**/*.proto` and `proto/**/*.proto` with a vendored protoc, so a fresh machine needs
//! nothing but cargo, and writes the table of safety-monitored methods.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

const MONITORED_OPTION: &str = "(viam.common.v1.safety_heartbeat_monitored) = true";

fn main() -> io::Result<()> {
    // Read when run, not when built: cargo may reuse this script's binary
    // for a checkout elsewhere (a worktree sharing the target directory).
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").map_err(io::Error::other)?);
    // `viam/`: the Viam API packages; `proto/`: goutils' `proto.rpc.v1` (auth) and
    // `proto.rpc.webrtc.v1` (signaling, gRPC over data channels); `google/`: `google.rpc.Status`; `axle/`: axle's own additions.
    let mut protos = Vec::new();
    for dir in ["viam", "proto", "google", "axle"] {
        let proto_dir = root.join(dir);
        collect_protos(&proto_dir, &mut protos)?;
        // Neither prost-build nor tonic-prost-build asks cargo to watch the inputs.
        println!("cargo:rerun-if-changed={}", proto_dir.display());
    }
    protos.sort();

    for p in &protos {
        println!("cargo:rerun-if-changed={}", p.display());
    }

    let protoc = protoc_bin_vendored::protoc_bin_path().map_err(io::Error::other)?;
    let wkt = protoc_bin_vendored::include_path().map_err(io::Error::other)?;
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc);
    let out = PathBuf::from(std::env::var("OUT_DIR").map_err(io::Error::other)?);
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // For server reflection: every service, with its method options.
        .file_descriptor_set_path(out.join("axle_descriptor.bin"))
        .compile_with_config(config, &protos, &[root.clone(), wkt])?;

    write_monitored_table(&protos)
}

fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
    Ok(())
}

/// prost drops method options, so the runtime could not otherwise tell which
/// methods carry `safety_heartbeat_monitored`. Our .proto files declare each rpc
/// on one line, which keeps this scan exact; a unit test pins its result.
///
/// The session layer reads the resource name from field 1 of a monitored
/// request (the first message of a stream) without knowing its type, so the
/// build fails if a monitored rpc's request lacks `string name = 1;`.
fn write_monitored_table(protos: &[PathBuf]) -> io::Result<()> {
    let mut methods = Vec::new();
    for path in protos {
        let text = fs::read_to_string(path)?;
        let mut package = "";
        let mut service = "";
        for line in text.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("package ") {
                package = rest.trim_end_matches(';').trim();
            } else if let Some(rest) = line.strip_prefix("service ") {
                service = rest.trim_end_matches('{').trim();
            } else if let Some(rest) = line.strip_prefix("rpc ") {
                let name = rest.split('(').next().unwrap_or_default().trim();
                if line.contains(MONITORED_OPTION) {
                    let request = rest.split(['(', ')']).nth(1).unwrap_or_default().trim();
                    // A streamed monitored call names its resource in its
                    // first message, which the session layer reads ahead.
                    let request = request.trim_start_matches("stream ").trim();
                    if !has_name_field_one(&text, request) {
                        return Err(io::Error::other(format!(
                            "{}: monitored rpc {name} takes {request}, which lacks `string name = 1;`",
                            path.display()
                        )));
                    }
                    methods.push(format!("/{package}.{service}/{name}"));
                }
            }
        }
    }
    methods.sort();
    let body: String = methods.iter().map(|m| format!("    \"{m}\",\n")).collect();
    let out = PathBuf::from(std::env::var("OUT_DIR").map_err(io::Error::other)?);
    fs::write(
        out.join("safety_monitored.rs"),
        format!(
            "/// gRPC paths whose proto carries `safety_heartbeat_monitored`, sorted.\npub const SAFETY_MONITORED_METHODS: &[&str] = &[\n{body}];\n"
        ),
    )
}

/// Whether `message <request> { ... }` in `text` declares `string name = 1;`.
fn has_name_field_one(text: &str, request: &str) -> bool {
    let header = format!("message {request} {{");
    let Some(start) = text.find(&header) else {
        return false;
    };
    let body = &text[start + header.len()..];
    let body = &body[..body.find('}').unwrap_or(body.len())];
    // `name` in every Viam request; an input controller's calls say `controller`.
    body.lines().any(|l| {
        let words: Vec<_> = l.split_whitespace().collect();
        matches!(words[..], ["string", _, "=", "1;"])
    })
}
