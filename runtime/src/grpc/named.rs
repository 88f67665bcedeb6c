//! Reading a resource request before its service does: the session layer and
//! the module router both need the resource's name, which every resource
//! request carries as field 1 (`name`, or `controller` for input controllers).

use crate::registry::SERVED_APIS;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use prost::Message;
use tonic::Status;
use tonic::body::Body;

/// The largest request read ahead of its service (tonic's own decode limit).
const MAX_REQUEST: usize = 4 * 1024 * 1024;

/// Reads a unary request's body whole. Resource requests are one small
/// message, so this costs nothing the service would not pay anyway.
pub async fn read_unary(body: Body) -> Result<Bytes, Status> {
    match Limited::new(body, MAX_REQUEST).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => Err(Status::invalid_argument(format!(
            "cannot read the request: {e}"
        ))),
    }
}

/// Any resource request, seen only for its `name`.
#[derive(Clone, PartialEq, Message)]
struct Named {
    #[prost(string, tag = "1")]
    name: String,
}

/// The `name` in a gRPC-framed request: a 5-byte header (compression flag,
/// big-endian length), then the protobuf message. Compressed or malformed
/// requests name nothing here; the handler reports them.
pub fn resource_name(framed: &Bytes) -> Option<String> {
    let (&compressed, rest) = framed.split_first()?;
    let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
    let message = rest.get(4..4 + len)?;
    if compressed != 0 {
        return None;
    }
    Named::decode(message).ok().map(|n| n.name)
}

/// The API subtype ("motor") whose service `path` calls, if axle serves it.
pub fn resource_subtype(path: &str) -> Option<&'static str> {
    let service = path.trim_start_matches('/').split('/').next()?;
    SERVED_APIS
        .iter()
        .find(|(_, s)| *s == service)
        .map(|(subtype, _)| *subtype)
}

/// The same gRPC-framed request naming the resource `name` instead: field
/// 1 is appended, and protobuf readers keep the last value of a field, so
/// the rest of the message is passed on untouched. `None` for compressed or
/// malformed frames.
pub fn with_name(framed: &Bytes, name: &str) -> Option<Bytes> {
    let (&compressed, rest) = framed.split_first()?;
    let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
    let message = rest.get(4..4 + len)?;
    if compressed != 0 {
        return None;
    }
    let field = Named { name: name.into() }.encode_to_vec();
    let total = u32::try_from(message.len() + field.len()).ok()?;
    let mut out = Vec::with_capacity(5 + total as usize);
    out.push(0);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(message);
    out.extend_from_slice(&field);
    Some(out.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(message: &[u8]) -> Bytes {
        let mut b = vec![0];
        b.extend_from_slice(&(message.len() as u32).to_be_bytes());
        b.extend_from_slice(message);
        b.into()
    }

    #[test]
    fn the_name_is_read_from_any_resource_request() {
        let req = axle_proto::motor::SetPowerRequest {
            name: "left".into(),
            power_pct: 0.5,
            extra: None,
        };
        assert_eq!(
            resource_name(&framed(&req.encode_to_vec())).as_deref(),
            Some("left")
        );
        let req = axle_proto::base::MoveStraightRequest {
            name: "base".into(),
            distance_mm: 10,
            mm_per_sec: 5.0,
            extra: None,
        };
        assert_eq!(
            resource_name(&framed(&req.encode_to_vec())).as_deref(),
            Some("base")
        );
    }

    #[test]
    fn truncated_or_garbage_requests_name_nothing() {
        assert_eq!(resource_name(&Bytes::from_static(&[0, 0, 0])), None);
        assert_eq!(
            resource_name(&Bytes::from_static(&[0, 0, 0, 0, 9, 1])),
            None
        );
        assert_eq!(resource_name(&framed(&[0xff, 0xff, 0xff])), None);
    }

    #[test]
    fn only_resource_services_have_a_subtype() {
        assert_eq!(
            resource_subtype("/viam.component.motor.v1.MotorService/GetPosition"),
            Some("motor")
        );
        assert_eq!(
            resource_subtype(
                "/viam.component.inputcontroller.v1.InputControllerService/StreamEvents"
            ),
            Some("input_controller")
        );
        assert_eq!(
            resource_subtype("/viam.robot.v1.RobotService/ResourceNames"),
            None
        );
    }

    #[test]
    fn a_request_is_renamed_without_touching_the_rest() {
        let req = axle_proto::motor::SetPowerRequest {
            name: "sub:left".into(),
            power_pct: 0.5,
            extra: None,
        };
        let renamed = with_name(&framed(&req.encode_to_vec()), "left").unwrap();
        assert_eq!(resource_name(&renamed).as_deref(), Some("left"));
        let decoded = axle_proto::motor::SetPowerRequest::decode(&renamed[5..]).unwrap();
        assert_eq!((decoded.name.as_str(), decoded.power_pct), ("left", 0.5));
        assert_eq!(with_name(&Bytes::from_static(&[1, 0, 0, 0, 0]), "x"), None);
    }
}
