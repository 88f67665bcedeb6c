//! `grpc.reflection.v1.ServerReflection` on the public listeners: every
//! service axle serves or forwards, described by our own protos, method
//! options included, so a client can read which methods are
//! safety-monitored (the TypeScript SDK does).

use prost::Message;
use prost_types::FileDescriptorSet;
use tonic_reflection::server::v1::{ServerReflection, ServerReflectionServer};

/// Whether reflection lists `service`: the robot's, every resource API's
/// (any of them can be served by a module or a sub-part), signaling,
/// axle's own, and auth if configured. Not the app's or the module protocol's.
fn listed(service: &str, auth: bool) -> bool {
    let prefixes: &[&str] = &[
        "viam.robot.",
        "viam.component.",
        "viam.service.",
        "proto.rpc.webrtc.",
        "axle.",
    ];
    prefixes.iter().any(|p| service.starts_with(p))
        || (auth && service == "proto.rpc.v1.AuthService")
}

/// The reflection service over axle's descriptors; with `auth`, it lists
/// AuthService too.
pub fn service(auth: bool) -> Result<ServerReflectionServer<impl ServerReflection>, String> {
    let set = FileDescriptorSet::decode(axle_proto::FILE_DESCRIPTOR_SET)
        .map_err(|e| format!("cannot read axle's own descriptors: {e}"))?;
    let mut builder = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(axle_proto::FILE_DESCRIPTOR_SET)
        .include_reflection_service(true)
        .with_service_name("grpc.reflection.v1.ServerReflection");
    for file in &set.file {
        for s in &file.service {
            let name = format!("{}.{}", file.package(), s.name());
            if listed(&name, auth) {
                builder = builder.with_service_name(name);
            }
        }
    }
    builder
        .build_v1()
        .map_err(|e| format!("cannot build server reflection: {e}"))
}
