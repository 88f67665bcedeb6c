//! What a capture method calls, and what it keeps. One path serves every
//! API: a method is the unary rpc of the resource's service that upstream's
//! capture method names (`Position` is `GetPosition`), called through the
//! robot like any client's call, its answer kept as JSON read from our own
//! protos. So whatever axle's protos describe can be captured, whoever
//! serves the resource; DoCommand works for any API, even one whose proto
//! axle lacks (a module's `acme:component:widget`).
//!
//! Camera `GetImages` is the one binary method: each image becomes a file.

use super::config::CaptureMethod;
use crate::grpc::local::LocalCalls;
use crate::robot::Robot;
use axle_proto::viam::app::datasync::v1::{DataType, MimeType};
use axle_sdk_module::Api;
use axle_sdk_module::grpc::SERVED_APIS;
use bytes::Bytes;
use prost::Message;
use prost_reflect::{DynamicMessage, MessageDescriptor, SerializeOptions};
use serde_json::{Map, Value};
use std::time::Duration;
use tonic::Status;

use axle_wire::descriptors::pool;

/// One reading as captured.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// A JSON object (upstream: a `google.protobuf.Struct`).
    Tabular(Map<String, Value>),
    /// An image, with its MIME type.
    Binary {
        /// The bytes.
        data: Bytes,
        /// `image/jpeg`, ...
        mime_type: String,
    },
}

/// How one capture method is captured, settled when the service is built.
#[derive(Clone)]
pub struct Plan {
    /// The rpc's name in the resource's service.
    rpc: String,
    /// The service, if axle's protos have it; else it is looked up among
    /// the services modules and sub-parts declared, at each capture.
    service: Option<String>,
    output: MessageDescriptor,
    request: Bytes,
    images: bool,
}

impl Plan {
    /// The plan for `m`, or why it cannot be captured.
    pub fn for_method(m: &CaptureMethod) -> Result<Self, String> {
        let service = own_service(&m.api);
        let rpc = match service {
            Some(service) => rpc_of(service, &m.api, &m.method)?,
            None if m.method == "DoCommand" => "DoCommand".to_string(),
            None => {
                return Err(format!(
                    "axle has no proto for {}, so only DoCommand can be captured from it",
                    m.api
                ));
            }
        };
        let (input, output) = match service {
            Some(s) => {
                let method = pool()
                    .get_service_by_name(s)
                    .and_then(|s| s.methods().find(|x| x.name() == rpc))
                    .ok_or_else(|| format!("{s} has no {rpc}"))?;
                (method.input(), method.output())
            }
            None => (
                message("viam.common.v1.DoCommandRequest")?,
                message("viam.common.v1.DoCommandResponse")?,
            ),
        };
        let request = request_for(&input, m)?;
        let images = m.api.subtype == "camera" && rpc == "GetImages";
        Ok(Self {
            service: service.map(str::to_string),
            rpc,
            output,
            request,
            images,
        })
    }

    /// Whether captures are binary files (one per image).
    pub fn data_type(&self) -> DataType {
        if self.images {
            DataType::BinarySensor
        } else {
            DataType::TabularSensor
        }
    }

    /// Calls the method once.
    pub async fn capture(
        &self,
        calls: &LocalCalls,
        robot: &Robot,
        api: &Api,
        timeout: Duration,
    ) -> Result<Vec<Reading>, Status> {
        let service = match &self.service {
            Some(s) => s.clone(),
            None => robot.services.service_of(api).ok_or_else(|| {
                Status::unavailable(format!("no module or part serves {api} yet"))
            })?,
        };
        let path = format!("/{service}/{}", self.rpc);
        let answer = calls
            .unary_raw(&path, self.request.clone(), timeout)
            .await?;
        if self.images {
            return images(&answer);
        }
        let message = DynamicMessage::decode(self.output.clone(), answer).map_err(|e| {
            Status::internal(format!(
                "{path} answered what is not a {}: {e}",
                self.output.full_name()
            ))
        })?;
        // Upstream keeps zero values (a motor at position 0 still says so).
        let options = SerializeOptions::new()
            .use_proto_field_name(true)
            .skip_default_fields(false);
        match message.serialize_with_options(serde_json::value::Serializer, &options) {
            Ok(Value::Object(o)) => Ok(vec![Reading::Tabular(o)]),
            Ok(other) => Ok(vec![Reading::Tabular(Map::from_iter([(
                "value".into(),
                other,
            )]))]),
            Err(e) => Err(Status::internal(format!(
                "{path}: cannot show the answer as JSON: {e}"
            ))),
        }
    }
}

fn message(name: &str) -> Result<MessageDescriptor, String> {
    pool()
        .get_message_by_name(name)
        .ok_or_else(|| format!("axle's protos lack {name}"))
}

/// The service of one of axle's own APIs.
fn own_service(api: &Api) -> Option<&'static str> {
    if api.namespace != "rdk" {
        return None;
    }
    SERVED_APIS
        .iter()
        .find(|(kind, subtype, _)| *kind == api.kind && *subtype == api.subtype)
        .map(|(_, _, service)| *service)
}

/// Upstream's capture method names: the rpc, or the rpc without `Get`.
fn rpc_of(service: &str, api: &Api, method: &str) -> Result<String, String> {
    let service_desc = pool()
        .get_service_by_name(service)
        .ok_or_else(|| format!("axle's protos lack {service}"))?;
    let unary = |name: &str| {
        service_desc
            .methods()
            .any(|m| m.name() == name && !m.is_client_streaming() && !m.is_server_streaming())
    };
    // An encoder's ticks are its position.
    let aliased = match (api.subtype.as_str(), method) {
        ("encoder", "TicksCount") => "Position",
        _ => method,
    };
    for candidate in [aliased.to_string(), format!("Get{aliased}")] {
        if unary(&candidate) {
            return Ok(candidate);
        }
    }
    let offered: Vec<String> = service_desc
        .methods()
        .filter(|m| !m.is_client_streaming() && !m.is_server_streaming())
        .filter(|m| m.input().get_field_by_name("name").is_some())
        .map(|m| m.name().strip_prefix("Get").unwrap_or(m.name()).to_string())
        .collect();
    let hint = axle_wire::settings::keys::nearest(method, offered.iter().map(String::as_str))
        .map_or(String::new(), |near| format!(" did you mean {near:?}?"));
    Err(format!(
        "{api} has no method {method:?} to capture;{hint} it has {}",
        offered.join(", ")
    ))
}

/// The request: the resource's name, plus any `additional_params` that are
/// fields of the request; DoCommand sends `docommand_input`.
fn request_for(input: &MessageDescriptor, m: &CaptureMethod) -> Result<Bytes, String> {
    if input.get_field_by_name("name").is_none() {
        return Err(format!("{} does not name a resource", input.full_name()));
    }
    let mut json = Map::new();
    json.insert("name".into(), Value::String(m.name.clone()));
    if input.full_name() == "viam.common.v1.DoCommandRequest" {
        let command = m
            .params
            .get("docommand_input")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()));
        if !command.is_object() {
            return Err(format!(
                "additional_params.docommand_input: expected an object, got {command}"
            ));
        }
        json.insert("command".into(), command);
    } else {
        for (k, v) in &m.params {
            if k != "name" && input.get_field_by_name(k).is_some() {
                json.insert(k.clone(), v.clone());
            }
        }
    }
    let message = DynamicMessage::deserialize(input.clone(), Value::Object(json))
        .map_err(|e| format!("additional_params do not fit {}: {e}", input.full_name()))?;
    Ok(message.encode_to_vec().into())
}

fn images(answer: &Bytes) -> Result<Vec<Reading>, Status> {
    let r = axle_proto::camera::GetImagesResponse::decode(answer.clone()).map_err(|e| {
        Status::internal(format!(
            "GetImages answered what is not a GetImagesResponse: {e}"
        ))
    })?;
    Ok(r.images
        .into_iter()
        .map(|i| Reading::Binary {
            data: i.image.into(),
            mime_type: i.mime_type,
        })
        .collect())
}

/// Upstream's file extension and MIME enum for a MIME type.
pub fn mime_details(mime: &str) -> (&'static str, MimeType) {
    match mime {
        "image/jpeg" => (".jpeg", MimeType::ImageJpeg),
        "image/png" => (".png", MimeType::ImagePng),
        "pointcloud/pcd" => (".pcd", MimeType::ApplicationPcd),
        _ => ("", MimeType::Unspecified),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn method(api: &str, name: &str, params: Value) -> CaptureMethod {
        CaptureMethod {
            api: api.parse().expect("api"),
            name: "m".into(),
            method: name.into(),
            hz: 1.0,
            params: params.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn upstream_names_map_to_rpcs() {
        let p =
            Plan::for_method(&method("rdk:component:motor", "Position", json!({}))).expect("plan");
        assert_eq!(p.rpc, "GetPosition");
        let p =
            Plan::for_method(&method("rdk:component:motor", "IsPowered", json!({}))).expect("plan");
        assert_eq!(p.rpc, "IsPowered");
        let p =
            Plan::for_method(&method("rdk:component:sensor", "Readings", json!({}))).expect("plan");
        assert_eq!(p.rpc, "GetReadings");
        let p = Plan::for_method(&method("rdk:component:camera", "GetImages", json!({})))
            .expect("plan");
        assert_eq!(p.data_type(), DataType::BinarySensor);
    }

    #[test]
    fn unknown_methods_name_what_exists() {
        let e = Plan::for_method(&method("rdk:component:motor", "Speed", json!({})))
            .err()
            .expect("refused");
        assert!(e.contains("Position") && e.contains("IsPowered"), "{e}");
        let e = Plan::for_method(&method("acme:component:widget", "Readings", json!({})))
            .err()
            .expect("refused");
        assert!(e.contains("only DoCommand"), "{e}");
        assert!(Plan::for_method(&method("acme:component:widget", "DoCommand", json!({}))).is_ok());
    }

    #[test]
    fn docommand_sends_its_input() {
        let p = Plan::for_method(&method(
            "rdk:component:base",
            "DoCommand",
            json!({"docommand_input": {"odometry": true}}),
        ))
        .expect("plan");
        let sent =
            axle_proto::common::DoCommandRequest::decode(p.request.clone()).expect("decodes");
        assert_eq!(sent.name, "m");
        assert!(
            sent.command
                .expect("command")
                .fields
                .contains_key("odometry")
        );
    }
}
