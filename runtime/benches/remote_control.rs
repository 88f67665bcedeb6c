//! Remote control: how long from a client's TriggerEvent to the base moving,
//! against a direct SetPower from the same client (the baseline, same run);
//! and how long each safety path takes to stop the base: the owner's
//! connection closing, its session expiring (window 500 ms), the deadman
//! (300 ms).
//!
//! Run: `cargo bench -p axle-runtime --bench remote_control`

mod bench_support;

use axle_proto::base::base_service_client::BaseServiceClient;
use axle_proto::base::{IsMovingRequest, SetPowerRequest};
use axle_proto::common::Vector3;
use axle_proto::inputcontroller::input_controller_service_client::InputControllerServiceClient;
use axle_proto::inputcontroller::{Event, TriggerEventRequest};
use axle_proto::robot::StartSessionRequest;
use axle_proto::robot::robot_service_client::RobotServiceClient;
use bench_support::{bench_dir, client_runtime, median, percentile, start_axle_tcp, tcp_channel};
use std::time::{Duration, Instant, SystemTime};
use tonic::transport::Channel;

const ROUNDS: usize = 200;
const STOPS: usize = 15;

fn config(extra: &str) -> String {
    format!(
        r#"{{"components": [
            {{"name": "base", "api": "rdk:component:base", "model": "fake"}},
            {{"name": "pad", "api": "rdk:component:input_controller", "model": "fake",
              "attributes": {{"controls": ["AbsoluteX", "AbsoluteY"]}}}}],
          "services": [{{"name": "rc", "api": "rdk:service:base_remote_control", "model": "builtin",
              "attributes": {{"base": "base", "input_controller": "pad", "control_mode": "joystickControl"{extra}}}}}],
          "network": {{"sessions": {{"heartbeat_window": "500ms"}}}}}}"#
    )
}

fn trigger(y: f64) -> TriggerEventRequest {
    TriggerEventRequest {
        controller: "pad".into(),
        event: Some(Event {
            time: Some(prost_types::Timestamp::from(SystemTime::now())),
            event: "PositionChangeAbs".into(),
            control: "AbsoluteY".into(),
            value: y,
        }),
        extra: None,
    }
}

async fn moving(base: &mut BaseServiceClient<Channel>) -> bool {
    let r = base
        .is_moving(IsMovingRequest {
            name: "base".into(),
        })
        .await;
    r.map(|r| r.into_inner().is_moving).unwrap_or(false)
}

async fn until(base: &mut BaseServiceClient<Channel>, want: bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while moving(base).await != want {
        assert!(
            Instant::now() < deadline,
            "the base never reached moving={want}"
        );
    }
}

fn power(y: f64) -> SetPowerRequest {
    SetPowerRequest {
        name: "base".into(),
        linear: Some(Vector3 { x: 0.0, y, z: 0.0 }),
        angular: Some(Vector3::default()),
        extra: None,
    }
}

/// Milliseconds from each command to the base's state changing, as one
/// client sees it (the command, then IsMoving until it agrees).
async fn latencies(address: &str) -> (Vec<f64>, Vec<f64>) {
    let channel = tcp_channel(address).await;
    let mut pad = InputControllerServiceClient::new(channel.clone());
    let mut base = BaseServiceClient::new(channel);
    let (mut direct, mut event) = (Vec::new(), Vec::new());
    for i in 0..ROUNDS {
        let y = if i % 2 == 0 { -1.0 } else { 0.0 };
        let t = Instant::now();
        base.set_power(power(-y)).await.expect("SetPower");
        until(&mut base, y != 0.0).await;
        direct.push(t.elapsed().as_secs_f64() * 1e3);
        base.stop(axle_proto::base::StopRequest {
            name: "base".into(),
            extra: None,
        })
        .await
        .expect("Stop");
        let t = Instant::now();
        pad.trigger_event(trigger(y)).await.expect("TriggerEvent");
        until(&mut base, y != 0.0).await;
        event.push(t.elapsed().as_secs_f64() * 1e3);
    }
    (direct, event)
}

/// Milliseconds from the owner's last act (`start`'s return) to the base
/// stopping, `STOPS` times.
async fn stops<F, Fut>(address: &str, mut start: F) -> Vec<f64>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Instant>,
{
    let mut base = BaseServiceClient::new(tcp_channel(address).await);
    let mut out = Vec::new();
    for _ in 0..STOPS {
        let t = start(address.to_string()).await;
        until(&mut base, false).await;
        out.push(t.elapsed().as_secs_f64() * 1e3);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    out
}

fn row(what: &str, v: &[f64], base: f64) {
    println!(
        "| {what} | {:.2} | {:.2} | {:.2}× |",
        median(v),
        percentile(v, 90.0),
        median(v) / base
    );
}

fn main() {
    let cleanup = bench_dir("remote-control");
    let dir = cleanup.0.clone();
    let (_plain, plain) = start_axle_tcp(&dir, "plain", &config(""));
    let (_deadman, deadman) = start_axle_tcp(&dir, "deadman", &config(r#", "deadman_ms": 300"#));
    let rt = client_runtime();
    rt.block_on(async {
        let (direct, event) = latencies(&plain).await;
        println!("Remote control ({ROUNDS} rounds; each: the command, then IsMoving until the base agrees):");
        println!("| path | p50 ms | p90 ms | p50 / direct |");
        println!("| --- | ---: | ---: | ---: |");
        let base = median(&direct);
        row("direct SetPower (baseline)", &direct, base);
        row("TriggerEvent → remote control → base", &event, base);

        let closed = stops(&plain, |a| async move {
            let channel = tcp_channel(&a).await;
            let mut pad = InputControllerServiceClient::new(channel);
            pad.trigger_event(trigger(-1.0)).await.expect("TriggerEvent");
            drop(pad);
            Instant::now()
        })
        .await;
        let expired = stops(&plain, |a| async move {
            let channel = tcp_channel(&a).await;
            let sid = RobotServiceClient::new(channel.clone())
                .start_session(StartSessionRequest::default())
                .await
                .expect("StartSession")
                .into_inner()
                .id;
            let mut req = tonic::Request::new(trigger(-1.0));
            req.metadata_mut().insert("viam-sid", sid.parse().expect("sid"));
            InputControllerServiceClient::new(channel.clone())
                .trigger_event(req)
                .await
                .expect("TriggerEvent");
            // The connection stays open and silent; the session runs out.
            let t = Instant::now();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(2)).await;
                drop(channel);
            });
            t
        })
        .await;
        let silent = stops(&deadman, |a| async move {
            let channel = tcp_channel(&a).await;
            InputControllerServiceClient::new(channel.clone())
                .trigger_event(trigger(-1.0))
                .await
                .expect("TriggerEvent");
            let t = Instant::now();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(2)).await;
                drop(channel);
            });
            t
        })
        .await;
        println!("\nStop latency, from the owner's last act to the base stopped ({STOPS} each):");
        println!("| path | bound | median ms | max ms |");
        println!("| --- | --- | ---: | ---: |");
        let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
        for (what, bound, v) in [
            ("connection closed", "100 ms", &closed),
            ("session expired (window 500 ms)", "600 ms", &expired),
            ("deadman 300 ms", "400 ms", &silent),
        ] {
            println!("| {what} | {bound} | {:.0} | {:.0} |", median(v), max(v));
        }
    });
}
