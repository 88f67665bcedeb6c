//! A module's life through the library's entry point, [`Runtime`], with a
//! real module process (`modules/fakes`) and a real client: added,
//! reconfigured and removed by live edits of the config file, then shut
//! down and reaped.

use axle_proto::common::DoCommandRequest;
use axle_proto::motor::motor_service_client::MotorServiceClient;
use axle_runtime::config::RobotConfig;
use axle_runtime::{Options as RuntimeOptions, Runtime};
use axle_sdk_module::client::{Options, RobotClient};
use axle_sdk_module::grpc::convert::{from_struct, to_struct};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tonic::Code;

/// A module binary of this workspace, built if the test run has not yet.
fn module_binary(name: &str, package: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_BIN_EXE_axle"))
        .parent()
        .expect("target dir")
        .to_path_buf();
    let exe = dir.join(name);
    if !exe.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "-q", "-p", package])
            .status()
            .expect("run cargo");
        assert!(status.success(), "cannot build {package}");
    }
    exe
}

async fn max_rpm(client: &RobotClient) -> f64 {
    let command = serde_json::json!({"get_state": null});
    let req = DoCommandRequest {
        name: "m".into(),
        command: Some(to_struct(command.as_object().cloned().unwrap_or_default())),
    };
    let answer = MotorServiceClient::new(client.channel())
        .do_command(req)
        .await
        .expect("DoCommand")
        .into_inner();
    let state = from_struct(answer.result);
    state["get_state"]["max_rpm"]
        .as_f64()
        .expect("max_rpm in get_state")
}

/// The config's text: the module, and its motor unless `max_rpm` is `None`.
fn config_text(exe: &Path, max_rpm: Option<u32>) -> String {
    let motor = max_rpm.map(|rpm| {
        format!(
            r#"{{"name": "m", "api": "rdk:component:motor", "model": "axle:fake:motor",
                 "attributes": {{"max_rpm": {rpm}}}}}"#
        )
    });
    format!(
        r#"{{"modules": [{{"name": "lifecycle-test", "executable_path": "{}"}}],
            "components": [{}]}}"#,
        exe.display(),
        motor.unwrap_or_default()
    )
}

/// Polls `check` until it holds, for at most 10 s.
async fn eventually<F: AsyncFnMut() -> bool>(what: &str, mut check: F) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The pids of this process's children running `name`.
fn children_named(name: &str) -> Vec<u32> {
    let me = std::process::id().to_string();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let (comm, rest) = stat.split_once(") ")?;
            let parent = rest.split_whitespace().nth(1)?;
            (comm.ends_with(&format!("({name}")) && parent == me).then_some(pid)
        })
        .collect()
}

#[actix::test]
async fn a_modular_motor_is_added_reconfigured_removed_and_its_module_reaped() {
    let exe = module_binary("fakes", "axle-fakes");
    let dir = std::env::temp_dir().join(format!("axle-lifecycle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("test dir");
    let path = dir.join("robot.json");
    let text = config_text(&exe, Some(60));
    std::fs::write(&path, &text).expect("write config");
    let config = RobotConfig::parse(&text, "test").expect("config");
    let options = RuntimeOptions {
        config_path: Some(path.clone()),
        bind: Some("127.0.0.1:0".into()),
        socket: None,
    };
    let runtime = Runtime::start(config, text.into_bytes(), options)
        .await
        .expect("the robot starts");
    let options = Options {
        disable_sessions: true,
        ..Options::default()
    };
    let client = RobotClient::connect(&runtime.address().to_string(), options)
        .await
        .expect("connect");
    let motor = client.motor("m");
    motor.set_power(0.5).await.expect("set_power");
    assert_eq!(motor.is_powered().await.expect("is_powered"), (true, 0.5));
    assert_eq!(max_rpm(&client).await, 60.0);
    let module = children_named("fakes");
    assert_eq!(module.len(), 1, "one module process: {module:?}");

    // A live edit: the module rebuilds the motor with the new attributes.
    std::fs::write(&path, config_text(&exe, Some(120))).expect("edit config");
    eventually("the reconfigure", async || max_rpm(&client).await == 120.0).await;

    // The motor leaves the config: it is gone, not merely unreachable.
    std::fs::write(&path, config_text(&exe, None)).expect("edit config");
    eventually("the removal", async || {
        motor
            .is_moving()
            .await
            .is_err_and(|e| e.code() == Code::NotFound)
    })
    .await;

    runtime.shutdown("test over").await;
    for pid in module {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "the module's process is gone and reaped"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
