//! A module's life at the library level, with a real module process
//! (`modules/fakes`) and a real client on the parent socket: add,
//! reconfigure, remove, shut down and reap.

use axle_proto::common::DoCommandRequest;
use axle_proto::motor::motor_service_client::MotorServiceClient;
use axle_runtime::config::{RobotConfig, SessionsConfig};
use axle_runtime::grpc::{self, Listeners, Served};
use axle_runtime::modules::{Directory, Modules, SocketDir};
use axle_runtime::reconfigure::ConfigState;
use axle_runtime::registry::Registry;
use axle_runtime::robot::Robot;
use axle_runtime::sessions::Sessions;
use axle_sdk_module::client::{Options, RobotClient};
use axle_sdk_module::grpc::convert::{from_struct, to_struct};
use axle_wire::auth::Gate;
use std::path::PathBuf;
use std::sync::Arc;
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

fn config(exe: &std::path::Path, max_rpm: u32) -> RobotConfig {
    let text = format!(
        r#"{{"modules": [{{"name": "lifecycle-test", "executable_path": "{}"}}],
            "components": [{{"name": "m", "api": "rdk:component:motor", "model": "axle:fake:motor",
                             "attributes": {{"max_rpm": {max_rpm}}}}}]}}"#,
        exe.display()
    );
    RobotConfig::parse(&text, "test").expect("config")
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

#[actix::test]
async fn a_modular_motor_is_added_reconfigured_removed_and_its_module_reaped() {
    let exe = module_binary("fakes", "axle-fakes");
    let sockets = SocketDir::create().expect("socket dir");
    let served = Served {
        robot: Arc::new(Robot::default()),
        sessions: Sessions::start(SessionsConfig::default()).expect("supervisor"),
        modules: Arc::new(Directory::default()),
        config: Arc::new(ConfigState::default()),
        auth: None,
        signaling: None,
        uplink: Default::default(),
        keepalive: std::time::Duration::from_secs(1),
        origins: Default::default(),
    };
    let parent = sockets.parent_socket();
    let listener = tokio::net::UnixListener::bind(&parent).expect("bind parent socket");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut stopped = stopped;
    let server = tokio::spawn(grpc::serve(
        served.clone(),
        Listeners {
            tcp: None,
            tls: None,
            unix: vec![(listener, parent.clone())],
            gate: Gate::Modules,
        },
        async move {
            let _ = stopped.wait_for(|s| *s).await;
        },
    ));

    let first = config(&exe, 60);
    let mut modules = Modules::new(
        sockets.clone(),
        served.robot.clone(),
        served.modules.clone(),
    );
    let configs: Vec<_> = first.modules.iter().flatten().cloned().collect();
    modules.start(&configs).await;
    axle_runtime::builder::build_config(&first, &Registry::builtin(), &modules, &served.robot)
        .await;
    let options = Options {
        disable_sessions: true,
        ..Options::default()
    };
    let client = RobotClient::connect(parent.to_str().expect("utf-8 path"), options)
        .await
        .expect("connect");
    let motor = client.motor("m");
    motor.set_power(0.5).await.expect("set_power");
    assert_eq!(motor.is_powered().await.expect("is_powered"), (true, 0.5));
    assert_eq!(max_rpm(&client).await, 60.0);

    // Reconfigure: the module rebuilds the motor with the new attributes.
    let second = config(&exe, 120);
    let c = second.components[0].as_ref().expect("component");
    modules
        .reconfigure(c, Vec::new())
        .await
        .expect("reconfigure");
    assert_eq!(max_rpm(&client).await, 120.0);

    // Remove: the proxy answers UNAVAILABLE from then on.
    modules.remove(c).await.expect("remove");
    let gone = motor.is_moving().await.expect_err("removed");
    assert_eq!(gone.code(), Code::Unavailable, "{gone:?}");

    let (_, info) = served
        .modules
        .all()
        .into_iter()
        .next()
        .expect("module status");
    let pid = info.pid.expect("module pid");
    modules.shutdown().await;
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the module's process is gone and reaped"
    );
    let _ = stop.send(true);
    let _ = server.await;
}
