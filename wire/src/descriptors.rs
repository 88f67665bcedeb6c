//! Every message and service of our own protos, read at run time: for
//! capturing any method (data capture) and for knowing a method's kind.

use prost_reflect::DescriptorPool;
use std::sync::OnceLock;

/// Our descriptors.
pub fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        // Our own descriptors, checked when built: a failure is a build bug.
        DescriptorPool::decode(axle_proto::FILE_DESCRIPTOR_SET).unwrap_or_default()
    })
}

/// The method at `path` (`/pkg.Service/Method`), if our protos describe it.
pub fn method(path: &str) -> Option<prost_reflect::MethodDescriptor> {
    let (service, method) = path.trim_start_matches('/').split_once('/')?;
    pool()
        .get_service_by_name(service)?
        .methods()
        .find(|m| m.name() == method)
}

/// Whether the method at `path` (`/pkg.Service/Method`) takes exactly one
/// request message (unary or server streaming), as our protos say. A
/// method they do not describe (a module's own API) is not assumed to.
pub fn takes_one_message(path: &str) -> bool {
    method(path).is_some_and(|m| !m.is_client_streaming())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_kinds_come_from_our_protos() {
        assert!(takes_one_message(
            "/viam.robot.v1.RobotService/ResourceNames"
        ));
        assert!(takes_one_message(
            "/viam.component.inputcontroller.v1.InputControllerService/StreamEvents"
        ));
        assert!(!takes_one_message(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        ));
        assert!(!takes_one_message("/acme.widget.v1.WidgetService/Spin"));
    }
}
