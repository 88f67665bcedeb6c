//! The robot's JSON config, Viam-style. A file that is not JSON, or whose top
//! level is malformed, is refused whole; a bad component is refused alone,
//! with an error naming it and the field, and the rest of the robot runs.

mod modules;
mod network;
mod remotes;
pub(crate) mod schema;
mod service_configs;
mod state;

pub use axle_wire::settings::{ApiKey, AuthConfig, IceServer, TlsFiles};
pub(crate) use axle_wire::settings::{parse_auth, parse_duration, parse_tls, show_duration};
pub use modules::{ModuleConfig, ModuleEntry, ModuleError};
pub use network::{ReachConfig, UplinkConfig};
pub use remotes::{RemoteConfig, RemoteEntry, RemoteError};
#[cfg(test)]
pub(crate) use service_configs::declared_captures;
use service_configs::gather_capture_methods;
pub(crate) use state::ConfigState;

use axle_sdk_module::{Api, Attributes, Model, validate_name};
pub use axle_wire::settings::keys::Problem;
use serde_json::{Map, Value};
use std::ops::RangeInclusive;
use std::path::Path;
use std::time::Duration;
use thiserror::Error;

/// A config that cannot be used at all.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not JSON.
    #[error("config {path} is not valid JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// The file holds keys that axle does not know: typos, most likely.
    #[error("config {path} has {} unknown key{}:\n  {}", problems.len(), if problems.len() == 1 { "" } else { "s" }, list(problems))]
    Keys {
        /// The file.
        path: String,
        /// Every unknown key, with its path and the nearest known key.
        problems: Vec<Problem>,
    },
    /// The JSON is not shaped like a config.
    #[error("config {path}: {field}: {message}")]
    Shape {
        /// The file.
        path: String,
        /// The offending top-level field.
        field: &'static str,
        /// What was wrong.
        message: String,
    },
}

fn list(problems: &[Problem]) -> String {
    let lines: Vec<_> = problems.iter().map(ToString::to_string).collect();
    lines.join("\n  ")
}

/// A component that cannot be built, and why: the resource and the field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("component {name:?}: {field}: {message}")]
pub struct ComponentError {
    /// The component's name, or `components[i]` if it has none.
    pub name: String,
    /// The config field at fault (`model`, `attributes.max_rpm`, `depends_on`, ...).
    pub field: String,
    /// What was wrong.
    pub message: String,
}

/// One well-formed component.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentConfig {
    /// Short name, unique in the robot.
    pub name: String,
    /// The API it serves.
    pub api: Api,
    /// The model that drives it.
    pub model: Model,
    /// Model-specific settings.
    pub attributes: Attributes,
    /// Names of components to build first.
    pub depends_on: Vec<String>,
}

impl ComponentConfig {
    /// Its full name, e.g. `rdk:component:motor/left`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.api, self.name)
    }
}

/// A component entry as read: usable, or refused with its error.
pub type ComponentEntry = Result<ComponentConfig, ComponentError>;

/// `network.sessions`: how long a client may go silent before the robot
/// stops what it drove, and how many clients may hold sessions at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionsConfig {
    /// `heartbeat_window`: a session expires this long after its last
    /// heartbeat or monitored call.
    pub heartbeat_window: Duration,
    /// `max_sessions`: live sessions beyond this are refused.
    pub max_sessions: usize,
}

impl SessionsConfig {
    /// The window when the config sets none.
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(2);
    /// The windows a config may set: shorter ones expire healthy clients on
    /// a busy network, longer ones leave a robot running unattended.
    pub const WINDOW_RANGE: RangeInclusive<Duration> =
        Duration::from_millis(30)..=Duration::from_secs(60);
    /// The session limit when the config sets none.
    pub const DEFAULT_MAX_SESSIONS: usize = 65_536;
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            heartbeat_window: Self::DEFAULT_WINDOW,
            max_sessions: Self::DEFAULT_MAX_SESSIONS,
        }
    }
}

/// The whole config.
#[derive(Debug, Clone, Default)]
pub struct RobotConfig {
    /// `network.bind_address`, if set.
    pub bind_address: Option<String>,
    /// `network.sessions`.
    pub sessions: SessionsConfig,
    /// The components, in file order.
    pub components: Vec<ComponentEntry>,
    /// The modules, in file order.
    pub modules: Vec<ModuleEntry>,
    /// The remote parts, in file order.
    pub remotes: Vec<RemoteEntry>,
    /// `auth`: API keys; `None` leaves the robot open to anyone who can
    /// reach it.
    pub auth: Option<AuthConfig>,
    /// `network.tls_cert_file` and `network.tls_key_file`.
    pub tls: Option<TlsFiles>,
    /// `network.fqdn`, `network.mdns`, `network.webrtc`.
    pub reach: ReachConfig,
    /// `network.log`: the log filter, if set.
    pub log: Option<String>,
    /// Upstream keys the file holds that axle accepts without acting on.
    pub ignored: Vec<String>,
}

/// The rover axle serves when started without `--config`.
pub const DEFAULT_ROVER: &str = include_str!("../../../examples/rover.json");

impl RobotConfig {
    /// The largest config file axle reads: far beyond any robot's, small
    /// enough that a runaway generator cannot exhaust memory.
    pub const MAX_BYTES: usize = 8 * 1024 * 1024;

    /// Reads and parses a config file. A module's relative
    /// `executable_path` is taken from the config file's directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_file_text(&text, path)
    }

    /// Parses the bytes of the config file at `path`: as [`RobotConfig::load`],
    /// for bytes already read.
    pub fn from_file_text(text: &[u8], path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        if text.len() > Self::MAX_BYTES {
            return Err(ConfigError::Shape {
                path: shown,
                field: "(file)",
                message: format!(
                    "is {} bytes; a config may have at most {}",
                    text.len(),
                    Self::MAX_BYTES
                ),
            });
        }
        let text = std::str::from_utf8(text).map_err(|e| ConfigError::Shape {
            path: shown.clone(),
            field: "(file)",
            message: format!("not UTF-8 text: {e}"),
        })?;
        let mut config = Self::parse(text, &shown)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for m in config.modules.iter_mut().flatten() {
            if m.executable_path.is_relative() {
                m.executable_path = dir.join(&m.executable_path);
            }
        }
        if let Some(tls) = &mut config.tls {
            for file in [&mut tls.cert, &mut tls.key] {
                if file.is_relative() {
                    *file = dir.join(&*file);
                }
            }
        }
        Ok(config)
    }

    /// Parses config text; `path` is only for messages.
    pub fn parse(text: &str, path: &str) -> Result<Self, ConfigError> {
        let root: Value = serde_json::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.into(),
            line: e.line(),
            column: e.column(),
            message: e
                .to_string()
                .split(" at line")
                .next()
                .unwrap_or_default()
                .to_string(),
        })?;
        let shape = |field, message: &str| ConfigError::Shape {
            path: path.into(),
            field,
            message: message.into(),
        };
        let keys = schema::check(&root);
        if !keys.problems.is_empty() {
            return Err(ConfigError::Keys {
                path: path.into(),
                problems: keys.problems,
            });
        }
        let sessions = match root.get("network").and_then(|n| n.get("sessions")) {
            None | Some(Value::Null) => SessionsConfig::default(),
            Some(v) => parse_sessions(v).map_err(|(field, message)| shape(field, &message))?,
        };
        let root = root
            .as_object()
            .ok_or_else(|| shape("(top level)", "expected a JSON object"))?;
        let network_text = |key: &'static str, field, like: &str| match root
            .get("network")
            .and_then(|n| n.get(key))
        {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(shape(field, &format!("expected a string like {like}"))),
        };
        let bind_address =
            network_text("bind_address", "network.bind_address", "\"127.0.0.1:8080\"")?;
        // Services (`"api": "rdk:service:vision"`) are resources built and
        // served as components are; they come after them in build order.
        let mut components = Vec::new();
        for field in ["components", "services"] {
            match root.get(field) {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    components.extend(items.iter().enumerate().map(|(i, v)| parse_component(i, v)))
                }
                Some(_) => {
                    return Err(shape(field, &format!("expected a list of {field}")));
                }
            }
        }
        gather_capture_methods(root, &mut components);
        let modules = match root.get("modules") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| modules::parse_module(i, v))
                .collect(),
            Some(_) => return Err(shape("modules", "expected a list of modules")),
        };
        let remotes = match root.get("remotes") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| remotes::parse_remote(i, v))
                .collect(),
            Some(_) => return Err(shape("remotes", "expected a list of remotes")),
        };
        let auth = match root.get("auth") {
            None | Some(Value::Null) => None,
            Some(v) => parse_auth(v).map_err(|(field, message)| shape(field, &message))?,
        };
        let tls =
            parse_tls(root.get("network")).map_err(|(field, message)| shape(field, &message))?;
        let reach = network::parse_reach(root.get("network"))
            .map_err(|(field, message)| shape(field, &message))?;
        let log = network_text(
            "log",
            "network.log",
            "\"info\" or \"info,axle_runtime::webrtc=debug\"",
        )?;
        Ok(Self {
            bind_address,
            sessions,
            components,
            modules,
            remotes,
            auth,
            tls,
            reach,
            log,
            ignored: keys.ignored,
        })
    }
}

/// The revision of config text: its 64-bit FNV-1a hash in hex. Stable across
/// builds and machines, so a client can compute it from the file.
pub fn revision_of(text: &[u8]) -> String {
    let hash = text.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

fn parse_sessions(v: &Value) -> Result<SessionsConfig, (&'static str, String)> {
    const WINDOW: &str = "network.sessions.heartbeat_window";
    const MAX: &str = "network.sessions.max_sessions";
    let obj = v
        .as_object()
        .ok_or(("network.sessions", format!("expected an object, got {v}")))?;
    let mut sessions = SessionsConfig::default();
    match obj.get("heartbeat_window") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            let window = parse_duration(s).map_err(|e| (WINDOW, e))?;
            let range = SessionsConfig::WINDOW_RANGE;
            if !range.contains(&window) {
                return Err((
                    WINDOW,
                    format!(
                        "{s:?} is outside the allowed range {} to {}",
                        show_duration(*range.start()),
                        show_duration(*range.end())
                    ),
                ));
            }
            sessions.heartbeat_window = window;
        }
        Some(other) => {
            return Err((
                WINDOW,
                format!("expected a duration string like \"2s\", got {other}"),
            ));
        }
    }
    match obj.get("max_sessions") {
        None | Some(Value::Null) => {}
        Some(n) => {
            sessions.max_sessions = n
                .as_u64()
                .filter(|&n| n > 0)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or((MAX, format!("expected a positive whole number, got {n}")))?;
        }
    }
    Ok(sessions)
}

fn parse_component(index: usize, value: &Value) -> ComponentEntry {
    let err = |name: &str, field: &str, message: String| ComponentError {
        name: name.to_string(),
        field: field.to_string(),
        message,
    };
    let (obj, name) = open_entry("components", index, value)
        .map_err(|(name, field, message)| err(&name, field, message))?;
    let text = |field: &str| text_field(obj, field).map_err(|m| err(&name, field, m));
    let api = match (text("api")?, text("type")?) {
        (Some(api), _) => api
            .parse::<Api>()
            .map_err(|e| err(&name, "api", e.to_string()))?,
        // Legacy form: `type` (+ `namespace`, default rdk) names a component API.
        (None, Some(kind)) => Api {
            namespace: text("namespace")?.unwrap_or("rdk").to_string(),
            kind: "component".into(),
            subtype: kind.to_string(),
        },
        (None, None) => {
            return Err(err(
                &name,
                "api",
                "missing; set \"api\" like \"rdk:component:motor\"".into(),
            ));
        }
    };
    let model = text("model")?
        .ok_or_else(|| {
            err(
                &name,
                "model",
                "missing; set \"model\" like \"fake\"".into(),
            )
        })?
        .parse::<Model>()
        .map_err(|e| err(&name, "model", e.to_string()))?;
    let attributes = match obj.get("attributes") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => {
            return Err(err(
                &name,
                "attributes",
                format!("expected an object, got {other}"),
            ));
        }
    };
    let depends_on = match obj.get("depends_on") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|d| {
                d.as_str()
                    .map(short_name)
                    .ok_or_else(|| err(&name, "depends_on", format!("expected names, got {d}")))
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(err(
                &name,
                "depends_on",
                format!("expected a list of names, got {other}"),
            ));
        }
    };
    Ok(ComponentConfig {
        name,
        api,
        model,
        attributes: Attributes::new(attributes),
        depends_on,
    })
}

/// Why an entry of a config list is unusable: (its name, or its position
/// when it has none; the field; the message).
type EntryError = (String, &'static str, String);

/// An entry of a config list (`components[3]`, `modules[0]`): its object and
/// its checked name.
fn open_entry<'a>(
    list: &str,
    index: usize,
    value: &'a Value,
) -> Result<(&'a Map<String, Value>, String), EntryError> {
    let position = format!("{list}[{index}]");
    let obj = value
        .as_object()
        .ok_or_else(|| (position.clone(), "(entry)", "expected a JSON object".into()))?;
    let name = match obj.get("name") {
        Some(Value::String(n)) => n.clone(),
        Some(other) => return Err((position, "name", format!("expected a string, got {other}"))),
        None => return Err((position, "name", "missing".into())),
    };
    validate_name(&name).map_err(|e| (name.clone(), "name", e.to_string()))?;
    Ok((obj, name))
}

/// A string field of an entry, if set; the error says what was found.
fn text_field<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, String> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(format!("expected a string, got {other}")),
    }
}

/// The API a component or service entry names, as written: `api`, or the
/// legacy `type` with `namespace` (default `rdk`); unchecked.
fn written_api(entry: &Map<String, Value>) -> Option<String> {
    let text = |k: &str| entry.get(k).and_then(Value::as_str);
    match (text("api"), text("type")) {
        (Some(api), _) => Some(api.to_string()),
        (None, Some(kind)) => Some(format!(
            "{}:component:{kind}",
            text("namespace").unwrap_or("rdk")
        )),
        (None, None) => None,
    }
}

/// `depends_on` may hold short names or full names (`api/name`).
fn short_name(s: &str) -> String {
    s.rsplit_once('/').map_or(s, |(_, n)| n).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_give_line_and_column() {
        let e =
            RobotConfig::parse("{\n  \"components\": [\n    {,}\n  ]\n}", "x.json").unwrap_err();
        match e {
            ConfigError::Syntax { line, column, .. } => assert_eq!((line, column), (3, 6)),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn accepts_api_legacy_type_and_short_models() {
        let c = RobotConfig::parse(
            r#"{"network": {"bind_address": "0.0.0.0:9090"}, "components": [
                {"name": "a", "api": "rdk:component:motor", "model": "fake", "attributes": {"max_rpm": 5}},
                {"name": "b", "type": "base", "namespace": "rdk", "model": "rdk:builtin:fake", "depends_on": ["a", "rdk:component:motor/c"]}
            ]}"#,
            "x",
        )
        .unwrap();
        assert_eq!(c.bind_address.as_deref(), Some("0.0.0.0:9090"));
        let a = c.components[0].as_ref().unwrap();
        assert_eq!(
            (a.api.to_string(), a.model.to_string()),
            ("rdk:component:motor".into(), "rdk:builtin:fake".into())
        );
        let b = c.components[1].as_ref().unwrap();
        assert_eq!(b.api.to_string(), "rdk:component:base");
        assert_eq!(b.depends_on, ["a", "c"]);
    }

    #[test]
    fn bad_components_are_refused_alone_naming_the_field() {
        let c = RobotConfig::parse(
            r#"{"components": [
                {"name": "ok", "api": "rdk:component:motor", "model": "fake"},
                {"name": "bad name", "api": "rdk:component:motor", "model": "fake"},
                {"name": "m", "api": "motor", "model": "fake"},
                {"name": "n", "api": "rdk:component:motor"},
                {"name": "o", "api": "rdk:component:motor", "model": "fake", "attributes": [1]},
                {"api": "rdk:component:motor", "model": "fake"}
            ]}"#,
            "x",
        )
        .unwrap();
        let fields: Vec<_> = c
            .components
            .iter()
            .map(|e| {
                e.as_ref()
                    .err()
                    .map(|e| (e.name.as_str(), e.field.as_str()))
            })
            .collect();
        assert_eq!(
            fields,
            [
                None,
                Some(("bad name", "name")),
                Some(("m", "api")),
                Some(("n", "model")),
                Some(("o", "attributes")),
                Some(("components[5]", "name"))
            ]
        );
    }

    #[test]
    fn malformed_top_level_is_refused_whole() {
        assert!(matches!(
            RobotConfig::parse("[]", "x"),
            Err(ConfigError::Shape { .. })
        ));
        assert!(matches!(
            RobotConfig::parse(r#"{"components": {}}"#, "x"),
            Err(ConfigError::Shape {
                field: "components",
                ..
            })
        ));
    }

    #[test]
    fn sessions_settings_parse_with_defaults_and_range_checks() {
        let c = RobotConfig::parse("{}", "x").unwrap();
        assert_eq!(c.sessions, SessionsConfig::default());
        let c = RobotConfig::parse(
            r#"{"network": {"sessions": {"heartbeat_window": "500ms", "max_sessions": 3}}}"#,
            "x",
        )
        .unwrap();
        assert_eq!(c.sessions.heartbeat_window, Duration::from_millis(500));
        assert_eq!(c.sessions.max_sessions, 3);
        for (bad, needle) in [
            (
                r#"{"heartbeat_window": "10ms"}"#,
                "outside the allowed range 30ms to 1m",
            ),
            (r#"{"heartbeat_window": "2m"}"#, "outside the allowed range"),
            (r#"{"heartbeat_window": "soon"}"#, "is not a duration"),
            (r#"{"heartbeat_window": 2}"#, "expected a duration string"),
            (r#"{"max_sessions": 0}"#, "positive whole number"),
            (r#"[]"#, "expected an object"),
        ] {
            let text = format!(r#"{{"network": {{"sessions": {bad}}}}}"#);
            let e = RobotConfig::parse(&text, "x").unwrap_err().to_string();
            assert!(e.contains(needle), "{bad}: {e}");
            assert!(e.contains("network.sessions"), "{bad}: {e}");
        }
    }

    #[test]
    fn deep_and_huge_configs_are_refused_cleanly() {
        let deep = format!(
            r#"{{"components": [{{"name": "m", "api": "rdk:component:motor", "model": "fake", "attributes": {{"a": {}1{}}}}}]}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let e = RobotConfig::parse(&deep, "x").unwrap_err().to_string();
        assert!(e.contains("recursion limit"), "{e}");
        let huge = vec![b' '; RobotConfig::MAX_BYTES + 1];
        let e = RobotConfig::from_file_text(&huge, Path::new("x")).unwrap_err();
        assert!(e.to_string().contains("at most"), "{e}");
    }

    #[test]
    fn revisions_are_fnv1a_of_the_bytes() {
        assert_eq!(revision_of(b""), "cbf29ce484222325");
        assert_eq!(revision_of(b"a"), "af63dc4c8601ec8c");
    }

    #[test]
    fn embedded_rover_parses_cleanly() {
        let c = RobotConfig::parse(DEFAULT_ROVER, "rover").unwrap();
        assert!(c.components.iter().all(Result::is_ok));
        assert_eq!(c.components.len(), 4);
    }

    /// One typo per section: each is refused with its path and the key meant.
    #[test]
    fn typos_anywhere_are_refused_with_their_path_and_the_key_meant() {
        let motor = r#"{"name": "m", "api": "rdk:component:motor", "model": "fake""#;
        for (text, expected) in [
            (format!(r#"{{"components": [{motor}, "attributes": {{"max_rmp": 500}}}}]}}"#),
                r#"components[0].attributes: unknown key "max_rmp"; did you mean "max_rpm"?"#),
            (format!(r#"{{"components": [{motor}, "atributes": {{}}}}]}}"#),
                r#"components[0]: unknown key "atributes"; did you mean "attributes"?"#),
            (r#"{"componets": []}"#.to_string(),
                r#"(top level): unknown key "componets"; did you mean "components"?"#),
            (r#"{"network": {"bind_adress": "127.0.0.1:1"}}"#.to_string(),
                r#"network: unknown key "bind_adress"; did you mean "bind_address"?"#),
            (r#"{"network": {"sessions": {"heartbeat_windw": "500ms"}}}"#.to_string(),
                r#"network.sessions: unknown key "heartbeat_windw"; did you mean "heartbeat_window"?"#),
            (r#"{"auth": {"handler": []}}"#.to_string(),
                r#"auth: unknown key "handler"; did you mean "handlers"?"#),
            (r#"{"modules": [{"name": "x", "executable_path": "/x", "enviroment": {}}]}"#.to_string(),
                r#"modules[0]: unknown key "enviroment"; known keys:"#),
            (r#"{"modules": [{"name": "x", "exectuable_path": "/x"}]}"#.to_string(),
                r#"modules[0]: unknown key "exectuable_path"; did you mean "executable_path"?"#),
            (r#"{"remotes": [{"name": "r", "adress": "h:1"}]}"#.to_string(),
                r#"remotes[0]: unknown key "adress"; did you mean "address"?"#),
            (r#"{"services": [{"name": "d", "api": "rdk:service:data_manager", "model": "builtin", "attributes": {"sync_intervl_mins": 1}}]}"#.to_string(),
                r#"services[0].attributes: unknown key "sync_intervl_mins"; did you mean "sync_interval_mins"?"#),
            (r#"{"services": [{"name": "d", "api": "rdk:service:data_manager", "model": "builtin", "attributes": {"sync_target": {"ulr": "file:///x"}}}]}"#.to_string(),
                r#"services[0].attributes.sync_target: unknown key "ulr"; did you mean "url"?"#),
            (r#"{"services": [{"name": "rc", "api": "rdk:service:base_remote_control", "model": "builtin", "attributes": {"base": "b", "input_controler": "p"}}]}"#.to_string(),
                r#"services[0].attributes: unknown key "input_controler"; did you mean "input_controller"?"#),
            (format!(r#"{{"components": [{motor}, "service_configs": [{{"type": "data_manager", "attributes": {{"capture_methods": [{{"method": "Position", "capture_frequency": 1}}]}}}}]}}]}}"#),
                r#"components[0].service_configs[0].attributes.capture_methods[0]: unknown key "capture_frequency"; did you mean "capture_frequency_hz"?"#),
        ] {
            let e = RobotConfig::parse(&text, "robot.json").unwrap_err().to_string();
            assert!(e.contains(expected), "{text}\n{e}");
        }
    }

    #[test]
    fn every_problem_is_listed_and_upstream_keys_are_accepted() {
        let e = RobotConfig::parse(r#"{"componets": [], "remots": []}"#, "x")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("config x has 2 unknown keys:"), "{e}");
        let c = RobotConfig::parse(
            r#"{"packages": [], "components": [{"name": "m", "type": "motor", "model": "fake", "frame": {}, "attributes": {"board": "b", "pins": {}}},
                {"name": "x", "api": "acme:component:motor", "model": "acme:demo:m", "attributes": {"anything": 1}}]}"#,
            "x",
        )
        .unwrap();
        assert_eq!(
            c.ignored,
            [
                "components[0].attributes.board",
                "components[0].attributes.pins",
                "components[0].frame",
                "packages"
            ]
        );
    }

    /// Every attribute a fake reads (`attrs.number("max_rpm")`, ...) is one
    /// it declares: otherwise strict checks would refuse a key it reads.
    #[test]
    fn the_fakes_declare_every_attribute_they_read() {
        let declared: Vec<&str> = schema::MODELS
            .iter()
            .flat_map(|(_, _, keys)| keys.iter().map(|k| k.name))
            .collect();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk-module/src/fake");
        for file in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
            for (i, _) in text.match_indices("attrs") {
                let rest = &text[i..];
                let Some(open) = rest.find("(\"").filter(|&o| o < 40) else {
                    continue;
                };
                let key = rest[open + 2..].split('"').next().unwrap();
                assert!(
                    declared.contains(&key),
                    "a fake reads {key:?} but declares it nowhere"
                );
            }
        }
    }
}
