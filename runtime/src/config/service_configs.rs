//! `service_configs`: what a resource asks of a service, in upstream's
//! config shape. The data manager's are capture methods; each is handed to
//! every data manager of the config, named for its resource.

use super::ComponentEntry;
use axle_sdk_module::Attributes;
use serde_json::{Map, Value};

/// The data manager's API.
pub const DATA_MANAGER: &str = "rdk:service:data_manager";

/// Hands every data manager the capture methods that resources declare in
/// their `service_configs`, after any it lists itself. A change to a
/// resource's capture methods is then a change to the data manager's
/// attributes, which a live edit rebuilds.
pub(super) fn gather_capture_methods(root: &Map<String, Value>, components: &mut [ComponentEntry]) {
    let declared = declared_captures(root);
    if declared.is_empty() {
        return;
    }
    let api = DATA_MANAGER;
    for c in components
        .iter_mut()
        .flatten()
        .filter(|c| c.api.to_string() == api)
    {
        let mut doc = c.attributes.as_document().clone();
        let list = doc
            .entry("capture_methods")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = list {
            items.extend(declared.iter().cloned());
        }
        c.attributes = Attributes::new(doc);
    }
}

/// The capture methods that the entries of `components` and `services`
/// declare in `service_configs` (type `data_manager`), each named for its
/// resource, in the shape `capture_methods` takes.
pub fn declared_captures(root: &serde_json::Map<String, Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for list in ["components", "services"] {
        let Some(Value::Array(entries)) = root.get(list) else {
            continue;
        };
        for entry in entries {
            out.extend(declared_by(entry));
        }
    }
    out
}

fn declared_by(entry: &Value) -> Vec<Value> {
    let (Some(name), Some(Value::Array(configs))) = (
        entry.get("name").and_then(Value::as_str),
        entry.get("service_configs"),
    ) else {
        return Vec::new();
    };
    let Some(api) = entry.as_object().and_then(super::written_api) else {
        return Vec::new();
    };
    let is_data_manager = |c: &&Value| {
        matches!(
            c.get("type").and_then(Value::as_str),
            Some("data_manager" | DATA_MANAGER)
        )
    };
    configs
        .iter()
        .filter(is_data_manager)
        .filter_map(|c| c.get("attributes")?.get("capture_methods")?.as_array())
        .flatten()
        .map(|m| {
            let mut m = m.clone();
            if let Value::Object(o) = &mut m {
                o.entry("name")
                    .or_insert_with(|| Value::String(format!("{api}/{name}")));
            }
            m
        })
        .collect()
}
