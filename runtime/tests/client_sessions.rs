//! The Rust `RobotClient` against a real `axle` process: sessions start
//! lazily, heartbeats keep them alive, an expired session is replaced, and
//! a client that goes away leaves nothing running.

use axle_proto::robot::GetSessionsRequest;
use axle_sdk_module::client::{Options, RobotClient};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_millis(300);

/// A running axle on a Unix socket in a private directory; killed and
/// reaped on drop.
struct Axle {
    child: Child,
    dir: PathBuf,
    /// Its TCP listener's address.
    tcp: String,
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
        let tcp = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                let fields = line.split_once("listening ")?.1;
                let address = fields.split("address=").nth(1)?;
                Some(address.split_whitespace().next()?.to_owned())
            })
            .expect("axle logs its address");
        // Keep draining the log so axle never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            dir: dir.into(),
            tcp,
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

/// A TCP proxy that can cut every connection through it at once, as a
/// Wi-Fi blip or a NAT rebinding would.
struct Blips {
    address: String,
    open: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Blips {
    async fn to(upstream: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let open: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let tracked = open.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tracked.lock().unwrap().push(relay.abort_handle());
            }
        });
        Self { address, open }
    }

    /// Closes every connection through the proxy.
    fn cut(&self) {
        for relay in self.open.lock().unwrap().drain(..) {
            relay.abort();
        }
    }
}

#[tokio::test]
async fn connection_blips_shorter_than_the_window_keep_the_session_and_the_motor() {
    let axle = Axle::start(&workdir("blips"));
    let observer = client(&axle, true).await;
    let blips = Blips::to(axle.tcp.clone()).await;
    let robot = RobotClient::connect(&blips.address, Options::default())
        .await
        .unwrap();
    robot.motor("left").set_power(0.5).await.unwrap();
    let id = robot.session_id().await.unwrap();
    // Three windows, the connection cut every half window: heartbeats in
    // flight are lost, and the next ones go over a new connection.
    for _ in 0..6 {
        blips.cut();
        tokio::time::sleep(WINDOW / 2).await;
    }
    assert!(
        observer.motor("left").is_moving().await.unwrap(),
        "a client whose connection blipped lost its session"
    );
    assert_eq!(robot.session_id().await, Some(id), "the same session");
    assert_eq!(live_sessions(&observer).await, 1);
}
