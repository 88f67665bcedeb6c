//! Every key a robot config may hold, and the attributes of every built-in
//! model. [`RobotConfig::parse`](super::RobotConfig::parse) refuses any
//! other key, and the README's configuration reference is rendered from
//! these tables (a test keeps the two equal).

use axle_sdk_module::fake::*;
use axle_sdk_module::{Api, Model};
use axle_wire::settings::keys::{self, Key, Report, Shape};
use axle_wire::settings::{AUTH_KEYS, ICE_SERVER_KEYS};
use serde_json::{Map, Value};

/// Checks every object of a robot config's JSON.
pub fn check(root: &Value) -> Report {
    keys::check(root, ROBOT, &attributes_of)
}

/// The top level of a robot config.
pub const ROBOT: &[Key] = &[
    Key::of("components", "the robot's parts", Shape::List(RESOURCE)),
    Key::of(
        "services",
        "the data manager, remote control, a module's services",
        Shape::List(RESOURCE),
    ),
    Key::of(
        "modules",
        "child processes that serve more models",
        Shape::List(MODULE),
    ),
    Key::of(
        "remotes",
        "other axle or viam-server parts served as this one's",
        Shape::List(REMOTE),
    ),
    Key::of(
        "network",
        "where and how the robot serves",
        Shape::Object(NETWORK),
    ),
    Key::of(
        "auth",
        "API keys; without it anyone who can reach the robot may drive it",
        Shape::Object(AUTH_KEYS),
    ),
    Key::ignored("packages", "upstream's"),
    Key::ignored("processes", "upstream's"),
    Key::ignored("agent", "upstream's"),
    Key::ignored("cloud", "upstream's"),
    Key::ignored("debug", "upstream's"),
    Key::ignored("disable_partial_start", "upstream's"),
    Key::ignored("fragments", "upstream's"),
    Key::ignored("jobs", "upstream's"),
    Key::ignored("log", "upstream's"),
    Key::ignored("maintenance", "upstream's"),
    Key::ignored("revision", "upstream's"),
];

const RESOURCE: &[Key] = &[
    Key::value("name", "unique in the robot: letters, digits, - and _"),
    Key::value("api", "like \"rdk:component:motor\""),
    Key::value(
        "type",
        "short for api: \"motor\" means \"rdk:component:motor\"",
    ),
    Key::value(
        "namespace",
        "with type: the API's namespace (default \"rdk\")",
    ),
    Key::value(
        "model",
        "\"fake\", \"builtin\", or a module's \"namespace:family:name\"",
    ),
    Key::of(
        "attributes",
        "the model's settings (below; a module's model checks its own)",
        Shape::Attributes,
    ),
    Key::value("depends_on", "names of resources to build first"),
    Key::of(
        "service_configs",
        "what this resource asks of a service",
        Shape::List(SERVICE_CONFIG),
    ),
    Key::ignored("frame", "upstream's"),
    Key::ignored("log_configuration", "upstream's"),
];

const SERVICE_CONFIG: &[Key] = &[
    Key::value("type", "\"data_manager\""),
    Key::of(
        "attributes",
        "for the data manager",
        Shape::Object(&[Key::of(
            "capture_methods",
            "methods of this resource to capture",
            Shape::List(CAPTURE_METHOD),
        )]),
    ),
];

const CAPTURE_METHOD: &[Key] = &[
    Key::value(
        "name",
        "the resource, like \"rdk:component:motor/left\" (implied under service_configs)",
    ),
    Key::value(
        "method",
        "a method of its API, like \"Position\" or \"Readings\"",
    ),
    Key::value("capture_frequency_hz", "captures per second"),
    Key::value("disabled", "true: not captured"),
    Key::of("additional_params", "the method's parameters", Shape::Free),
    Key::ignored("tags", "upstream's"),
    Key::ignored("cache_size_kb", "upstream's"),
];

const MODULE: &[Key] = &[
    Key::value("name", "unique among modules; tags its logs"),
    Key::value(
        "executable_path",
        "its program, relative to the config file or absolute",
    ),
    Key::value("type", "\"local\""),
    Key::of("env", "added to its environment", Shape::Free),
    Key::value("log_level", "passed as --log-level"),
    Key::value("startup_timeout", "from start to Ready (default \"60s\")"),
    Key::value(
        "call_timeout",
        "a forwarded call that is not a motion (default \"10s\")",
    ),
    Key::ignored("module_id", "upstream's"),
    Key::ignored("version", "upstream's"),
];

const REMOTE: &[Key] = &[
    Key::value(
        "name",
        "unique among remotes; its resources are served as <name>:<resource>",
    ),
    Key::value("address", "host:port, or a Unix socket path"),
    Key::value(
        "prefix",
        "replaces <name>: in front of its resources' names",
    ),
    Key::value(
        "connection_check_interval",
        "how often the link is checked (default \"1s\")",
    ),
    Key::value(
        "call_timeout",
        "a forwarded call that is not a motion (default \"10s\")",
    ),
    Key::of(
        "auth",
        "the API key this part presents",
        Shape::Object(&[
            Key::value("entity", "the key id"),
            Key::of(
                "credentials",
                "the secret",
                Shape::Object(&[
                    Key::value("type", "\"api-key\""),
                    Key::value("payload", "the key"),
                ]),
            ),
        ]),
    ),
    Key::value(
        "webrtc",
        "reach it over a peer connection, falling back to gRPC",
    ),
    Key::ignored("frame", "upstream's"),
    Key::ignored("insecure", "upstream's"),
    Key::ignored("managed", "upstream's"),
];

const NETWORK: &[Key] = &[
    Key::value(
        "bind_address",
        "where gRPC, gRPC-web and the page listen (default \"127.0.0.1:8080\")",
    ),
    Key::of(
        "sessions",
        "how long a silent client's machines keep moving",
        Shape::Object(&[
            Key::value(
                "heartbeat_window",
                "a session expires this long after its last heartbeat (default \"2s\", 30ms to 1m)",
            ),
            Key::value(
                "max_sessions",
                "live sessions beyond this are refused (default 65536)",
            ),
        ]),
    ),
    Key::value("tls_cert_file", "PEM certificate chain: serve TLS"),
    Key::value("tls_key_file", "PEM private key"),
    Key::value("fqdn", "the part's name for mDNS and rpc-host"),
    Key::value("mdns", "advertise _rpc._tcp.local (default true)"),
    Key::of(
        "webrtc",
        "peer connections",
        Shape::Object(&[
            Key::value("enabled", "answer WebRTC offers (default true)"),
            Key::of(
                "ice_servers",
                "STUN and TURN servers",
                Shape::List(ICE_SERVER_KEYS),
            ),
        ]),
    ),
    Key::of(
        "signaling",
        "a rendezvous that routes calls for host to this part",
        Shape::Object(&[
            Key::value("address", "the rendezvous, host:port"),
            Key::value("host", "the name clients dial"),
            Key::value("secret", "proves this part may answer host"),
            Key::value("insecure", "h2c to the rendezvous instead of TLS"),
        ]),
    ),
    Key::value(
        "cors_origins",
        "browser origins allowed to call beside the page's own",
    ),
    Key::value(
        "shutdown_without_auth",
        "serve RobotService/Shutdown on a robot without API keys (default false)",
    ),
    Key::value(
        "log",
        "the log filter, like \"info,axle_runtime::webrtc=debug\" (AXLE_LOG and --log win)",
    ),
];

/// The data manager's attributes.
pub const DATA_MANAGER: &[Key] = &[
    Key::value(
        "capture_dir",
        "where capture files go (default ~/.viam/capture)",
    ),
    Key::value("tags", "written into every file's metadata"),
    Key::value("capture_disabled", "no collector runs"),
    Key::value(
        "sync_disabled",
        "no scheduled sync; the Sync call still runs one",
    ),
    Key::value("sync_interval_mins", "minutes between syncs (default 0.1)"),
    Key::value(
        "maximum_capture_file_size_bytes",
        "a capture file past this is closed (default 262144)",
    ),
    Key::value(
        "additional_sync_paths",
        "directories whose files are synced as they are",
    ),
    Key::value(
        "file_last_modified_millis",
        "an arbitrary file is synced once this old (default 10000)",
    ),
    Key::value("maximum_num_sync_threads", "uploads in flight at once"),
    Key::value(
        "capture_dir_quota_bytes",
        "closed files beyond this go, oldest first",
    ),
    Key::value(
        "minimum_free_disk_bytes",
        "closed files go while the disk has less free (default 100 MiB)",
    ),
    Key::value(
        "disk_usage_deletion_threshold",
        "upstream's form of the free floor: a fraction of the disk",
    ),
    Key::of(
        "sync_target",
        "where files go; without it sync is off",
        Shape::Object(&[
            Key::value("url", "s3://bucket/prefix or file:///a/directory"),
            Key::value("endpoint", "an S3 server other than AWS"),
            Key::value("region", "default \"us-east-1\""),
            Key::value("allow_http", "plain HTTP to the endpoint"),
            Key::value("access_key_id", "the access key id"),
            Key::value("secret_access_key", "the secret"),
            Key::value(
                "access_key_id_env",
                "the variable that holds the access key id",
            ),
            Key::value(
                "secret_access_key_env",
                "the variable that holds the secret",
            ),
        ]),
    ),
    Key::of(
        "capture_methods",
        "methods to capture, with full resource names",
        Shape::List(CAPTURE_METHOD),
    ),
    Key::ignored("delete_every_nth_when_disk_full", "upstream's"),
    Key::ignored("capture_dir_deletion_threshold", "upstream's"),
    Key::ignored("selective_syncer_name", "upstream's"),
    Key::ignored("mongo_capture_config", "upstream's"),
    Key::ignored("capture_control_sensor", "upstream's"),
    Key::ignored("delete_data_on_part_deletion", "upstream's"),
];

/// The base remote control's attributes.
pub const REMOTE_CONTROL: &[Key] = &[
    Key::value("base", "the base it drives"),
    Key::value("input_controller", "the controller it listens to"),
    Key::value(
        "control_mode",
        "arrowControl (default), joystickControl, triggerSpeedControl, buttonControl, joyAndTriggerCombined",
    ),
    Key::value(
        "max_linear_mm_per_sec",
        "with max_angular_deg_per_sec: SetVelocity at these speeds",
    ),
    Key::value("max_angular_deg_per_sec", "with max_linear_mm_per_sec"),
    Key::value(
        "deadman_ms",
        "stop a command that has had no fresh event this long",
    ),
];

/// The built-in models and their attributes, in the reference's order.
pub const MODELS: &[(&str, &str, &[Key])] = &[
    ("rdk:component:arm", "fake", FakeArm::ATTRIBUTES),
    ("rdk:component:base", "fake", FakeBase::ATTRIBUTES),
    ("rdk:component:button", "fake", FakeButton::ATTRIBUTES),
    ("rdk:component:camera", "fake", FakeCamera::ATTRIBUTES),
    ("rdk:component:encoder", "fake", FakeEncoder::ATTRIBUTES),
    ("rdk:component:gantry", "fake", FakeGantry::ATTRIBUTES),
    ("rdk:component:generic", "fake", FakeGeneric::ATTRIBUTES),
    ("rdk:component:gripper", "fake", FakeGripper::ATTRIBUTES),
    (
        "rdk:component:input_controller",
        "fake",
        FakeInputController::ATTRIBUTES,
    ),
    ("rdk:component:motor", "fake", FakeMotor::ATTRIBUTES),
    (
        "rdk:component:movement_sensor",
        "fake",
        FakeMovementSensor::ATTRIBUTES,
    ),
    (
        "rdk:component:power_sensor",
        "fake",
        FakePowerSensor::ATTRIBUTES,
    ),
    ("rdk:component:sensor", "fake", FakeSensor::ATTRIBUTES),
    ("rdk:component:servo", "fake", FakeServo::ATTRIBUTES),
    ("rdk:component:switch", "fake", FakeSwitch::ATTRIBUTES),
    ("rdk:service:generic", "fake", FakeGeneric::ATTRIBUTES),
    ("rdk:service:base_remote_control", "builtin", REMOTE_CONTROL),
    ("rdk:service:data_manager", "builtin", DATA_MANAGER),
];

/// The attributes a component or service entry's model declares, if the
/// model is built in.
fn attributes_of(entry: &Map<String, Value>) -> Option<&'static [Key]> {
    let api: Api = super::written_api(entry)?.parse().ok()?;
    let model: Model = entry.get("model")?.as_str()?.parse().ok()?;
    let (api, model) = (api.to_string(), model.to_string());
    MODELS
        .iter()
        .find(|(a, m, _)| *a == api && Model::builtin(m).to_string() == model)
        .map(|(_, _, keys)| *keys)
}

/// The configuration reference in Markdown: the file's keys, then each
/// built-in model's attributes.
#[cfg(test)]
fn reference() -> String {
    let mut out = keys::reference(ROBOT);
    out.push_str("\nAttributes of the built-in models:\n\n");
    for (api, model, attributes) in MODELS {
        out.push_str(&format!("- `{api}` model `{model}`:"));
        if attributes.is_empty() {
            out.push_str(" none\n");
        } else {
            out.push('\n');
            for line in keys::reference(attributes).lines() {
                out.push_str(&format!("  {line}\n"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    const START: &str = "<!-- config reference: generated from runtime/src/config/schema.rs -->\n";
    const END: &str = "<!-- end of config reference -->";

    /// The README's configuration reference is these tables, rendered: a
    /// key cannot be added, renamed or dropped without the README following.
    /// `AXLE_BLESS=1 cargo test -p axle-runtime readme` rewrites it.
    #[test]
    fn the_readme_reference_is_the_schema() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
        let readme = std::fs::read_to_string(&path).expect("README.md");
        let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) else {
            panic!("README.md lacks the reference markers");
        };
        let current = &readme[start + START.len()..end];
        let wanted = super::reference();
        if current != wanted && std::env::var_os("AXLE_BLESS").is_some() {
            let fresh = format!("{}{START}{wanted}{}", &readme[..start], &readme[end..]);
            std::fs::write(&path, fresh).expect("README.md written");
            return;
        }
        assert!(
            current == wanted,
            "README.md's config reference is stale: run AXLE_BLESS=1 cargo test -p axle-runtime readme"
        );
    }
}
