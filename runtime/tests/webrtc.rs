//! WebRTC against a real `axle` process, with the Rust client: calls over
//! the data channel, deadlines and cancellation, and a peer that sends
//! what the protocol does not allow.
//!
//! Run inside a network namespace of its own (`tests/netns.sh`, as
//! `tests/run_all.sh` does): outside one, these tests say so and pass
//! without dialing.

use axle_proto::webrtc::{
    PacketMessage, Request as Frame, RequestHeaders, RequestMessage, Response as Answer, Stream,
    request, response,
};
use axle_sdk_module::client::{Options, RobotClient};
use axle_sdk_module::webrtc::{ClientChannel, dial};
use bytes::Bytes;
use prost::Message;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::transport::Endpoint;

struct Axle {
    child: Child,
    address: String,
    config: std::path::PathBuf,
}

impl Axle {
    fn start(test: &str) -> Self {
        let config =
            std::env::temp_dir().join(format!("axle-webrtc-{}-{test}.json", std::process::id()));
        std::fs::write(
            &config,
            r#"{"network": {"sessions": {"heartbeat_window": "500ms"}, "mdns": false},
               "components": [{"name": "left", "api": "rdk:component:motor", "model": "fake"}]}"#,
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_axle"))
            .args(["--bind", "127.0.0.1:0", "--config"])
            .arg(&config)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let address = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| {
                l.split("listening address=")
                    .nth(1)
                    .map(|a| a.split_whitespace().next().unwrap_or_default().to_owned())
            })
            .expect("axle did not start");
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            address,
            config,
        }
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Axle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

fn in_netns() -> bool {
    let yes = std::env::var("AXLE_NETNS").as_deref() == Ok("1");
    if !yes {
        eprintln!("not in a private network namespace: run with tests/netns.sh; not dialing");
    }
    yes
}

fn webrtc_options() -> Options {
    Options {
        webrtc: true,
        dial_timeout: Duration::from_secs(10),
        ..Options::default()
    }
}

async fn raw_peer(axle: &Axle) -> (ClientChannel, Arc<Mutex<Vec<Answer>>>) {
    let channel = Endpoint::from_shared(format!("http://{}", axle.address))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let peer = dial(channel, &axle.address, Duration::from_secs(10))
        .await
        .unwrap();
    // Replace the client's own reader with one that keeps every answer.
    let answers = Arc::new(Mutex::new(Vec::new()));
    let keep = answers.clone();
    peer.data_channel().on_message(Box::new(move |m| {
        if let Ok(a) = Answer::decode(m.data) {
            keep.lock().unwrap().push(a);
        }
        Box::pin(async {})
    }));
    (peer, answers)
}

async fn send(peer: &ClientChannel, frame: Frame) {
    peer.data_channel()
        .send(&Bytes::from(frame.encode_to_vec()))
        .await
        .unwrap();
}

fn trailers_of(answers: &Mutex<Vec<Answer>>, id: u64) -> Option<(i32, String)> {
    answers
        .lock()
        .unwrap()
        .iter()
        .find_map(|a| match &a.r#type {
            Some(response::Type::Trailers(t)) if a.stream.map_or(0, |s| s.id) == id => {
                let s = t.status.clone().unwrap_or_default();
                Some((s.code, s.message))
            }
            _ => None,
        })
}

fn headers(id: u64, method: &str) -> Frame {
    Frame {
        stream: Some(Stream { id }),
        r#type: Some(request::Type::Headers(RequestHeaders {
            method: method.into(),
            metadata: None,
            timeout: None,
        })),
    }
}

fn packet(id: u64, data: Vec<u8>, eom: bool, eos: bool) -> Frame {
    Frame {
        stream: Some(Stream { id }),
        r#type: Some(request::Type::Message(RequestMessage {
            has_message: true,
            packet_message: Some(PacketMessage { data, eom }),
            eos,
        })),
    }
}

#[tokio::test]
async fn the_rust_client_calls_over_webrtc_with_sessions() {
    if !in_netns() {
        return;
    }
    let axle = Axle::start("client");
    let robot = RobotClient::connect(&axle.address, webrtc_options())
        .await
        .unwrap();
    assert!(robot.is_webrtc());
    let left = robot.motor("left");
    left.set_power(0.5).await.unwrap();
    assert!(robot.session_id().await.is_some());
    assert!(left.is_moving().await.unwrap());
    left.stop().await.unwrap();
    assert!(!left.is_moving().await.unwrap());
}

#[tokio::test]
async fn bad_frames_get_clean_errors_and_other_peers_are_untouched() {
    if !in_netns() {
        return;
    }
    let mut axle = Axle::start("bad");
    let bystander = RobotClient::connect(&axle.address, webrtc_options())
        .await
        .unwrap();
    assert!(bystander.is_webrtc());
    bystander.motor("left").set_power(0.3).await.unwrap();

    let (peer, answers) = raw_peer(&axle).await;
    // A message for a stream that never sent headers.
    send(&peer, packet(999, vec![], true, true)).await;
    wait_until("an answer on stream 999", || {
        std::future::ready(trailers_of(&answers, 999).is_some())
    })
    .await;
    let (code, message) = trailers_of(&answers, 999).unwrap();
    assert_eq!(code, tonic::Code::InvalidArgument as i32, "{message}");
    // An unknown method.
    send(&peer, headers(1, "/no.Such/Method")).await;
    send(&peer, packet(1, vec![], true, true)).await;
    wait_until("an answer on stream 1", || {
        std::future::ready(trailers_of(&answers, 1).is_some())
    })
    .await;
    assert_eq!(
        trailers_of(&answers, 1).unwrap().0,
        tonic::Code::Unimplemented as i32
    );
    // A message beyond the 32 MiB limit, in packets that each fit.
    send(
        &peer,
        headers(2, "/viam.component.motor.v1.MotorService/DoCommand"),
    )
    .await;
    let chunk = vec![0u8; 65_000];
    for _ in 0..(33 << 20) / chunk.len() {
        if trailers_of(&answers, 2).is_some() {
            break;
        }
        send(&peer, packet(2, chunk.clone(), false, false)).await;
    }
    wait_until("an answer on stream 2", || {
        std::future::ready(trailers_of(&answers, 2).is_some())
    })
    .await;
    assert_eq!(
        trailers_of(&answers, 2).unwrap().0,
        tonic::Code::ResourceExhausted as i32
    );
    assert!(
        !peer.is_closed(),
        "protocol errors on one stream keep the connection"
    );

    // A data-channel message over 65,535 bytes: the far side cannot read it.
    let oversize = peer
        .data_channel()
        .send(&Bytes::from(vec![1u8; 70_000]))
        .await;
    eprintln!("a 70,000-byte data-channel message: {oversize:?}");
    if oversize.is_ok() {
        wait_until("the peer to be closed", || {
            std::future::ready(peer.is_closed())
        })
        .await;
    }
    // Garbage: not a frame at all. The connection is closed.
    let (garbage, _) = raw_peer(&axle).await;
    garbage
        .data_channel()
        .send(&Bytes::from_static(b"\xff\xff\xff not a frame"))
        .await
        .unwrap();
    wait_until("the garbage peer to be closed", || {
        std::future::ready(garbage.is_closed())
    })
    .await;

    assert!(axle.alive());
    let left = bystander.motor("left");
    assert!(
        left.is_moving().await.unwrap(),
        "the bystander's motor kept running"
    );
    left.stop().await.unwrap();
}

#[tokio::test]
async fn a_cancelled_or_expired_motion_over_webrtc_is_stopped() {
    if !in_netns() {
        return;
    }
    let axle = Axle::start("cancel");
    let robot = RobotClient::connect(&axle.address, webrtc_options())
        .await
        .unwrap();
    let left = robot.motor("left");
    // The call is dropped by its caller: the client resets the stream.
    let going = tokio::time::timeout(Duration::from_millis(300), left.go_for(60.0, 1000.0)).await;
    assert!(going.is_err(), "a GoFor of 1000 revolutions takes 1000 s");
    wait_until("the motor to stop", || async {
        !left.is_moving().await.unwrap()
    })
    .await;

    // grpc-timeout: the deadline ends the call and its motion.
    let mut request = tonic::Request::new(axle_proto::motor::GoForRequest {
        name: "left".into(),
        rpm: 60.0,
        revolutions: 1000.0,
        extra: None,
    });
    request.set_timeout(Duration::from_millis(200));
    let status = axle_proto::motor::motor_service_client::MotorServiceClient::new(robot.channel())
        .go_for(request)
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status}");
    wait_until("the motor to stop", || async {
        !left.is_moving().await.unwrap()
    })
    .await;
}

async fn wait_until<F, Fut>(what: &str, mut ok: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    while !ok().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
