//! The Rust `RobotClient` against a real `axle` process: sessions start
//! lazily, heartbeats keep them alive, an expired session is replaced, and
//! a client that goes away leaves nothing running.

use axle_proto::robot::GetSessionsRequest;
use axle_sdk_module::client::{Options, RobotClient};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_millis(300);

/// A running axle on a Unix socket in a private directory; killed and
/// reaped on drop.
struct Axle {
    child: Child,
    dir: PathBuf,
}

impl Axle {
    fn start(dir: &Path) -> Self {
        let _ = std::fs::create_dir_all(dir);
        let config = dir.join("robot.json");
        std::fs::write(
            &config,
            r#"{"network": {"sessions": {"heartbeat_window": "300ms"}},
               "components": [
                 {"name": "left", "api": "rdk:component:motor", "model": "fake"},
                 {"name": "right", "api": "rdk:component:motor", "model": "fake"}]}"#,
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_axle"))
            .args(["--bind", "127.0.0.1:0", "--socket"])
            .arg(dir.join("axle.sock"))
            .arg("--config")
            .arg(&config)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        for line in lines.by_ref() {
            if line.unwrap().contains("listening") {
                break;
            }
        }
        // Keep draining the log so axle never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            dir: dir.into(),
        }
    }

    fn socket(&self) -> String {
        self.dir.join("axle.sock").display().to_string()
    }
}

impl Drop for Axle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn workdir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("axle-it-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

async fn client(axle: &Axle, disable_sessions: bool) -> RobotClient {
    let options = Options {
        disable_sessions,
        ..Options::default()
    };
    RobotClient::connect(&axle.socket(), options).await.unwrap()
}

async fn live_sessions(observer: &RobotClient) -> usize {
    let r = observer.robot().get_sessions(GetSessionsRequest {}).await;
    r.unwrap().into_inner().sessions.len()
}

#[tokio::test]
async fn a_session_starts_on_the_first_monitored_call_and_heartbeats_keep_it() {
    let axle = Axle::start(&workdir("lazy"));
    let robot = client(&axle, false).await;
    let left = robot.motor("left");
    assert!(!left.is_moving().await.unwrap());
    assert_eq!(robot.session_id().await, None, "reads start no session");
    left.set_power(0.5).await.unwrap();
    let id = robot.session_id().await.expect("a session");
    tokio::time::sleep(WINDOW * 4).await;
    assert!(
        left.is_moving().await.unwrap(),
        "heartbeats kept the session"
    );
    assert_eq!(robot.session_id().await, Some(id));
    assert_eq!(live_sessions(&robot).await, 1);
}

#[tokio::test]
async fn a_dropped_client_leaves_nothing_running() {
    let axle = Axle::start(&workdir("drop"));
    let observer = client(&axle, true).await;
    let robot = client(&axle, false).await;
    robot.motor("left").set_power(0.5).await.unwrap();
    drop(robot);
    let dropped = Instant::now();
    while observer.motor("left").is_moving().await.unwrap() {
        assert!(dropped.elapsed() < WINDOW + Duration::from_millis(100));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn disable_sessions_opts_out() {
    let axle = Axle::start(&workdir("optout"));
    let robot = client(&axle, true).await;
    robot.motor("left").set_power(0.5).await.unwrap();
    assert_eq!(robot.session_id().await, None);
    assert_eq!(live_sessions(&robot).await, 0);
    let observer = client(&axle, true).await;
    drop(robot);
    tokio::time::sleep(WINDOW * 2).await;
    assert!(observer.motor("left").is_moving().await.unwrap());
}

#[test]
fn a_call_under_an_expired_session_is_retried_once_under_a_new_one() {
    let axle = Axle::start(&workdir("retry"));
    // One thread: blocking it freezes the heartbeats, like a stopped process.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let robot = client(&axle, false).await;
        let left = robot.motor("left");
        left.set_power(0.5).await.unwrap();
        let first = robot.session_id().await.unwrap();
        std::thread::sleep(WINDOW * 2);
        // The session expired meanwhile and the motor stopped; the next call
        // is answered SESSION_EXPIRED, then succeeds under a new session.
        left.set_power(0.25).await.unwrap();
        let second = robot.session_id().await.unwrap();
        assert_ne!(first, second);
        assert_eq!(left.is_powered().await.unwrap(), (true, 0.25));
    });
}

#[tokio::test]
async fn after_a_robot_restart_the_next_call_starts_a_new_session() {
    let dir = workdir("restart");
    let axle = Axle::start(&dir);
    let robot = client(&axle, false).await;
    robot.motor("left").set_power(0.5).await.unwrap();
    let first = robot.session_id().await.unwrap();
    drop(axle);
    let axle = Axle::start(&dir);
    // The heartbeat fails against the new process and drops the session.
    tokio::time::sleep(WINDOW).await;
    assert_eq!(robot.session_id().await, None);
    robot.motor("left").set_power(0.5).await.unwrap();
    let second = robot.session_id().await.unwrap();
    assert_ne!(first, second);
    assert_eq!(live_sessions(&client(&axle, true).await).await, 1);
}

#[tokio::test]
async fn heartbeats_that_arrived_while_axle_was_frozen_keep_their_session() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let axle = Axle::start(&workdir("frozen"));
    let observer = client(&axle, true).await;
    let robot = client(&axle, false).await;
    let gone = client(&axle, false).await;
    robot.motor("left").set_power(0.5).await.unwrap();
    gone.motor("right").set_power(0.5).await.unwrap();
    let id = robot.session_id().await.unwrap();
    drop(gone);
    // Frozen for three windows, axle reads nothing; `robot`'s heartbeats
    // wait in its socket buffer. They arrived in time, so they count.
    let pid = Pid::from_raw(axle.child.id() as i32);
    kill(pid, Signal::SIGSTOP).unwrap();
    tokio::time::sleep(WINDOW * 3).await;
    kill(pid, Signal::SIGCONT).unwrap();
    tokio::time::sleep(WINDOW / 2).await;
    assert!(
        observer.motor("left").is_moving().await.unwrap(),
        "a session whose heartbeats arrived in time was expired"
    );
    assert_eq!(robot.session_id().await, Some(id), "the same session");
    assert!(
        !observer.motor("right").is_moving().await.unwrap(),
        "nothing heartbeated the dropped client's session: it expired"
    );
}
