//! Between protobuf's well-known types and the SDK's plain Rust types.

use crate::{Document, GeoPoint, Orientation, Pose, Vector3};
use axle_proto::common;
use prost_types::{ListValue, Struct, Timestamp, Value, value::Kind};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A protobuf Duration (durations past its range saturate).
pub fn duration(d: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: d.subsec_nanos() as i32,
    }
}

/// A protobuf Struct as a JSON object (absent is empty).
pub fn from_struct(s: Option<Struct>) -> Document {
    s.map(|s| {
        s.fields
            .into_iter()
            .map(|(k, v)| (k, from_value(v)))
            .collect()
    })
    .unwrap_or_default()
}

fn from_value(v: Value) -> serde_json::Value {
    match v.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::NumberValue(n)) => {
            serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, Into::into)
        }
        Some(Kind::StringValue(s)) => s.into(),
        Some(Kind::BoolValue(b)) => b.into(),
        Some(Kind::StructValue(s)) => serde_json::Value::Object(from_struct(Some(s))),
        Some(Kind::ListValue(l)) => l.values.into_iter().map(from_value).collect(),
    }
}

/// A JSON object as a protobuf Struct.
pub fn to_struct(doc: Document) -> Struct {
    Struct {
        fields: doc.into_iter().map(|(k, v)| (k, to_value(v))).collect(),
    }
}

fn to_value(v: serde_json::Value) -> Value {
    let kind = match v {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Kind::StringValue(s),
        serde_json::Value::Array(a) => Kind::ListValue(ListValue {
            values: a.into_iter().map(to_value).collect(),
        }),
        serde_json::Value::Object(o) => Kind::StructValue(to_struct(o)),
    };
    Value { kind: Some(kind) }
}

/// A wall-clock time as a protobuf Timestamp.
pub fn timestamp(t: SystemTime) -> Timestamp {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp {
        seconds: d.as_secs() as i64,
        nanos: d.subsec_nanos() as i32,
    }
}

/// A protobuf Timestamp as a wall-clock time (absent or invalid is now).
pub fn system_time(t: Option<Timestamp>) -> SystemTime {
    t.filter(|t| t.seconds >= 0 && (0..1_000_000_000).contains(&t.nanos))
        .map(|t| UNIX_EPOCH + Duration::new(t.seconds as u64, t.nanos as u32))
        .unwrap_or_else(SystemTime::now)
}

/// A protobuf Vector3 (absent is zero).
pub fn vector(v: Option<axle_proto::common::Vector3>) -> Vector3 {
    v.map(|v| Vector3 {
        x: v.x,
        y: v.y,
        z: v.z,
    })
    .unwrap_or_default()
}

/// A Vector3 as protobuf.
pub fn to_vector(v: Vector3) -> common::Vector3 {
    common::Vector3 {
        x: v.x,
        y: v.y,
        z: v.z,
    }
}

/// A protobuf Pose (absent is the origin).
pub fn pose(p: Option<common::Pose>) -> Pose {
    p.map(|p| Pose {
        x: p.x,
        y: p.y,
        z: p.z,
        o_x: p.o_x,
        o_y: p.o_y,
        o_z: p.o_z,
        theta: p.theta,
    })
    .unwrap_or_default()
}

/// A Pose as protobuf.
pub fn to_pose(p: Pose) -> common::Pose {
    common::Pose {
        x: p.x,
        y: p.y,
        z: p.z,
        o_x: p.o_x,
        o_y: p.o_y,
        o_z: p.o_z,
        theta: p.theta,
    }
}

/// An Orientation as protobuf.
pub fn to_orientation(o: Orientation) -> common::Orientation {
    common::Orientation {
        o_x: o.o_x,
        o_y: o.o_y,
        o_z: o.o_z,
        theta: o.theta,
    }
}

/// A GeoPoint as protobuf.
pub fn to_geo_point(p: GeoPoint) -> common::GeoPoint {
    common::GeoPoint {
        latitude: p.latitude,
        longitude: p.longitude,
    }
}

/// Readings as the `map<string, Value>` of GetReadings.
pub fn readings(doc: Document) -> std::collections::HashMap<String, Value> {
    to_struct(doc).fields.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn structs_round_trip() {
        let doc = json!({"a": 1.5, "b": [true, null, "x"], "c": {"d": -2.0}});
        let doc = doc.as_object().cloned().unwrap();
        assert_eq!(from_struct(Some(to_struct(doc.clone()))), doc);
    }
}
