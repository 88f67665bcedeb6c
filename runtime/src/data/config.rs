//! The data manager's attributes, upstream's names and defaults, checked; and
//! the capture methods that components declare in their `service_configs`,
//! gathered onto the data manager when the config is read.

use axle_sdk_module::{Api, AttributeError, Attributes, Document};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// What to capture, where, and where to sync it.
#[derive(Debug, Clone, PartialEq)]
pub struct DataManagerConfig {
    /// `capture_dir`: the root of the capture files (`~` expanded).
    pub capture_dir: PathBuf,
    /// `tags`: written into every file's metadata.
    pub tags: Vec<String>,
    /// `capture_disabled`: no collector runs.
    pub capture_disabled: bool,
    /// `sync_disabled`: no scheduled pass; the Sync RPC still runs one.
    pub sync_disabled: bool,
    /// `sync_interval_mins`: the period of scheduled passes.
    pub sync_interval: Duration,
    /// `maximum_capture_file_size_bytes`: a tabular file past this is closed.
    pub max_file_size: u64,
    /// `additional_sync_paths`: directories whose files are synced as they are.
    pub additional_sync_paths: Vec<PathBuf>,
    /// `file_last_modified_millis`: an arbitrary file must be this old.
    pub file_last_modified: Duration,
    /// `maximum_num_sync_threads`: uploads in flight at once.
    pub sync_threads: usize,
    /// `capture_dir_quota_bytes` (axle): closed files beyond this go, oldest first.
    pub quota: Option<u64>,
    /// `minimum_free_disk_bytes` (axle): closed files go, oldest first,
    /// while the disk has less free than this.
    pub free_floor: u64,
    /// `sync_target` (axle): where files go. None: sync is off.
    pub target: Option<TargetConfig>,
    /// `capture_methods`: from the components' `service_configs`, or set
    /// here with full resource names.
    pub captures: Vec<CaptureMethod>,
    /// Why `sync_target` cannot be used, if it cannot: sync waits for a
    /// fix while capture goes on.
    pub target_error: Option<String>,
    /// Capture methods that cannot run, each with why: the others run.
    pub refused: Vec<String>,
}

/// `sync_target`: an object store URL and what reaching it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetConfig {
    /// `s3://bucket/prefix` or `file:///a/directory`.
    pub url: String,
    /// `endpoint`: an S3 server other than AWS (`http://127.0.0.1:8333`).
    pub endpoint: Option<String>,
    /// `region`.
    pub region: String,
    /// `allow_http`: plain HTTP to the endpoint.
    pub allow_http: bool,
    /// The access key id: `access_key_id`, or the variable `access_key_id_env` names.
    pub access_key_id: Option<String>,
    /// The secret: `secret_access_key`, or the variable `secret_access_key_env` names.
    pub secret_access_key: Option<String>,
}

/// One method of one resource, captured at a rate.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureMethod {
    /// The resource's API.
    pub api: Api,
    /// The resource's name (`left`, or `sub:left` on a remote).
    pub name: String,
    /// The API method: `Position`, `Readings`, `DoCommand`, ...
    pub method: String,
    /// Captures per second.
    pub hz: f64,
    /// `additional_params`: stored as the file's method parameters; for
    /// DoCommand, `docommand_input` is the command sent.
    pub params: Document,
}

impl CaptureMethod {
    /// The period between captures.
    pub fn interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.hz)
    }

    /// `rdk:component:motor/left`.
    pub fn resource(&self) -> String {
        format!("{}/{}", self.api, self.name)
    }
}

fn bad(field: &str, problem: impl Into<String>) -> AttributeError {
    AttributeError {
        field: field.into(),
        problem: problem.into(),
    }
}

/// The default free-space floor: enough that the robot's own logs and
/// updates still fit when capture fills the disk.
pub const DEFAULT_FREE_FLOOR: u64 = 100 << 20;

impl DataManagerConfig {
    /// Reads and checks the attributes.
    pub fn parse(attrs: &Attributes) -> Result<Self, AttributeError> {
        // Unknown keys were refused with the whole config (config::schema).
        let doc = attrs.as_document();
        let default_dir = home().join(".viam").join("capture");
        let capture_dir = match attrs.string("capture_dir", "")? {
            d if d.is_empty() => default_dir,
            d => expand_home(&d),
        };
        let mins = attrs.number("sync_interval_mins")?.unwrap_or(0.0);
        if mins < 0.0 {
            return Err(bad(
                "sync_interval_mins",
                format!("must not be negative, got {mins}"),
            ));
        }
        // Upstream: unset or zero means 0.1 min.
        let mins = if mins < 1e-4 { 0.1 } else { mins };
        let threads = whole(attrs, "maximum_num_sync_threads")?
            .map(|n| n as usize)
            .filter(|&n| n > 0)
            .unwrap_or_else(default_threads);
        let threshold = attrs.number("disk_usage_deletion_threshold")?;
        if let Some(t) = threshold.filter(|t| !(0.0..=1.0).contains(t)) {
            return Err(bad(
                "disk_usage_deletion_threshold",
                format!("must be between 0 and 1, got {t}"),
            ));
        }
        let free_floor = match (whole(attrs, "minimum_free_disk_bytes")?, threshold) {
            (Some(bytes), _) => bytes,
            (None, Some(t)) => free_floor_for(&capture_dir, t),
            (None, None) => DEFAULT_FREE_FLOOR,
        };
        // One bad capture method or an unusable target is refused alone:
        // the healthy collectors keep capturing.
        let (captures, refused) = parse_captures(doc.get("capture_methods"))?;
        let (target, target_error) = match attrs.object("sync_target")?.map(|t| parse_target(&t)) {
            None => (None, None),
            Some(Ok(t)) => (Some(t), None),
            Some(Err(e)) => (None, Some(e.to_string())),
        };
        Ok(Self {
            tags: attrs.strings("tags")?.unwrap_or_default(),
            capture_disabled: attrs.boolean("capture_disabled", false)?,
            sync_disabled: attrs.boolean("sync_disabled", false)?,
            sync_interval: Duration::from_secs_f64(mins * 60.0),
            max_file_size: whole(attrs, "maximum_capture_file_size_bytes")?
                .filter(|&n| n > 0)
                .unwrap_or(256 * 1024),
            additional_sync_paths: attrs
                .strings("additional_sync_paths")?
                .unwrap_or_default()
                .iter()
                .map(|p| expand_home(p))
                .collect(),
            file_last_modified: Duration::from_millis(
                whole(attrs, "file_last_modified_millis")?.unwrap_or(10_000),
            ),
            sync_threads: threads,
            quota: whole(attrs, "capture_dir_quota_bytes")?,
            free_floor,
            target,
            target_error,
            captures,
            refused,
            capture_dir,
        })
    }

    /// Every directory that sync walks: the capture directory first.
    pub fn sync_paths(&self) -> Vec<PathBuf> {
        let mut paths = vec![self.capture_dir.clone()];
        paths.extend(self.additional_sync_paths.iter().cloned());
        paths
    }
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// Upstream's "delete when the disk is this full", as a free-space floor.
fn free_floor_for(dir: &std::path::Path, used_ratio: f64) -> u64 {
    let total = super::disk::space(dir).map_or(0, |s| s.total);
    ((1.0 - used_ratio) * total as f64) as u64
}

/// A whole number ≥ 0, if present.
fn whole(attrs: &Attributes, field: &str) -> Result<Option<u64>, AttributeError> {
    match attrs.number(field)? {
        None => Ok(None),
        Some(n) if n >= 0.0 && n.fract() == 0.0 => Ok(Some(n as u64)),
        Some(n) => Err(bad(field, format!("expected a whole number ≥ 0, got {n}"))),
    }
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from)
}

fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => home().join(rest),
        None if path == "~" => home(),
        None => PathBuf::from(path),
    }
}

fn parse_target(t: &Document) -> Result<TargetConfig, AttributeError> {
    let field = |k: &str| format!("sync_target.{k}");
    let text = |k: &str| -> Result<Option<String>, AttributeError> {
        match t.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(bad(&field(k), format!("expected a string, got {v}"))),
        }
    };
    let url = text("url")?.ok_or_else(|| {
        bad(
            &field("url"),
            "missing: like \"s3://bucket/prefix\" or \"file:///mnt/usb/robot\"",
        )
    })?;
    if !(url.starts_with("s3://") || url.starts_with("file:///")) {
        return Err(bad(
            &field("url"),
            format!("{url:?}: expected s3://bucket[/prefix] or file:///absolute/path"),
        ));
    }
    // A secret may live in the environment rather than in the config file.
    let secret = |key: &str| -> Result<Option<String>, AttributeError> {
        let env_key = format!("{key}_env");
        match (text(key)?, text(&env_key)?) {
            (Some(v), _) => Ok(Some(v)),
            (None, Some(var)) => std::env::var(&var).map(Some).map_err(|_| {
                bad(
                    &field(&env_key),
                    format!("the environment variable {var} is not set"),
                )
            }),
            (None, None) => Ok(None),
        }
    };
    let allow_http = match t.get("allow_http") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(v) => {
            return Err(bad(
                &field("allow_http"),
                format!("expected true or false, got {v}"),
            ));
        }
    };
    Ok(TargetConfig {
        endpoint: text("endpoint")?,
        region: text("region")?.unwrap_or_else(|| "us-east-1".into()),
        allow_http,
        access_key_id: secret("access_key_id")?,
        secret_access_key: secret("secret_access_key")?,
        url,
    })
}

/// The capture methods that can run, and why each of the others cannot.
type Captures = (Vec<CaptureMethod>, Vec<String>);

fn parse_captures(list: Option<&Value>) -> Result<Captures, AttributeError> {
    let items = match list {
        None | Some(Value::Null) => return Ok(Default::default()),
        Some(Value::Array(items)) => items,
        Some(v) => return Err(bad("capture_methods", format!("expected a list, got {v}"))),
    };
    let (mut good, mut refused) = (Vec::new(), Vec::new());
    for (i, item) in items.iter().enumerate() {
        match parse_capture(i, item) {
            Ok(Some(c)) => good.push(c),
            Ok(None) => {}
            Err(e) => refused.push(e.to_string()),
        }
    }
    Ok((good, refused))
}

/// One capture method; None if disabled (or, as upstream, at a rate so low
/// that it would never fire).
fn parse_capture(i: usize, item: &Value) -> Result<Option<CaptureMethod>, AttributeError> {
    let obj = item.as_object().ok_or_else(|| {
        bad(
            &format!("capture_methods[{i}]"),
            format!("expected an object, got {item}"),
        )
    })?;
    let attrs = Attributes::new(obj.clone());
    let resource = attrs.string("name", "")?;
    let field = |k: &str| format!("capture_methods[{i}] ({resource}).{k}");
    let (api, name) = resource
        .split_once('/')
        .and_then(|(api, name)| Some((api.parse::<Api>().ok()?, name.to_string())))
        .ok_or_else(|| {
            bad(
                &field("name"),
                "expected a resource like \"rdk:component:motor/left\"",
            )
        })?;
    let method = attrs
        .string("method", "")
        .map_err(|e| bad(&field("method"), e.problem))?;
    if method.is_empty() {
        return Err(bad(
            &field("method"),
            "missing: a method of the API, like \"Position\"",
        ));
    }
    let hz = attrs
        .number("capture_frequency_hz")
        .map_err(|e| bad(&field("capture_frequency_hz"), e.problem))?
        .ok_or_else(|| {
            bad(
                &field("capture_frequency_hz"),
                "missing: captures per second",
            )
        })?;
    if hz < 0.0 {
        return Err(bad(
            &field("capture_frequency_hz"),
            format!("must not be negative, got {hz}"),
        ));
    }
    let disabled = attrs
        .boolean("disabled", false)
        .map_err(|e| bad(&field("disabled"), e.problem))?;
    if disabled || hz <= 1e-6 {
        return Ok(None);
    }
    let params = attrs
        .object("additional_params")
        .map_err(|e| bad(&field("additional_params"), e.problem))?
        .unwrap_or_default();
    Ok(Some(CaptureMethod {
        api,
        name,
        method,
        hz,
        params,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(v: Value) -> Attributes {
        Attributes::new(v.as_object().cloned().unwrap_or_default())
    }

    #[test]
    fn upstream_defaults() {
        let c = DataManagerConfig::parse(&attrs(json!({}))).expect("empty config");
        assert!(c.capture_dir.ends_with(".viam/capture"));
        assert_eq!(c.sync_interval, Duration::from_secs(6));
        assert_eq!(c.max_file_size, 262_144);
        assert_eq!(c.file_last_modified, Duration::from_secs(10));
        assert!(c.target.is_none());
    }

    #[test]
    fn bad_values_name_their_field() {
        let e = DataManagerConfig::parse(&attrs(json!({"sync_interval_mins": -1}))).unwrap_err();
        assert_eq!(e.field, "sync_interval_mins");
        let c = DataManagerConfig::parse(&attrs(json!({"sync_target": {"url": "ftp://x"}})))
            .expect("a bad target is refused alone");
        assert!(c.target.is_none());
        assert!(c.target_error.unwrap().contains("sync_target.url"));
        let c = DataManagerConfig::parse(&attrs(json!({"capture_methods": [
            {"name": "rdk:component:motor/m", "method": "Position"},
            {"name": "rdk:component:motor/m", "method": "IsPowered", "capture_frequency_hz": 1}]})))
        .expect("a bad method is refused alone");
        assert_eq!(c.captures.len(), 1);
        assert!(
            c.refused[0].contains("capture_frequency_hz"),
            "{:?}",
            c.refused
        );
    }

    #[test]
    fn service_configs_are_gathered_with_their_resource() {
        let root = json!({"components": [
            {"name": "m", "api": "rdk:component:motor", "model": "fake", "service_configs": [
                {"type": "data_manager", "attributes": {"capture_methods": [
                    {"method": "Position", "capture_frequency_hz": 10},
                    {"method": "IsPowered", "capture_frequency_hz": 1, "disabled": true}]}}]},
            {"name": "s", "type": "sensor", "model": "fake", "service_configs": [
                {"type": "data_manager", "attributes": {"capture_methods": [
                    {"method": "Readings", "capture_frequency_hz": 0.5}]}}]}]});
        let list = Value::Array(crate::config::declared_captures(
            root.as_object().expect("an object"),
        ));
        let (captures, _) = parse_captures(Some(&list)).expect("valid");
        assert_eq!(captures.len(), 2, "the disabled method is dropped");
        assert_eq!(captures[0].resource(), "rdk:component:motor/m");
        assert_eq!(captures[1].resource(), "rdk:component:sensor/s");
        assert_eq!(captures[0].interval(), Duration::from_millis(100));
    }
}
